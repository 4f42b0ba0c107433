"""Fuzzing the two doors input comes through: the catalog loader (mutations of the seed catalog,
in process) and main.py's arguments (whole processes). Every input ends in a catalog or one
CatalogError line; every run in exit 0, 1 or 2 with its one-line contract and no traceback. N and
the seed are printed, as the crash trials print theirs: PLATFORM_FUZZ_SEED replays a run."""

from __future__ import annotations

import os
import random

from platform_assets.catalog import CatalogError, load_catalog
from platform_assets.checks import CHECK_NAMES
from platform_assets.settings import PACKAGE_DIRECTORY
from testkit.main_process import main_process

SEED = int(os.environ.get("PLATFORM_FUZZ_SEED", "20261202"))
CATALOGS = int(os.environ.get("PLATFORM_FUZZ_CATALOGS", "400"))
RUNS = int(os.environ.get("PLATFORM_FUZZ_RUNS", "24"))
SEED_CATALOG = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
# what a careless hand or a hostile one puts into YAML
PIECES = [
    ":", "- ", "&a ", "*a", "[", "]", "{", "}", "'", '"', "#", "\t", "!!python/object:os.system ",
    "9" * 40, "-1", "0", "9999-12-31", "0001-01-01", "2013-02-30", "null", "~", "true", "<<: *a",
    "\x00", "\u202e", "é", "\n", "\n  ", "  ", ",", "|", ">", "%", "@", "`", "?", "\\",
    "{secret[x]}", "{dt:%Y}", "{start", "SELECT 1; DROP TABLE x", "x" * 300,
]  # fmt: skip


def mutated(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 6)):
        line = rng.randrange(len(lines))
        kind = rng.random()
        if kind < 0.25:
            del lines[line]
        elif kind < 0.4:
            lines.insert(line, lines[rng.randrange(len(lines))])
        else:
            at = rng.randint(0, len(lines[line]))
            cut = rng.randint(0, 3)
            lines[line] = lines[line][:at] + rng.choice(PIECES) + lines[line][at + cut :]
        if not lines:
            return ""
    return "".join(lines)


def test_the_catalog_loader_ends_every_mutated_catalog_in_a_catalog_or_one_line(tmp_path):
    rng = random.Random(SEED)
    path = tmp_path / "catalog.yaml"
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(CATALOGS):
        path.write_text(mutated(rng, SEED_CATALOG), errors="surrogateescape")
        try:
            load_catalog(path, CHECK_NAMES)
            outcomes["loaded"] += 1
        except CatalogError as error:
            assert "\n" not in str(error) and len(str(error)) < 2000, str(error)
            outcomes["refused"] += 1
    print(f"\ncatalog fuzz: {CATALOGS} catalogs, seed {SEED}: {outcomes}")


COMMANDS = ["push", "load", "check", "status", "list", "pull", "rebuild", "nope", "--help"]
OPTIONS = ["--source", "--export", "--partition", "--to", "--no-load", "--every", "--bogus"]
VALUES = [
    "flights", "weather", "airlines", "departures_by_carrier", "nope", "2013-01-01",
    "2013-12-31", "9999-12-31", "0000-00-00", "2013-13-01", "", "-1", "x" * 300, "é", "..",
]  # fmt: skip


def test_main_ends_every_generated_command_line_in_its_contract(home):
    rng = random.Random(SEED)
    codes: dict[int, int] = {}
    for _ in range(RUNS):
        arguments = [rng.choice(COMMANDS)]
        for _ in range(rng.randint(0, 4)):
            arguments.append(rng.choice(OPTIONS))
            if rng.random() < 0.8:
                arguments.append(rng.choice(VALUES))
        result = main_process(arguments, {"PLATFORM_HOME": str(home)})
        codes[result.returncode] = codes.get(result.returncode, 0) + 1
        lines = result.stderr.strip().splitlines()
        assert result.returncode in (0, 1, 2), (arguments, result.stderr)
        assert "Traceback" not in result.stderr, (arguments, result.stderr)
        if result.returncode == 2 and "--help" not in arguments:
            assert len(lines) == 1 and lines[0].startswith("main.py"), (arguments, result.stderr)
        if result.returncode == 1:
            assert lines[-1].startswith("main.py: failed: "), (arguments, result.stderr)
    outcomes = dict(sorted(codes.items()))
    print(f"\nmain.py fuzz: {RUNS} command lines, seed {SEED}: exit codes {outcomes}")
