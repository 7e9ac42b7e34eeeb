"""Suite-wide setup. Airflow reads its configuration at first import, so its
home, DAG folder and metadata DB point at a throwaway folder before anything
imports airflow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Real PostgreSQL and Prometheus, started on loopback by the tests that ask for them, and
# the session's demo warehouse (built once, by the first test that asks for it), and the
# attack table every reliability test adds its row to (`make chaos` prints it), and the
# loopback SMTP server and webhook receiver the alert-delivery tests read.
pytest_plugins = [
    "tests.services.plugin",
    "tests.warehouse.demo_fixtures",
    "tests.reliability.attack_table",
    "tests.reports.alert_servers",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
# ../shared/realdata next to a clone; COSTBRIDGE_REALDATA points elsewhere (a git worktree).
REALDATA = Path(os.environ.get("COSTBRIDGE_REALDATA") or REPO_ROOT.parent / "shared" / "realdata")

_airflow_home = Path(tempfile.mkdtemp(prefix="costbridge-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_airflow_home / 'airflow.db'}"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
# Tests must never reach a real provider, whatever the developer's shell exports.
for var in ("OPENAI_ADMIN_KEY", "ANTHROPIC_ADMIN_KEY", "COSTBRIDGE_HOME", "COSTBRIDGE_SOURCES"):
    os.environ.pop(var, None)
