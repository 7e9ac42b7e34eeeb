"""OpenTelemetry GenAI spans from JSON lines: token counts land, content never does."""

import gzip
import json
from datetime import UTC, date, datetime

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError
from extractors.otel import is_content, otlp_attributes

CANARY = "CANARY-prompt-text-4b1d9"
DAY = datetime(2026, 10, 7, 12, tzinfo=UTC)


def nanos(moment: datetime) -> str:
    return str(int(moment.timestamp()) * 1_000_000_000 + 123_456_789)


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 is a string in OTLP/JSON
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def genai_span(span_id: str, start: datetime, **extra_attributes) -> dict:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 80,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        # Content, in every convention in use: none of it may be stored anywhere.
        "gen_ai.prompt.0.content": f"user says {CANARY}",
        "gen_ai.completion.0.content": f"model says {CANARY}",
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [CANARY]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [CANARY]}]),
        "gen_ai.system_instructions": CANARY,
        **extra_attributes,
    }
    return {
        "traceId": "5B8AA5A2D2C872E8321CF37308D69DF2",
        "spanId": span_id,
        "parentSpanId": "",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": nanos(start),
        "endTimeUnixNano": nanos(start.replace(second=2)),
        "attributes": [attr(k, v) for k, v in attributes.items()],
        "events": [
            {
                "name": "gen_ai.content.prompt",
                "timeUnixNano": nanos(start),
                "attributes": [attr("gen_ai.prompt", CANARY)],
            }
        ],
        "status": {},
    }


def otlp_line(*spans, resource=None) -> str:
    resource = resource or {
        "service.name": "support-bot",
        "deployment.environment.name": "production",
        "k8s.namespace.name": "team-support",
        "cloud.region": "eu-west-1",
        "telemetry.sdk.language": "python",
    }
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [attr(k, v) for k, v in resource.items()]},
                    "scopeSpans": [
                        {
                            "scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                            "spans": list(spans),
                        }
                    ],
                }
            ]
        }
    )


def http_span(span_id: str, start: datetime) -> dict:
    return {
        "traceId": "5b8aa5a2d2c872e8321cf37308d69df2",
        "spanId": span_id,
        "name": "POST /v1/chat/completions",
        "startTimeUnixNano": nanos(start),
        "endTimeUnixNano": nanos(start),
        "attributes": [attr("http.request.method", "POST")],
    }


def run(tmp_path, folder, start=date(2026, 10, 7), end=date(2026, 10, 8)):
    src = SourceConfig("traces", "otel_genai_spans", {"path": str(folder)})
    return run_source(
        src, start, end, landing_root=tmp_path / "landing", quarantine_root=tmp_path / "quarantine"
    )


def landed(tmp_path):
    table = ds.dataset(
        tmp_path / "landing" / "traces" / "otel_genai_spans", format="parquet"
    ).to_table()
    return sorted(table.to_pylist(), key=lambda r: r["span_id"])


