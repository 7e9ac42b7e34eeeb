"""The prometheus_dcgm extractor against a REAL Prometheus, backfilled with DCGM series.

Prometheus (the Debian package) is started on loopback by the `prometheus_factory` /
`prometheus_server` fixtures from OpenMetrics text written here, so what the
extractor lands can be compared with exactly what was backfilled.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from extractors import prometheus as prometheus_module
from extractors import run_source
from extractors.config import SourceConfig
from extractors.prometheus import node_of
from landing.schemas import DCGM_GPU_METRICS, KUBE_NODE_INFO
from sandbox import focus as sandbox_focus
from sandbox.files import write_openmetrics as write_org_openmetrics
from sandbox.org import DemoOrg
from tests.conftest import REALDATA
from tests.services.openmetrics import DCGM_GPUS, DCGM_HOURS, DCGM_START, dcgm_value

REAL_SCRAPE = REALDATA / "dcgm_exporter_scrape_fixture" / "metrics_excerpt.prom"
SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\S+)$")
LABEL = re.compile(r'(\w+)="([^"]*)"')


@pytest.fixture
def queries(monkeypatch):
    """Every query_range the extractor sends (the real client still sends it)."""
    sent: list[dict] = []
    original = prometheus_module.ApiClient.get_json

    def record(self, path, params, *, what):
        sent.append(dict(params))
        return original(self, path, params, what=what)

    monkeypatch.setattr(prometheus_module.ApiClient, "get_json", record)
    return sent


def extract(
    base_url: str, tmp_path: Path, start, end, dataset=DCGM_GPU_METRICS, **options
) -> list[dict]:
    source = SourceConfig("gpu", "prometheus_dcgm", {"base_url": base_url, **options})
    summary = run_source(
        source, start, end, landing_root=tmp_path / "landing", quarantine_root=tmp_path / "q"
    )
    assert summary["datasets"][dataset.name]["rows_quarantined"] == 0
    rows = []
    for part in sorted((tmp_path / "landing").glob(f"gpu/{dataset.name}/*/*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def points(params: dict) -> int:
    step = int(params["step"].rstrip("s"))
    return (params["end"] - params["start"]) // step + 1


def test_landed_samples_equal_the_backfilled_ones_exactly(prometheus_server, tmp_path, queries):
    end = DCGM_START + timedelta(hours=DCGM_HOURS)
    rows = extract(
        prometheus_server.base_url,
        tmp_path,
        DCGM_START,
        end,
        step_seconds=60,
        chunk_hours=1,
        datasets=["gpu_metrics"],
    )

    minutes = DCGM_HOURS * 60
    assert len(rows) == 4 * len(DCGM_GPUS) * minutes  # every backfilled sample, once
    assert Counter(r["metric_name"] for r in rows) == {
        m: len(DCGM_GPUS) * minutes
        for m in (
            "DCGM_FI_DEV_GPU_UTIL",
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
            "DCGM_FI_DEV_FB_USED",
            "DCGM_FI_DEV_POWER_USAGE",
        )
    }
    for row in rows:
        minute = int((row["sample_at"] - DCGM_START).total_seconds() // 60)
        gpu = int(row["gpu"])
        assert row["value"] == pytest.approx(dcgm_value(row["metric_name"], gpu, minute))
        assert row["hostname"] == DCGM_GPUS[gpu]["Hostname"]
        assert row["pod"] == DCGM_GPUS[gpu]["pod"] and row["step_seconds"] == 60
    # One hour per request: 4 metrics x 3 chunks, each well under Prometheus's limit.
    assert len(queries) == 12 and max(points(q) for q in queries) == 61


def test_a_range_too_long_for_one_query_is_chunked_under_the_real_limit(
    prometheus_server, tmp_path, queries
):
    # At a 1 s step, 4 hours is 14,401 points: one query would get Prometheus's 400
    # "exceeded maximum resolution of 11,000 points per timeseries".
    end = DCGM_START + timedelta(hours=4)
    rows = extract(
        prometheus_server.base_url,
        tmp_path,
        DCGM_START,
        end,
        step_seconds=1,
        metrics=["DCGM_FI_DEV_GPU_UTIL"],
        datasets=["gpu_metrics"],
    )

    assert len(queries) == 2 and all(points(q) <= 11_000 for q in queries)
    keys = [(r["gpu"], r["sample_at"]) for r in rows]
    assert len(keys) == len(set(keys)), "a chunk boundary sample was landed twice"
    data_end = DCGM_START + timedelta(hours=DCGM_HOURS)
    inside = [r for r in rows if r["sample_at"] < data_end]
    assert len(inside) == len(DCGM_GPUS) * DCGM_HOURS * 3600  # every second of the data
    for row in inside[::997]:
        minute = int((row["sample_at"] - DCGM_START).total_seconds() // 60)
        assert row["value"] == dcgm_value("DCGM_FI_DEV_GPU_UTIL", int(row["gpu"]), minute)


def backfilled(path: Path) -> dict[tuple, float]:
    """(metric, hostname, gpu, pod, unix ts) -> value, read back from the OpenMetrics text."""
    samples = {}
    for line in path.read_text().splitlines():
        match = SAMPLE.match(line)
        if match:
            name, labels, value, ts = match.groups()
            tags = dict(LABEL.findall(labels))
            if name == "kube_node_info":
                continue
            key = (name, node_of(tags), tags["gpu"], tags.get("pod"), int(float(ts)))
            samples[key] = float(value)
    return samples


def test_the_demo_orgs_gpu_day_lands_in_full(prometheus_factory, tmp_path):
    day = date(2026, 10, 15)
    om = write_org_openmetrics(DemoOrg.load(), tmp_path / "org.om", day, day + timedelta(days=1))
    expected = backfilled(om)
    server = prometheus_factory(om)

    rows = extract(server.base_url, tmp_path, day, day + timedelta(days=1), chunk_hours=6)

    got = {
        (
            r["metric_name"],
            r["hostname"],
            r["gpu"],
            r["pod"],
            int(r["sample_at"].timestamp()),
        ): r["value"]
        for r in rows
    }
    assert len(got) == len(rows)  # no sample twice
    missing = set(expected) - set(got)
    assert not missing, f"{len(missing)} backfilled samples not landed, e.g. {sorted(missing)[:3]}"
    assert all(got[k] == pytest.approx(v) for k, v in expected.items())
    # Prometheus 2.x repeats a series' last sample for one step after it ends (its 5 min
    # lookback includes the left edge); anything else landed would be invented.
    for key in set(got) - set(expected):
        previous = (*key[:4], key[4] - 300)
        assert previous in expected and got[key] == pytest.approx(expected[previous]), key
    assert all(r["sample_at"] < datetime(2026, 10, 16, tzinfo=UTC) for r in rows)


def test_kube_node_info_lands_from_the_prometheus_that_holds_dcgm(prometheus_factory, tmp_path):
    org = DemoOrg.load()
    day = date(2026, 10, 15)
    om = write_org_openmetrics(org, tmp_path / "org.om", day, day + timedelta(days=1))
    server = prometheus_factory(om)

    nodes = extract(
        server.base_url, tmp_path, day, day + timedelta(days=1), KUBE_NODE_INFO, chunk_hours=6
    )
    dcgm = pq.read_table(
        tmp_path / "landing" / "gpu" / DCGM_GPU_METRICS.name, columns=["hostname"]
    ).column("hostname")

    # One row per node and six-hour chunk, each at the chunk's first sample.
    assert len(nodes) == 3 * 4
    assert {(n["node"], n["provider_id"]) for n in nodes} == {
        (host, f"aws:///us-east-1a/{sandbox_focus.instance_id(org, host)}")
        for host in ("gpu-a100-0", "gpu-a10g-0", "gpu-a10g-1")
    }
    assert {n["observed_at"].hour for n in nodes} == {0, 6, 12, 18}
    assert all(n["kubelet_version"] and n["internal_ip"] for n in nodes)
    # The DCGM series of the same scrape carry the exporter pod as Hostname; their
    # kubernetes_node label is the node kube_node_info names.
    assert set(dcgm.to_pylist()) == {n["node"] for n in nodes}


@pytest.mark.realdata
@pytest.mark.skipif(not REAL_SCRAPE.exists(), reason=f"real DCGM scrape {REAL_SCRAPE} is absent")
def test_the_real_dcgm_scrape_maps_to_a_node(prometheus_factory, tmp_path):
    # A real dcgm-exporter scrape outside Kubernetes: Hostname is the exporter's
    # container id and no node label exists, so Hostname is the node, exactly as the
    # scrape names it; the same series relabelled with kubernetes_node land under it.
    stamp = int(DCGM_START.timestamp())
    lines = []
    for line in REAL_SCRAPE.read_text().splitlines():
        if line.startswith("DCGM_FI_DEV_GPU_UTIL{"):
            lines.append(f"{line} {stamp}")
            relabelled = line.replace("{", '{kubernetes_node="ip-10-0-1-23.ec2.internal",', 1)
            lines.append(f"{relabelled} {stamp}")
    assert lines, "the real scrape has no DCGM_FI_DEV_GPU_UTIL sample"
    om = tmp_path / "real.om"
    om.write_text("# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n" + "\n".join(lines) + "\n# EOF\n")
    real_hostname = dict(LABEL.findall(lines[0]))["Hostname"]
    server = prometheus_factory(om)

    rows = extract(
        server.base_url,
        tmp_path,
        DCGM_START.date(),
        DCGM_START.date() + timedelta(days=1),
        metrics=["DCGM_FI_DEV_GPU_UTIL"],
        datasets=["gpu_metrics"],
    )

    at_stamp = [r for r in rows if r["sample_at"] == DCGM_START]
    assert {r["hostname"] for r in at_stamp} == {real_hostname, "ip-10-0-1-23.ec2.internal"}
    assert {r["uuid"] for r in at_stamp} == {dict(LABEL.findall(lines[0]))["UUID"]}
