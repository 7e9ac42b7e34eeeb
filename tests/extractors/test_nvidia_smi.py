"""nvidia-smi --query-gpu CSV logs, written here the way nvidia-smi prints them."""

import gzip
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import ConfigError, FatalSourceError, SchemaDriftError
from extractors.landing import land
from extractors.nvidia_smi import parse_header, reading
from extractors.prometheus import parse_matrix
from landing.schemas import DCGM_GPU_METRICS
from landing.window import Window

QUERY = "timestamp,name,pci.bus_id,uuid,index,utilization.gpu,memory.used,memory.total,power.draw"
HEADER_UNITS = (
    "timestamp, name, pci.bus_id, uuid, index, utilization.gpu [%], memory.used [MiB], "
    "memory.total [MiB], power.draw [W]"
)
UUID0 = "GPU-2f6f3a9e-1c3b-4d5e-9f00-0a1b2c3d4e5f"
UUID1 = "GPU-7d1e0c4b-aa55-4e2f-8b11-99c0d1e2f3a4"


def units_log(*stamps: str) -> str:
    lines = [HEADER_UNITS]
    for stamp in stamps:
        lines.append(
            f"{stamp}, NVIDIA A100-SXM4-80GB, 00000000:07:00.0, {UUID0}, 0, 45 %, "
            "1234 MiB, 81920 MiB, 70.50 W"
        )
        lines.append(
            f"{stamp}, NVIDIA A100-SXM4-80GB, 00000000:0F:00.0, {UUID1}, 1, 0 %, "
            "0 MiB, 81920 MiB, [N/A]"
        )
    return "\n".join(lines) + "\n"


def run(tmp_path, folder, start=date(2026, 10, 7), end=date(2026, 10, 8), **options):
    src = SourceConfig("gpu_logs", "nvidia_smi", {"path": str(folder), **options})
    return run_source(
        src, start, end, landing_root=tmp_path / "landing", quarantine_root=tmp_path / "quarantine"
    )


def landed(tmp_path):
    table = ds.dataset(
        tmp_path / "landing" / "gpu_logs" / "nvidia_smi_gpu_samples", format="parquet"
    ).to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["sample_at"], r["gpu_index"]))


def test_units_form_lands_numbers_without_units_and_na_as_null(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "gpu-node-01.csv").write_text(
        units_log("2026/10/06 23:59:00.000", "2026/10/07 12:00:00.123", "2026/10/08 00:00:00.000")
    )
    summary = run(tmp_path, logs)["datasets"]["nvidia_smi_gpu_samples"]
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (2, 0)  # Oct 6 and 8: not ours
    busy, idle = landed(tmp_path)
    assert busy["hostname"] == "gpu-node-01" and busy["gpu_uuid"] == UUID0
    assert busy["gpu_name"] == "NVIDIA A100-SXM4-80GB" and busy["pci_bus_id"] == "00000000:07:00.0"
    assert (busy["utilization_gpu_pct"], busy["memory_used_mib"], busy["power_draw_w"]) == (
        45.0,
        1234.0,
        70.5,
    )
    assert busy["memory_total_mib"] == 81920.0
    assert busy["sample_at"] == datetime(2026, 10, 7, 12, 0, 0, 123000, tzinfo=UTC)
    assert idle["power_draw_w"] is None and idle["utilization_gpu_pct"] == 0.0
    assert busy["record_ref"] == "gpu-node-01.csv:4"


