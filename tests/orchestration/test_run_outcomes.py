"""A run Dagster did not start leaves its report, a failed one too: the sensor records its outcome
as the run_succeeded check, and executing the check judges the newest report the same way."""

import dagster as dg

from platform_assets.orchestration.run_outcomes import run_outcome_checks
from platform_assets.orchestration.sensors import reports_sensor

RAW = dg.AssetKey(["raw", "flights"])


def run_succeeded(settings) -> dg.AssetChecksDefinition:
    [check] = [
        c for c in run_outcome_checks(settings) if RAW in {k.asset_key for k in c.check_keys}
    ]
    return check


def test_a_failed_run_by_hand_is_a_failed_check_naming_how_to_resume(settings, home, run_main):
    assert run_succeeded(settings)().passed  # no run outside Dagster yet
    drop = home / "landing/flights/2013/04/flights_2013-04-05.csv"
    good = drop.read_text()
    drop.write_text(good + "2013,4,5,not,a,row\n")

    failed = run_main(
        "push", "--source", "flights", "--partition", "2013-04-01", "--to", "2013-04-05"
    )

    assert failed.returncode == 1
    line = failed.stderr.strip().splitlines()[-1]
    assert line.startswith("main.py: failed: source flights partition 2013-04-05: file://")
    assert line.endswith(  # the last day fails: the four before it are published, whatever ran
        "expected 19 columns, got 6; 4 of 5 partitions published (2013-04-01..2013-04-04), none"
        " loaded; to resume: python main.py push --source flights --partition 2013-04-05,"
        " then python main.py load --source flights --partition 2013-04-01 --to 2013-04-04"
    )
    verdict = run_succeeded(settings)()
    assert not verdict.passed
    cause = line.removeprefix("main.py: failed: ")
    assert verdict.description == f"push partitions 2013-04-01..2013-04-05 failed: {cause}"
    with dg.instance_for_test() as instance:
        tick = reports_sensor(settings).evaluate_tick(dg.build_sensor_context(instance=instance))
    recorded = {
        (type(event).__name__, getattr(event, "partition", None) or event.check_name)
        for event in tick.asset_events
    }
    assert recorded == {
        *(("AssetMaterialization", f"2013-04-0{day}") for day in range(1, 5)),
        ("AssetCheckEvaluation", "run_succeeded"),
    }

    drop.write_text(good)
    resumed = run_main("push", "--source", "flights", "--partition", "2013-04-05")
    assert resumed.returncode == 0, resumed.stderr
    assert run_succeeded(settings)().passed
