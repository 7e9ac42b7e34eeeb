"""The DCGM extractor against the sandbox's Prometheus query_range double."""

from datetime import UTC, date, datetime, timedelta

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError
from extractors.prometheus import chunk_length, node_of, parse_matrix, parse_node_info
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


def _landed(tmp_path, dataset):
    return ds.dataset(tmp_path / "landing" / "gpu_cluster" / dataset, format="parquet").to_table()


def test_chunked_queries_land_each_sample_once(tmp_path, server):
    server.requests.clear()
    summary = run(
        tmp_path,
        server,
        step_seconds=600,
        chunk_hours=5,
        metrics=["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE"],
        datasets=["gpu_metrics"],
    )
    counts = summary["datasets"]["dcgm_gpu_metrics"]
    assert counts["rows_quarantined"] == 0
    table = _landed(tmp_path, "dcgm_gpu_metrics")
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


def test_kube_node_info_lands_from_the_same_prometheus(tmp_path, server):
    server.requests.clear()
    summary = run(tmp_path, server, chunk_hours=12, metrics=["DCGM_FI_DEV_GPU_UTIL"])
    assert summary["datasets"]["kube_node_info"]["rows_quarantined"] == 0
    nodes = _landed(tmp_path, "kube_node_info").to_pylist()
    # 3 GPU nodes x 2 twelve-hour chunks, each at its chunk's first sample.
    assert len(nodes) == 6
    assert {n["node"] for n in nodes} == {"gpu-a100-0", "gpu-a10g-0", "gpu-a10g-1"}
    assert all(n["provider_id"].startswith("aws:///us-east-1a/i-0") for n in nodes)
    assert {n["observed_at"] for n in nodes} == {
        datetime(2026, 10, 14, tzinfo=UTC),
        datetime(2026, 10, 14, 12, tzinfo=UTC),
    }
    queries = [r["query"]["query"][0] for r in server.requests]
    assert queries.count("kube_node_info") == 2


def test_dcgm_hostname_is_the_relabelled_node_not_the_exporter_pod(tmp_path, server):
    run(tmp_path, server, metrics=["DCGM_FI_DEV_GPU_UTIL"], datasets=["gpu_metrics"])
    hosts = set(_landed(tmp_path, "dcgm_gpu_metrics").column("hostname").to_pylist())
    # The sandbox's Hostname label is nvidia-dcgm-exporter-<hash>, as in a real cluster.
    assert hosts == {"gpu-a100-0", "gpu-a10g-0", "gpu-a10g-1"}


def test_node_label_precedence():
    pod = {"Hostname": "nvidia-dcgm-exporter-x7k2p"}
    assert node_of(pod) == "nvidia-dcgm-exporter-x7k2p"
    assert node_of(pod | {"nodename": "n3"}) == "n3"
    assert node_of(pod | {"nodename": "n3", "node": "n2"}) == "n2"
    assert node_of(pod | {"node": "n2", "kubernetes_node": "n1"}) == "n1"
    assert node_of(pod | {"kubernetes_node": ""}) == "nvidia-dcgm-exporter-x7k2p"


def test_a_kube_node_info_series_without_node_is_quarantined():
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"provider_id": "aws:///z/i-1"}, "values": [[1791936000, "1"]]},
                {"metric": {"node": "n1", "provider_id": "aws:///z/i-2"}, "values": []},
                {
                    "metric": {"node": "n2", "provider_id": "aws:///z/i-3"},
                    "values": [[1791936300, "1"], [1791936000, "1"], [1791936600, "1"]],
                },
            ],
        },
    }
    rows = list(parse_node_info(body, chunk_end=datetime.fromtimestamp(1791936600, UTC), where="q"))
    assert [r.reason for r in rows if not isinstance(r, dict)] == [
        "kube_node_info series without node label or values"
    ]
    landed = [r for r in rows if isinstance(r, dict)]
    assert [(r["node"], r["provider_id"], r["observed_at"]) for r in landed] == [
        ("n2", "aws:///z/i-3", datetime.fromtimestamp(1791936000, UTC))
    ]
