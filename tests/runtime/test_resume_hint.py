"""A failed job's line says what it left and the command that finishes it, for each way it fails."""

import pytest

from platform_assets.layers import Layer
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport
from platform_assets.runtime.source_job import SourceJob, resume_hint
from platform_assets.settings import load_settings

RAW, WAREHOUSE = Layer.RAW, Layer.WAREHOUSE
SPAN = "--partition 2013-01-01 --to 2013-01-05"


@pytest.mark.parametrize(
    ("command", "layers", "written", "hint"),
    [
        ("push", (RAW, WAREHOUSE), {}, None),  # nothing written: the same command retries
        ("push", (RAW,), {}, None),
        (
            "push",
            (RAW, WAREHOUSE),
            {RAW: 2},
            "2 of 5 partitions published (2013-01-01..2013-01-02), none loaded; to resume:"
            " {push} --partition 2013-01-03 --to 2013-01-05,"
            " then {load} --partition 2013-01-01 --to 2013-01-02",
        ),
        (
            "push",
            (RAW,),
            {RAW: 2},
            "2 of 5 partitions published (2013-01-01..2013-01-02); to resume:"
            " {push} --partition 2013-01-03 --to 2013-01-05 --no-load",
        ),
        (
            "push",
            (RAW, WAREHOUSE),
            {RAW: 5},
            f"all 5 partitions are in the lake, none loaded; to resume: {{load}} {SPAN}",
        ),
        (  # threads published the 5th while the 3rd failed
            "push",
            (RAW, WAREHOUSE),
            {RAW: (0, 1, 4)},
            "3 of 5 partitions published (2013-01-01..2013-01-02, 2013-01-05), none loaded;"
            " to resume: {push} --partition 2013-01-03 --to 2013-01-05,"
            " then {load} --partition 2013-01-01 --to 2013-01-02",
        ),
        (
            "push",
            (RAW, WAREHOUSE),
            {RAW: (1,)},
            f"1 of 5 partitions published (2013-01-02), none loaded; to resume: {{push}} {SPAN}",
        ),
        # the checks, the lease's release or the old files' removal failed after the writes:
        # their own line says what
        ("push", (RAW, WAREHOUSE), {RAW: 5, WAREHOUSE: 5}, None),
        ("push", (RAW,), {RAW: 5}, None),
        ("load", (WAREHOUSE,), {}, None),
        ("check", (), {}, None),
    ],
)
def test_the_hint_names_what_is_left_and_what_finishes_it(command, layers, written, hint):
    source = load_settings({}).catalog.source("flights")
    periods = source.periods("2013-01-01", "2013-01-05")
    report = RunReport(
        command,
        "flights",
        periods,
        [
            Materialization(
                layer, "x", tuple(PartitionResult(p.key, 1, 1, 1) for p in some), "f", 0
            )
            for layer, chosen in written.items()
            for some in [
                [periods[i] for i in chosen] if isinstance(chosen, tuple) else periods[:chosen]
            ]
        ],
    )
    job = SourceJob(command, source, periods, layers, [], "run")
    commands = {c: f"python main.py {c} --source flights" for c in ("push", "load", "check")}
    assert resume_hint(job, report) == (hint and hint.format(**commands))
