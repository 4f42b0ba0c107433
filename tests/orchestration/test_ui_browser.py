"""What a user sees in the Dagster UI after January's range run, in a real (headless) chromium:
each partition's own row count, the catalog's columns, and the lineage from the landing files to
the export. The screenshots land in build/ui-screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.settings import PROJECT_DIRECTORY, load_settings
from testkit.dagster_dev import dagster_dev
from testkit.main_process import FLIGHTS, backfill
from testkit.summary import SUMMARY_LINES

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; playwright downloads no browser of its own
SCREENSHOTS = PROJECT_DIRECTORY / "build" / "ui-screenshots"
JANUARY = ("2013-01-01", "2013-01-31")
LANDING, RAW, WAREHOUSE = "upstream/flights", "raw/flights", "warehouse/flights"
EXPORT = "exports/carrier_daily_delays"
WAIT_MS = 30_000  # for a page to show a thing once dagster dev serves the assets

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def ui_home(tmp_path_factory: pytest.TempPathFactory, landed_flights: Path) -> Path:
    platform_home = tmp_path_factory.mktemp("ui") / "home"
    shutil.copytree(landed_flights, platform_home / "landing")
    return platform_home


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, ui_home: Path) -> Iterator[str]:
    """The URL of `dagster dev` over an instance that holds January's run of the flights assets
    and then of the export."""
    dagster_home = tmp_path_factory.mktemp("dagster")
    # the instance has shown its "Join the Dagster community" dialog, which would cover the page
    (dagster_home / ".nux").mkdir()
    (dagster_home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    # its storage created once, before the server and the runs would both create it at once
    dg.DagsterInstance.from_config(str(dagster_home)).dispose()
    env = {"PLATFORM_HOME": str(ui_home)}

    def run_january() -> None:
        for selection in (FLIGHTS, EXPORT):
            run = backfill(env, dagster_home, selection, *JANUARY)
            assert run.returncode == 0, f"{selection}: {run.stderr[-3000:]}"

    with dagster_dev(dagster_home, env, while_starting=run_january) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=WAIT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    SUMMARY_LINES.append(f"Dagster UI screenshots: {SCREENSHOTS}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # wide enough for the export's whole upstream graph at full scale (the UI draws only the
    # nodes inside the viewport)
    tab = browser.new_page(viewport={"width": 1920, "height": 1080})
    yield tab
    tab.close()


def screenshot(page: Page, name: str) -> None:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    SUMMARY_LINES.append(f"  {path.relative_to(PROJECT_DIRECTORY)}")


@pytest.mark.parametrize(("day", "rows"), [("2013-01-05", "720"), ("2013-01-31", "928")])
def test_a_partition_page_shows_the_partitions_own_row_count(ui, page, day, rows):
    page.goto(f"{ui}/assets/{WAREHOUSE}?view=partitions&partition={day}")
    row_count = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("cell", name="dagster/row_count", exact=True))
        .get_by_role("cell")
        .nth(1)
    )
    expect(
        row_count, f"{WAREHOUSE} {day}: no dagster/row_count on its partition page"
    ).to_be_visible()
    screenshot(page, f"partition-{WAREHOUSE.replace('/', '-')}-{day}")
    expect(row_count, f"{WAREHOUSE} {day}: the row count its partition page shows").to_have_text(
        rows
    )


def test_the_columns_of_raw_flights_are_the_catalogs(ui, page, ui_home):
    source = load_settings({"PLATFORM_HOME": str(ui_home)}).catalog.source("flights")
    # the declared columns, then the partition's date every lake file keeps
    declared = {**(source.columns or {}), PARTITION_COLUMN: "date32"}
    page.goto(f"{ui}/assets/{RAW}")
    columns = page.get_by_role("table").filter(
        has=page.get_by_role("cell", name="Column name", exact=True)
    )
    expect(columns, f"{RAW}: no Columns table on its overview").to_be_visible()
    page.get_by_text("Columns", exact=True).scroll_into_view_if_needed()
    screenshot(page, f"columns-{RAW.replace('/', '-')}")
    rows = columns.locator("tbody tr")
    expect(rows.locator("td:nth-child(1)"), f"{RAW}: column names").to_have_text(list(declared))
    expect(rows.locator("td:nth-child(2)"), f"{RAW}: column types").to_have_text(
        list(declared.values())
    )


def test_the_lineage_runs_from_the_landing_files_to_the_export(ui, page):
    # three levels up from the export: warehouse, raw, and the landing source
    page.goto(f"{ui}/assets/{EXPORT}?view=lineage&lineageScope=upstream&lineageDepth=3")
    nodes = page.locator("svg foreignObject").filter(has_text="Latest event")
    expect(nodes, f"{EXPORT}: assets in its upstream lineage").to_have_count(4)
    for key in (RAW, WAREHOUSE, EXPORT):  # each node links to its asset's pages
        keyed = nodes.filter(has=page.locator(f"a[href^='/assets/{key}?']"))
        expect(keyed, f"{EXPORT}'s upstream lineage: {key}").to_have_count(1)
    screenshot(page, f"lineage-{EXPORT.replace('/', '-')}")
    names = [
        node.locator("[data-tooltip]").first.get_attribute("data-tooltip") for node in nodes.all()
    ]
    assert sorted(name or "" for name in names) == [
        "carrier_daily_delays",
        "flights",
        "flights",
        "flights",
    ]

    # the graph draws raw and warehouse both as "flights": each asset's overview names its
    # neighbours by key
    for asset, upstream, downstream in ((RAW, LANDING, WAREHOUSE), (WAREHOUSE, RAW, EXPORT)):
        page.goto(f"{ui}/assets/{asset}")
        for heading, neighbour in (
            ("Upstream assets", upstream),
            ("Downstream assets", downstream),
        ):
            link = page.get_by_text(heading, exact=True).locator("xpath=..").get_by_role("link")
            expect(link, f"{asset}: {heading.lower()}").to_have_attribute(
                "href", f"/assets/{neighbour}"
            )
            expect(link).to_contain_text(neighbour.replace("/", " / "))
