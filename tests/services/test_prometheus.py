"""The test Prometheus serves the backfilled DCGM series over the real HTTP API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.services.openmetrics import (
    DCGM_GPUS,
    DCGM_HOURS,
    DCGM_START,
    Family,
    dcgm_value,
    write_openmetrics,
)

LAST_SAMPLE = DCGM_START + timedelta(hours=DCGM_HOURS) - timedelta(minutes=1)


def query_range(base_url: str, query: str, start, end, step: int) -> list[dict]:
    resp = requests.get(
        f"{base_url}/api/v1/query_range",
        params={"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step},
        timeout=10,
    )
    resp.raise_for_status()
    body = resp.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "matrix"
    return body["data"]["result"]


@pytest.mark.parametrize(
    "metric", ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_DEV_POWER_USAGE"]
)
def test_query_range_returns_every_backfilled_sample_as_strings(prometheus_server, metric):
    result = query_range(prometheus_server.base_url, metric, DCGM_START, LAST_SAMPLE, 60)
    by_gpu = {s["metric"]["gpu"]: s for s in result}
    assert sorted(by_gpu) == ["0", "1"]
    for index, labels in enumerate(DCGM_GPUS):
        series = by_gpu[labels["gpu"]]
        assert series["metric"] == {"__name__": metric, **labels}
        values = series["values"]
        assert len(values) == DCGM_HOURS * 60
        for minute, (ts, value) in enumerate(values):
            assert ts == DCGM_START.timestamp() + 60 * minute
            assert isinstance(value, str)
            assert float(value) == pytest.approx(dcgm_value(metric, index, minute))


def test_a_coarser_step_reads_the_sample_at_each_step(prometheus_server):
    result = query_range(
        prometheus_server.base_url,
        'DCGM_FI_DEV_FB_USED{namespace="notebooks"}',
        DCGM_START,
        LAST_SAMPLE,
        900,
    )
    assert len(result) == 1 and result[0]["metric"]["pod"] == "jupyter-alice-0"
    assert [v for _, v in result[0]["values"]] == [
        str(int(dcgm_value("DCGM_FI_DEV_FB_USED", 1, m))) for m in range(0, DCGM_HOURS * 60, 15)
    ]


def test_nothing_outside_the_backfill_and_nothing_scraped(prometheus_server):
    day_before = DCGM_START - timedelta(days=1)
    assert (
        query_range(
            prometheus_server.base_url,
            "DCGM_FI_DEV_GPU_UTIL",
            day_before,
            day_before + timedelta(hours=3),
            60,
        )
        == []
    )
    targets = requests.get(f"{prometheus_server.base_url}/api/v1/targets", timeout=10).json()
    assert targets["data"]["activeTargets"] == []


def test_factory_serves_another_file_on_its_own_server(
    prometheus_factory, prometheus_server, tmp_path
):
    t0 = DCGM_START.timestamp()
    path = write_openmetrics(
        tmp_path / "power.om",
        [
            Family(
                "DCGM_FI_DEV_POWER_USAGE",
                "Power draw (in W).",
                [({"gpu": "7", "Hostname": "gpu-a100-0"}, [(t0, 301.5), (t0 + 60, 302.25)])],
            )
        ],
    )
    other = prometheus_factory(path)
    assert other.base_url != prometheus_server.base_url
    result = query_range(
        other.base_url, "DCGM_FI_DEV_POWER_USAGE", DCGM_START, DCGM_START + timedelta(minutes=1), 60
    )
    assert [v for _, v in result[0]["values"]] == ["301.5", "302.25"]
    assert prometheus_factory(path) is other
