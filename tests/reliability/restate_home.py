"""A small published home of its own, for attacks that need days after the demo's window.

The session demo (tests/warehouse/demo_fixtures.py) publishes two days and shares
its sandbox files with every test, so a test that rewrites a provider's export, or
runs "three days later", builds this home instead, the same way: FOCUS and value
files written by the sandbox, the API doubles served over loopback, the extractors,
then ``warehouse.pipeline.run_day``. September is a closed billing month by the
time October runs, so a re-delivery of it is a new export version of a closed month.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from landing.window import Window
from tests.warehouse.demo_fixtures import ANTHROPIC_KEY, MARTS, OPENAI_KEY, _demo_sources

# Published: 2026-09-24..09-29. Files exist up to 10-01 (exclusive 10-02), so later runs
# find their days as a provider's export and the APIs would show them.
BASE_START, BASE_END = date(2026, 9, 24), date(2026, 9, 30)
FILES_END = date(2026, 10, 2)


@dataclass
class Home:
    """A private copy: ``settings`` for the pipeline, ``files`` the sandbox's drop folders."""

    settings: object
    files: Path

    @property
    def focus(self) -> Path:
        return self.files / "focus"

    def extract(
        self, start: date, end: date, org=None, sources: list[str] | None = None, exclude=()
    ) -> dict:
        """Every source (or ``sources``, less ``exclude``) over [start, end), as the DAG's
        extract tasks do."""
        from sandbox.org import DemoOrg
        from sandbox.server import serve
        from warehouse import pipeline

        org = org or DemoOrg.load()
        window = Window(start, end)
        keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
        summaries = {}
        with serve(org, admin_keys=keys) as api, pytest.MonkeyPatch.context() as mp:
            for var, value in env(self.files, api.url).items():
                mp.setenv(var, value)
            for name in sources or pipeline.source_names(self.settings):
                if name in exclude:
                    continue
                summaries[name] = pipeline.extract(self.settings, name, window)
        return summaries

    def run(self, start: date, end: date, run_id: str) -> dict:
        from warehouse import pipeline

        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("COSTBRIDGE_POSTGRES_DSN", raising=False)
            return pipeline.run_day(self.settings, Window(start, end), run_id)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.settings.warehouse_file), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def env(files: Path, url: str) -> dict[str, str]:
    return {
        "COSTBRIDGE_SANDBOX_DIR": str(files),
        "COSTBRIDGE_OPENAI_BASE_URL": url,
        "COSTBRIDGE_ANTHROPIC_BASE_URL": url,
        "COSTBRIDGE_PROMETHEUS_URL": url,
        "OPENAI_ADMIN_KEY": OPENAI_KEY,
        "ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY,
    }


def build_base(base: Path) -> Path:
    """Write the files and publish [BASE_START, BASE_END) under ``base``; returns ``base``."""
    from sandbox.files import write_focus_export, write_value_kpis
    from sandbox.org import DemoOrg
    from warehouse.settings import Settings

    org = DemoOrg.load()
    files = base / "sandbox"
    write_focus_export(org, files / "focus", BASE_START, FILES_END)
    write_value_kpis(org, files / "value", BASE_START - timedelta(days=7), FILES_END)
    settings = Settings(home=base / "home", sources_file=_demo_sources(base / "sources.yml"))
    home = Home(settings, files)
    home.extract(BASE_START, BASE_END, org)
    home.run(BASE_START, BASE_END, "base-run")
    return base


@pytest.fixture(scope="session")
def restate_base(tmp_path_factory) -> Path:
    """A home published over [BASE_START, BASE_END); never modify it, take a copy_home."""
    return build_base(tmp_path_factory.mktemp("restate_base"))


def copy_home(base: Path, target: Path) -> Home:
    from warehouse.settings import Settings

    shutil.copytree(base, target, symlinks=True)
    return Home(
        Settings(home=target / "home", sources_file=target / "sources.yml"), target / "sandbox"
    )


def read_export(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_export(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def restate(rows: list[dict[str, str]], day: date, delta: Decimal) -> int:
    """Add ``delta`` to BilledCost of every Usage row charged on ``day``; returns how many."""
    changed = 0
    for row in rows:
        if (
            row["ChargePeriodStart"].startswith(day.isoformat())
            and row["ChargeCategory"] == "Usage"
        ):
            row["BilledCost"] = str(Decimal(row["BilledCost"]) + delta)
            changed += 1
    return changed


def billed_by_day(rows: list[dict[str, str]]) -> dict[date, Decimal]:
    totals: dict[date, Decimal] = {}
    for row in rows:
        day = date.fromisoformat(row["ChargePeriodStart"][:10])
        totals[day] = totals.get(day, Decimal(0)) + Decimal(row["BilledCost"])
    return totals


def month_file(focus: Path, month: str) -> Path:
    (path,) = focus.glob(f"*-{month}-*.csv")
    return path


def _settled(value: object) -> object:
    # Floats summed in another order differ in the last places, and the decimals cast
    # from them too (the determinism hole of issue 9, not a restatement's): 9 places.
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, Decimal):
        return value.quantize(Decimal("1e-9"))
    return value


def mart_digest(warehouse: Path) -> dict[str, str]:
    """sha256 of each mart's sorted rows, amounts to 9 decimal places."""
    con = duckdb.connect(str(warehouse), read_only=True)
    digests = {}
    try:
        for mart in MARTS:
            rows = [
                tuple(map(_settled, row)) for row in con.execute(f"select * from {mart}").fetchall()
            ]
            text = "\n".join(sorted(repr(r) for r in rows))
            digests[mart] = hashlib.sha256(text.encode()).hexdigest()
    finally:
        con.close()
    return digests
