"""Where costbridge keeps its files, read once from the environment.

Everything lives under one home folder (``COSTBRIDGE_HOME``, default
``<repo>/.costbridge``) so a run is easy to inspect, copy or delete:

    landing/      Parquet landing zone, one folder per source and dataset
    quarantine/   rejected rows with their reason
    warehouse/    costbridge.duckdb (published) and build/ (the next file)
    data_docs/    Great Expectations data docs of every gate run
    exports/      Parquet exports of the marts for BI tools
    ops/          the gate-run log (ops_data_quality_runs), readable at once
    intraday/     today's spend so far (docs/intraday.md): its own landing/, quarantine/,
                  ops/ (its gate runs), build/ and the published costbridge_intraday.duckdb
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES_FILE = REPO_ROOT / "config" / "sources.demo.yml"
HOME_ENV = "COSTBRIDGE_HOME"


def configured_home() -> Path | None:
    """``$COSTBRIDGE_HOME``, resolved; None when it is not set."""
    home = os.environ.get(HOME_ENV)
    return Path(home).resolve() if home else None


def costbridge_home() -> Path:
    """The home folder: ``$COSTBRIDGE_HOME``, else ``<repo>/.costbridge``; resolved.

    The one place the home is found, for the warehouse, the gates (their live GX context)
    and the extractors' CLI alike: this module imports nothing of the project's."""
    return configured_home() or (REPO_ROOT / ".costbridge").resolve()


def dbt_project_dir_from_env() -> Path:
    """The dbt project: ``$COSTBRIDGE_DBT_PROJECT_DIR`` (to build another checkout of the
    project, or a pinned copy of it), else the repo's ``dbt_project``."""
    return Path(os.environ.get("COSTBRIDGE_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project")


@dataclass(frozen=True)
class Settings:
    home: Path
    sources_file: Path
    dbt_project_dir: Path = field(default_factory=dbt_project_dir_from_env)

    @classmethod
    def from_env(cls) -> Settings:
        sources = Path(os.environ.get("COSTBRIDGE_SOURCES") or DEFAULT_SOURCES_FILE)
        return cls(home=costbridge_home(), sources_file=sources.resolve())

    @property
    def landing_root(self) -> Path:
        return self.home / "landing"

    @property
    def quarantine_root(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse_file(self) -> Path:
        """The published warehouse: the only file BI readers open."""
        return self.home / "warehouse" / "costbridge.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.home / "warehouse" / "build"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "data_docs"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def ops_dir(self) -> Path:
        return self.home / "ops"

    # --- today's spend so far (warehouse.intraday): never the daily's folders -----------

    @property
    def intraday_root(self) -> Path:
        return self.home / "intraday"

    @property
    def intraday_landing_root(self) -> Path:
        return self.intraday_root / "landing"

    @property
    def intraday_quarantine_root(self) -> Path:
        return self.intraday_root / "quarantine"

    @property
    def intraday_warehouse_file(self) -> Path:
        """The published estimate of today: mart_ops__spend_today, nothing of the daily's."""
        return self.intraday_root / "costbridge_intraday.duckdb"

    @property
    def intraday_build_dir(self) -> Path:
        return self.intraday_root / "build"

    @property
    def intraday_ops_dir(self) -> Path:
        """The intraday gate runs, kept out of the daily's ops_data_quality_runs."""
        return self.intraday_root / "ops"