def test_nounits_form_with_gzip_a_local_timezone_and_the_host_from_a_dated_file_name(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    text = (
        HEADER_UNITS
        + "\n2026/10/07 09:30:00.000, Tesla T4, 00000000:00:1E.0, "
        + UUID0
        + ", 0, 87, 15109, 15360, 27.31\n"
    )
    (logs / "ml-t4-3_2026-10-07.csv.gz").write_bytes(gzip.compress(text.encode()))
    run(tmp_path, logs, timezone="Europe/Berlin")
    (sample,) = landed(tmp_path)
    assert sample["hostname"] == "ml-t4-3"
    assert (sample["utilization_gpu_pct"], sample["memory_used_mib"]) == (87.0, 15109.0)
    # 09:30 in Berlin (summer time, UTC+2) is 07:30 UTC.
    assert sample["sample_at"] == datetime(2026, 10, 7, 7, 30, tzinfo=UTC)


def test_the_hostname_option_wins_and_repeated_headers_of_appended_runs_are_skipped(tmp_path):
    log = tmp_path / "smi.log"
    log.write_text(units_log("2026/10/07 01:00:00.000") + units_log("2026/10/07 02:00:00.000"))
    summary = run(tmp_path, log, hostname="dgx-a")["datasets"]["nvidia_smi_gpu_samples"]
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (4, 0)
    assert {r["hostname"] for r in landed(tmp_path)} == {"dgx-a"}


def test_bad_lines_are_quarantined_with_reason_and_line(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "node.csv").write_text(
        HEADER_UNITS
        + "\n2026/10/07 01:00:00.000, T4, 00:1E.0, "
        + UUID0
        + ", 0, 45 %, 3 GiB, 15360 MiB, 20 W"
        + "\n2026/10/07 01:00:00.000, T4, 00:1E.0, "
        + UUID0
        + ", 0, 45 %"
        + "\nyesterday, T4, 00:1E.0, "
        + UUID0
        + ", 0, 45 %, 3 MiB, 15360 MiB, 20 W"
        + "\n2026/10/07 01:00:00.000, T4, 00:1E.0, "
        + UUID0
        + ", 0, lots %, 3 MiB, 15360 MiB, 20 W\n"
    )
    summary = run(tmp_path, logs)["datasets"]["nvidia_smi_gpu_samples"]
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (0, 4)
    rejected = ds.dataset(tmp_path / "quarantine" / "gpu_logs", format="parquet").to_table()
    reasons = dict(
        zip(rejected["record_ref"].to_pylist(), rejected["reason"].to_pylist(), strict=True)
    )
    assert reasons == {
        "node.csv:2": "memory.used: unit 'GiB' is not 'MiB' in '3 GiB'",
        "node.csv:3": "6 cells for 9 header columns",
        "node.csv:4": "sample_at: unparseable timestamp 'yesterday'",
        "node.csv:5": "utilization_gpu_pct: unparseable number 'lots'",
    }


def test_an_unknown_field_is_drift_unless_allowed_and_a_missing_uuid_is_drift(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "n.csv").write_text(
        HEADER_UNITS + ", temperature.gpu\n2026/10/07 01:00:00.000, T4, 00:1E.0, "
        f"{UUID0}, 0, 45 %, 3 MiB, 15360 MiB, 20 W, 40\n"
    )
    with pytest.raises(SchemaDriftError, match=r"unexpected columns \['temperature.gpu'\]"):
        run(tmp_path, logs)
    summary = run(tmp_path, logs, allow_added_columns=True)
    assert summary["datasets"]["nvidia_smi_gpu_samples"]["ignored_columns"] == ["temperature.gpu"]
    (logs / "n.csv").write_text("timestamp, utilization.gpu [%]\n2026/10/07 01:00:00.000, 4 %\n")
    with pytest.raises(
        SchemaDriftError, match=r"record=n.csv\] schema drift: missing columns \['uuid'\]"
    ):
        run(tmp_path, logs)


def test_configuration_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="timezone must be an IANA name"):
        run(tmp_path, tmp_path, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match=r"needs a \(\?P<hostname>"):
        run(tmp_path, tmp_path, hostname_pattern=r"^(.+)\.csv$")
    with pytest.raises(FatalSourceError, match="nvidia-smi log folder does not exist"):
        run(tmp_path, tmp_path / "nowhere")


def test_header_and_unit_parsing():
    assert parse_header(HEADER_UNITS.split(", "))[5:] == [
        ("utilization.gpu", "%"),
        ("memory.used", "MiB"),
        ("memory.total", "MiB"),
        ("power.draw", "W"),
    ]
    assert QUERY.split(",") == [name for name, _ in parse_header(HEADER_UNITS.split(", "))]
    assert reading("[Not Supported]", "W", "power.draw") is None
    assert reading("70.50 W", "W", "power.draw") == "70.50"
    assert reading("70.50", "W", "power.draw") == "70.50"


REALDATA = Path(__file__).parents[2].parent / "shared" / "realdata"
SCRAPE = REALDATA / "dcgm_exporter_scrape_fixture" / "metrics_excerpt.prom"
_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)\{(?P<labels>.*)\}\s+(?P<value>\S+)$")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


@pytest.mark.skipif(
    not SCRAPE.is_file(), reason=f"real DCGM scrape {SCRAPE} is absent (fresh clone)"
)
def test_the_real_dcgm_scrape_labels_map_to_the_dcgm_landing_shape(tmp_path):
    # A scrape is one instant: each labelled sample becomes a one-point query_range series.
    stamp = 1_791_331_200  # 2026-10-07 00:00 UTC
    by_metric: dict[str, list[dict]] = {}
    for line in SCRAPE.read_text().splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = dict(_LABEL.findall(match["labels"]))
            series = {"metric": labels, "values": [[stamp, match["value"]]]}
            by_metric.setdefault(match["name"], []).append(series)
    rows = []
    for metric, series in by_metric.items():
        body = {"status": "success", "data": {"resultType": "matrix", "result": series}}
        rows += parse_matrix(
            body,
            metric=metric,
            step_seconds=60,
            chunk_end=datetime(2026, 10, 8, tzinfo=UTC),
            where="scrape",
        )
    result = land(
        rows,
        dataset=DCGM_GPU_METRICS,
        source="dcgm_scrape",
        window=Window(date(2026, 10, 7), date(2026, 10, 8)),
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    assert result.rows_quarantined == 0 and result.rows_loaded == len(rows) > 20
    table = ds.dataset(tmp_path / "landing", format="parquet").to_table().to_pylist()
    power = next(r for r in table if r["metric_name"] == "DCGM_FI_DEV_POWER_USAGE")
    assert (power["hostname"], power["gpu"], power["model_name"]) == (
        "424773df46e0",
        "0",
        "Tesla T4",
    )
    assert power["uuid"] == "GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e" and power["value"] == 8.969
    # The A10G line carries the Kubernetes labels that attribute a GPU to a workload.
    k8s = [r for r in table if r["namespace"]]
    assert k8s and all(r["pod"] and r["container"] for r in k8s)
    assert {r["hostname"] for r in table} == {"424773df46e0", "551bdf382151"} | {
        r["hostname"] for r in k8s
    }
