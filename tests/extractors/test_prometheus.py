"""The DCGM extractor against the sandbox's Prometheus query_range double."""

from datetime import UTC, date, datetime, timedelta

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError
from extractors.prometheus import chunk_length, parse_matrix
from sandbox.org import DemoOrg
from sandbox.server import serve
from tests.extractors.conftest import FAST


@pytest.fixture(scope="module")
def server():
    with serve(DemoOrg.load()) as running:
        yield running


def run(tmp_path, server, **options):
    src = SourceConfig(
        "gpu_cluster", "prometheus_dcgm", {"base_url": server.url, **FAST, **options}
    )
    return run_source(
        src,
        date(2026, 10, 14),
        date(2026, 10, 15),
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )


def test_chunked_queries_land_each_sample_once(tmp_path, server):
    server.requests.clear()
    summary = run(
        tmp_path,
        server,
        step_seconds=600,
        chunk_hours=5,
        metrics=["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE"],
    )
    counts = summary["datasets"]["dcgm_gpu_metrics"]
    assert counts["rows_quarantined"] == 0
    table = ds.dataset(tmp_path / "landing" / "gpu_cluster", format="parquet").to_table()
    keys = list(
        zip(
            *(table.column(c).to_pylist() for c in ("metric_name", "hostname", "gpu", "sample_at")),
            strict=True,
        )
    )
    assert len(keys) == len(set(keys)) == counts["rows_loaded"]  # no duplicates at chunk edges
    # 16 GPUs x 2 metrics x 144 ten-minute steps in the day, every one present.
    assert len(keys) == 16 * 2 * 144
    assert min(table.column("sample_at").to_pylist()) == datetime(2026, 10, 14, tzinfo=UTC)
    assert max(table.column("sample_at").to_pylist()) == datetime(2026, 10, 14, 23, 50, tzinfo=UTC)
    # 24 h in 5 h chunks: 5 queries per metric, each half-open edge shared with the next.
    queries = [r["query"] for r in server.requests]
    assert len(queries) == 10 and queries[0]["step"] == ["600s"]
    assert all(float(q["end"][0]) - float(q["start"][0]) <= 5 * 3600 for q in queries)
    values = table.column("value").to_pylist()
    assert all(isinstance(v, float) for v in values)
    pods = {p for p in table.column("namespace").to_pylist() if p}
    assert "inference-llama" in pods


def test_a_chunk_never_asks_for_more_than_11000_points():
    assert chunk_length(1, 24) == timedelta(seconds=10_999)
    assert chunk_length(300, 24) == timedelta(hours=24)


def test_a_prometheus_error_answer_is_fatal_and_named(tmp_path, server, sleeps):
    server.faults.add("/api/v1/query_range", status=400, count=1)
    with pytest.raises(
        FatalSourceError, match=r"source=gpu_cluster .*DCGM_FI_DEV_GPU_UTIL.*HTTP 400"
    ):
        run(tmp_path, server)


def test_bad_samples_are_quarantined_not_landed():
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "Hostname": "n1"},
                    "values": [
                        [1791936000, "55"],
                        [1791936300, "NaN"],
                        ["x", "1"],
                        [1791936600, "1"],
                    ],
                },
            ],
        },
    }
    rows = list(
        parse_matrix(
            body,
            metric="DCGM_FI_DEV_GPU_UTIL",
            step_seconds=300,
            chunk_end=datetime.fromtimestamp(1791936600, UTC),
            where="q",
        )
    )
    assert [r["value"] for r in rows if isinstance(r, dict)] == ["55", "NaN"]  # writer rejects NaN
    assert [r.reason for r in rows if not isinstance(r, dict)] == [
        "sample timestamp is not a number: 'x'"
    ]
