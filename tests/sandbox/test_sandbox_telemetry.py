"""The demo's nvidia-smi logs and OTel GenAI spans land through the real extractors."""

from __future__ import annotations

import json
from datetime import date

import pyarrow.parquet as pq

from extractors import run_source
from extractors.config import SourceConfig
from sandbox import telemetry

START, END = date(2026, 10, 19), date(2026, 10, 21)  # a Monday and a Tuesday


def test_the_gpu_box_log_lands_a_sample_a_minute_busy_in_working_hours(org, tmp_path):
    [log] = telemetry.write_nvidia_smi_logs(org, tmp_path / "smi", START, END)
    assert log.name == "ds-gpu-box-0.csv"
    assert log.read_text().splitlines()[0] == telemetry.NVIDIA_SMI_HEADER
    source = SourceConfig("ds_gpu_box", "nvidia_smi", {"path": str(tmp_path / "smi")})
    result = run_source(
        source,
        START,
        END,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    counts = result["datasets"]["nvidia_smi_gpu_samples"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (2 * 1440, 0)
    rows = [
        r
        for part in sorted((tmp_path / "landing" / "ds_gpu_box").rglob("part-0.parquet"))
        for r in pq.read_table(part).to_pylist()
    ]
    assert {r["hostname"] for r in rows} == {"ds-gpu-box-0"}
    busy = [r for r in rows if r["utilization_gpu_pct"] and r["utilization_gpu_pct"] > 0]
    # busy_util 0.70 from 09 to 18 on weekdays: nine hours of samples a day, about 70 %.
    assert len(busy) == 2 * 9 * 60
    assert 65 < sum(r["utilization_gpu_pct"] for r in busy) / len(busy) < 75


def test_the_app_spans_land_tokens_per_model_and_nothing_else(org, tmp_path):
    paths = telemetry.write_otel_spans(org, tmp_path / "otel", START, END)
    assert [p.name for p in paths] == [
        "genai-spans-2026-10-19.jsonl",
        "genai-spans-2026-10-20.jsonl",
    ]
    expected_input = sum(
        int(a["value"]["intValue"])
        for p in paths
        for line in p.read_text().splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
        for a in span["attributes"]
        if a["key"] == "gen_ai.usage.input_tokens"
    )
    source = SourceConfig("app_traces", "otel_genai_spans", {"path": str(tmp_path / "otel")})
    result = run_source(
        source,
        START,
        END,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )
    assert result["datasets"]["otel_genai_spans"]["rows_quarantined"] == 0
    rows = [
        r
        for part in sorted((tmp_path / "landing" / "app_traces").rglob("part-0.parquet"))
        for r in pq.read_table(part).to_pylist()
    ]
    assert {(r["provider_name"], r["request_model"], r["service_name"]) for r in rows} == {
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "code-assistant-api")
    }
    assert sum(r["input_tokens"] for r in rows) == expected_input > 0
