"""`main.py status`: a line per partition up to 31 of them, else a line per month (saying which
partitions the lake or the warehouse lacks) unless --every; the total line either way."""

import datetime as dt

QUARTER = ("--partition", "2013-01-01", "--to", "2013-03-31")


def test_a_quarter_prints_by_month_and_every_partition_with_every(run_main, flights_per_day):
    assert (
        run_main(
            "push", "--source", "flights", "--partition", "2013-01-30", "--to", "2013-02-01"
        ).returncode
        == 0
    )
    assert (
        run_main("push", "--source", "flights", "--partition", "2013-02-02", "--no-load").returncode
        == 0
    )
    day = {f"{d:%m-%d}": f"{flights_per_day[d]:,}" for d in flights_per_day if d.month < 3}
    january = flights_per_day[dt.date(2013, 1, 30)] + flights_per_day[dt.date(2013, 1, 31)]
    february = flights_per_day[dt.date(2013, 2, 1)]
    pushed = february + flights_per_day[dt.date(2013, 2, 2)]

    grouped = run_main("status", "--source", "flights", *QUARTER)
    assert grouped.returncode == 0, grouped.stderr
    assert grouped.stdout.splitlines() == [
        "month           lake rows  warehouse rows  (by month; --every: a line per partition)",
        f"2013-01      {january:>12,} {january:>15,}"
        "  (lake lacks 29 of 31; warehouse lacks 29 of 31)",
        f"2013-02      {pushed:>12,} {february:>15,}"
        "  (lake lacks 26 of 28; warehouse lacks 27 of 28)",
        "2013-03                 -               -",
        f"total        {january + pushed:>12,} {january + february:>15,}",
    ]

    every = run_main("status", "--source", "flights", *QUARTER, "--every")
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    assert len(lines) == 1 + 90 + 1
    assert lines[0] == "partition       lake rows  warehouse rows"
    assert f"2013-02-02   {day['02-02']:>12} {'-':>15}" in lines
    assert lines[-1] == grouped.stdout.splitlines()[-1]
