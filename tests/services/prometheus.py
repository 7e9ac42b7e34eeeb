"""A throwaway Prometheus on loopback, serving series backfilled from OpenMetrics text.

Uses the Debian package (`apt-get install prometheus`): `promtool tsdb
create-blocks-from openmetrics` turns the file into TSDB blocks, then our own
`prometheus` process (never the Debian service) serves them with no scrape targets.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.services._proc import ServiceError, free_port, run, tail, wait_until

INSTALL_HINT = (
    "`prometheus` / `promtool` not found on PATH. Install them as CI does: run `.ci/run`, "
    "or `apt-get install -y --no-install-recommends prometheus`."
)

# No scrape targets: the only data is what was backfilled.
CONFIG = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n"

# Backfilled blocks are older than the default 15 d retention relative to now; without
# a long retention Prometheus deletes them at start-up.
RETENTION = "100y"


@dataclass(frozen=True)
class PrometheusServer:
    base_url: str  # e.g. http://127.0.0.1:PORT, without a trailing slash
    data_dir: Path


def find_binaries() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        raise ServiceError(INSTALL_HINT)
    return prometheus, promtool


def _ready(url: str, proc: subprocess.Popen, log: Path) -> bool:
    if proc.poll() is not None:
        raise ServiceError(f"prometheus exited with {proc.returncode}\n{tail(log)}")
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _launch(prometheus: str, root: Path, data_dir: Path) -> tuple[subprocess.Popen, str, Path]:
    config = root / "prometheus.yml"
    config.write_text(CONFIG, encoding="utf-8")
    log = root / "prometheus.log"
    last_error: ServiceError | None = None
    for _ in range(3):  # another process may grab the port between probe and bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        with open(log, "w", encoding="utf-8") as log_fh:
            proc = subprocess.Popen(argv, stdout=log_fh, stderr=subprocess.STDOUT, cwd=root)
        try:
            wait_until(functools.partial(_ready, url, proc, log), timeout=60, what=f"{url}/-/ready")
            return proc, url, log
        except ServiceError as exc:
            _terminate(proc)
            last_error = exc
    assert last_error is not None
    raise last_error


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def running_prometheus(
    openmetrics: str | os.PathLike, base_dir: str | os.PathLike | None = None
) -> Iterator[PrometheusServer]:
    """Backfill `openmetrics` (must end with `# EOF`), serve it, yield, then stop and clean up."""
    prometheus, promtool = find_binaries()
    root = Path(tempfile.mkdtemp(prefix="costbridge-prom-", dir=base_dir))
    data_dir = root / "data"
    proc: subprocess.Popen | None = None
    try:
        run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(openmetrics),
                str(data_dir),
            ],
            what=f"promtool backfill of {openmetrics}",
        )
        proc, url, _ = _launch(prometheus, root, data_dir)
        yield PrometheusServer(base_url=url, data_dir=data_dir)
    finally:
        if proc is not None:
            _terminate(proc)
        shutil.rmtree(root, ignore_errors=True)