def test_otlp_json_lines_land_models_tokens_and_resource_attributes(tmp_path):
    spans = tmp_path / "spans"
    spans.mkdir()
    (spans / "export-1.jsonl").write_text(
        otlp_line(genai_span("00f067aa0ba902b7", DAY), http_span("00f067aa0ba902b8", DAY))
        + "\n\n"
        + otlp_line(genai_span("00f067aa0ba902b9", datetime(2026, 10, 9, tzinfo=UTC)))
        + "\n"
    )
    summary = run(tmp_path, spans)
    counts = summary["datasets"]["otel_genai_spans"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (1, 0)  # Oct 9 is not ours
    (row,) = landed(tmp_path)
    assert row["trace_id"] == "5b8aa5a2d2c872e8321cf37308d69df2"
    assert row["span_id"] == "00f067aa0ba902b7" and row["span_name"] == "chat gpt-4o"
    assert (row["provider_name"], row["operation_name"]) == ("openai", "chat")
    assert (row["request_model"], row["response_model"]) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert (row["input_tokens"], row["output_tokens"], row["cached_input_tokens"]) == (
        1200,
        80,
        1024,
    )
    assert (row["service_name"], row["deployment_environment"], row["k8s_namespace_name"]) == (
        "support-bot",
        "production",
        "team-support",
    )
    assert json.loads(row["resource_attributes"]) == {
        "cloud.region": "eu-west-1",
        "telemetry.sdk.language": "python",
    }
    # Nanoseconds are cut to the landing's microseconds, in UTC.
    assert row["span_start_at"] == datetime(2026, 10, 7, 12, 0, 0, 123456, tzinfo=UTC)
    assert row["record_ref"] == "export-1.jsonl:1#0"
    manifest = json.loads(
        (tmp_path / "landing/traces/otel_genai_spans/date=2026-10-07/_manifest.json").read_text()
    )
    assert manifest["non_genai_spans_skipped"] == 1


def test_flat_one_span_per_line_with_the_older_attribute_names(tmp_path):
    line = {
        "name": "chat claude",
        "context": {
            "trace_id": "0xABCDEF0123456789ABCDEF0123456789",
            "span_id": "0x1122334455667788",
        },
        "start_time": "2026-10-07T08:00:00.250000Z",
        "end_time": "2026-10-07T08:00:03Z",
        "attributes": {
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4",
            "gen_ai.usage.prompt_tokens": 300,
            "gen_ai.usage.completion_tokens": 20,
            "gen_ai.prompt": CANARY,
        },
        "resource": {
            "attributes": {"service.name": "batch-summarise", "deployment.environment": "staging"}
        },
    }
    spans = tmp_path / "spans"
    spans.mkdir()
    (spans / "console.ndjson.gz").write_bytes(gzip.compress((json.dumps(line) + "\n").encode()))
    run(tmp_path, spans)
    (row,) = landed(tmp_path)
    assert (row["trace_id"], row["span_id"]) == (
        "abcdef0123456789abcdef0123456789",
        "1122334455667788",
    )
    assert (row["provider_name"], row["input_tokens"], row["output_tokens"]) == (
        "anthropic",
        300,
        20,
    )
    assert row["cached_input_tokens"] is None and row["deployment_environment"] == "staging"
    assert row["span_start_at"] == datetime(2026, 10, 7, 8, 0, 0, 250000, tzinfo=UTC)
    assert row["resource_attributes"] is None


def test_no_prompt_or_completion_text_reaches_landing_or_quarantine(tmp_path):
    spans = tmp_path / "spans"
    spans.mkdir()
    bad = genai_span("00000000000000b1", DAY, **{"gen_ai.usage.input_tokens": -5})
    no_id = genai_span("", DAY)
    (spans / "a.jsonl").write_text(
        "\n".join(
            [
                otlp_line(genai_span("00000000000000a1", DAY), bad, no_id),
                '{"resourceSpans": [{"broken": "' + CANARY,  # a truncated line
                json.dumps([CANARY]),  # valid JSON, wrong shape
            ]
        )
        + "\n"
    )
    counts = run(tmp_path, spans)["datasets"]["otel_genai_spans"]
    assert (counts["rows_loaded"], counts["rows_quarantined"]) == (1, 4)
    rejected = ds.dataset(tmp_path / "quarantine" / "traces", format="parquet").to_table()
    reasons = dict(
        zip(rejected["record_ref"].to_pylist(), rejected["reason"].to_pylist(), strict=True)
    )
    assert reasons["a.jsonl:1#1"] == "input_tokens: negative count -5"
    assert reasons["a.jsonl:1#2"] == "missing required field span_id"
    assert reasons["a.jsonl:2"].startswith("not an OTLP/JSON or span line: ")
    assert (
        reasons["a.jsonl:3"] == "not an OTLP/JSON or span line: line is a JSON list, not an object"
    )
    files = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    files += [p for p in (tmp_path / "quarantine").rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path


def test_content_attribute_names_are_recognised():
    for key in (
        "gen_ai.prompt",
        "gen_ai.prompt.3.content",
        "gen_ai.completion.0.content",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "llm.input_messages.0.message.content",
        "input.value",
    ):
        assert is_content(key), key
    for key in ("gen_ai.usage.input_tokens", "gen_ai.request.model", "service.name"):
        assert not is_content(key), key


def test_otlp_attribute_values_decode():
    decoded = otlp_attributes(
        [
            attr("s", "x"),
            attr("i", 7),
            {"key": "d", "value": {"doubleValue": 0.5}},
            attr("b", True),
            attr("a", ["p", "q"]),
            {"key": "kv", "value": {"kvlistValue": {"values": [attr("inner", 1)]}}},
        ]
    )
    assert decoded == {
        "s": "x",
        "i": "7",
        "d": 0.5,
        "b": True,
        "a": ["p", "q"],
        "kv": {"inner": "1"},
    }


def test_a_missing_folder_is_fatal(tmp_path):
    with pytest.raises(FatalSourceError, match="span folder does not exist"):
        run(tmp_path, tmp_path / "nowhere")
