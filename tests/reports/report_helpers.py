"""Helpers for the report tests: a private copy of the month-long demo home (fixture
`month_home`, tests/warehouse/demo_fixtures.py), poppler's view of a PDF, and the
folder the tests leave their screenshots in."""

from __future__ import annotations

import os
import shutil
import subprocess
from email import message_from_bytes  # noqa: F401  (re-exported for the tests)
from pathlib import Path

import duckdb

from tests.conftest import REPO_ROOT

MANIFEST = Path("warehouse") / "build" / "dbt" / "target" / "semantic_manifest.json"


def copy_home(month_home: Path, target: Path):
    """Settings over a copy of what the reports read: the published file, the ops log and
    the semantic manifest (the landing zone is not theirs to read)."""
    from warehouse.settings import Settings

    for part in (Path("warehouse") / "costbridge.duckdb", MANIFEST):
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(month_home / part, target / part)
    shutil.copytree(month_home / "ops", target / "ops")
    return Settings(home=target, sources_file=REPO_ROOT / "config" / "sources.demo.yml")


def sql(settings, statement: str, params=()) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_file)) as con:
        return con.execute(statement, list(params)).fetchall()


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def flat_text(pdf: Path) -> str:
    """The PDF's text on one line: whitespace collapsed, words hyphen-broken at a line end
    joined again (pdftotext keeps a cell's wrapping)."""
    import re

    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", pdf_text(pdf)))


def pdf_images(pdf: Path) -> list[str]:
    """`pdfimages -list` rows (one per image), header dropped."""
    out = subprocess.run(
        ["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return [line for line in out[2:] if line.strip()]


def artifacts_dir() -> Path:
    """Where the tests leave screenshots: $COSTBRIDGE_TEST_ARTIFACTS (as the dashboard's tests,
    tests/reports/conftest.py), else the repo's git-ignored .costbridge/test-artifacts/."""
    folder = Path(
        os.environ.get("COSTBRIDGE_TEST_ARTIFACTS") or REPO_ROOT / ".costbridge" / "test-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def first_page_png(pdf: Path, name: str) -> Path:
    """Page 1 rendered by pdftoppm, kept in the artifacts folder as <name>.png."""
    stem = artifacts_dir() / name
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


def ink(png: Path) -> float:
    """Share of the page's pixels that are not white (a blank page is 0)."""
    from PIL import Image

    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return sum(histogram[:235]) / sum(histogram)
