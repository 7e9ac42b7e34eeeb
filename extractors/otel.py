"""OpenTelemetry GenAI spans from JSON-lines files: token counts per model, never content.

Two line shapes are read:

- OTLP/JSON, as the collector's ``file`` exporter writes it: one
  ``{"resourceSpans": [{"resource": {"attributes": [...]}, "scopeSpans": [{"spans": [...]}]}]}``
  per line, attributes as ``[{"key": ..., "value": {"stringValue" | "intValue" | ...}}]``,
  ``intValue`` as a string, times as ``startTimeUnixNano`` strings, ids in hex.
- one span per line with flat attributes (``{"name", "context": {"trace_id", "span_id"},
  "start_time", "end_time", "attributes": {...}, "resource": {"attributes": {...}}}``,
  the SDK console exporter's fields, or ``traceId``/``spanId``/``*UnixNano``).

Only spans with ``gen_ai.*`` attributes are GenAI spans; others are counted and left
out. Only the attributes named below are read: prompt and completion text
(``gen_ai.prompt*``, ``gen_ai.completion*``, ``gen_ai.input.messages``, ...) and span
events are never copied, not even into quarantine.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from extractors.base import Extractor, Record
from extractors.errors import FatalSourceError
from extractors.landing import Reject
from extractors.options import FileSourceOptions
from extractors.secrets import SECRET_KEY_PATTERN
from landing.schemas import OTEL_GENAI_SPANS, Dataset
from landing.window import to_utc

SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Landing column -> span attributes that carry it, the current semantic convention first.
SPAN_ATTRIBUTES = {
    "provider_name": ("gen_ai.provider.name", "gen_ai.system"),
    "operation_name": ("gen_ai.operation.name",),
    "request_model": ("gen_ai.request.model",),
    "response_model": ("gen_ai.response.model",),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "cached_input_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.input_tokens.cached",
    ),
}
RESOURCE_ATTRIBUTES = {
    "service_name": ("service.name",),
    "deployment_environment": ("deployment.environment.name", "deployment.environment"),
    "k8s_namespace_name": ("k8s.namespace.name",),
}
_NAMED_RESOURCE = {a for names in RESOURCE_ATTRIBUTES.values() for a in names}
# Attribute names that hold prompt or completion content in any convention in use.
CONTENT = re.compile(
    r"^(gen_ai\.(prompt|completion|input\.messages|output\.messages|system_instructions"
    r"|tool\.call\.(arguments|result)|content)"
    r"|llm\.(prompts|completions|input_messages|output_messages)|(input|output)\.value)",
    re.I,
)


def is_content(key: str) -> bool:
    return bool(CONTENT.match(key))


def otlp_value(value: Any) -> Any:
    """The Python value of an OTLP/JSON ``AnyValue``."""
    if not isinstance(value, Mapping):
        return value
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue", "bytesValue"):
        if kind in value:
            return value[kind]
    if "arrayValue" in value:
        return [otlp_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return otlp_attributes((value["kvlistValue"] or {}).get("values", []))
    return None


def otlp_attributes(items: Any) -> dict[str, Any]:
    """``[{"key": k, "value": {...}}]`` (OTLP) or a plain mapping -> a flat dict."""
    if isinstance(items, Mapping):
        return dict(items)
    out = {}
    for item in items or []:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            out[item["key"]] = otlp_value(item.get("value"))
    return out


def _first(attributes: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if attributes.get(name) not in (None, ""):
            return attributes[name]
    return None


def _hex_id(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower().removeprefix("0x") or None
    return value


def _time(nanos: Any, text: Any) -> Any:
    """A span time from Unix nanoseconds (int or string) or ISO text; bad input as is."""
    if nanos not in (None, ""):
        try:
            return EPOCH + timedelta(microseconds=int(str(nanos)) // 1000)
        except ValueError:
            return str(nanos)
    if isinstance(text, str):
        try:
            return to_utc(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def other_resource_attributes(resource: Mapping[str, Any]) -> str | None:
    """The resource attributes not given their own column, as JSON; content and secrets left out."""
    kept = {
        k: v
        for k, v in resource.items()
        if k not in _NAMED_RESOURCE and not is_content(k) and not SECRET_KEY_PATTERN.search(k)
    }
    return json.dumps(kept, sort_keys=True, default=str) if kept else None


def span_record(span: Mapping[str, Any], resource: Mapping[str, Any], ref: str) -> dict[str, Any]:
    """One landing record from a span (OTLP or flat) and its resource's attributes."""
    attributes = otlp_attributes(span.get("attributes"))
    context = span.get("context")
    if not isinstance(context, Mapping):
        context = {}
    record: dict[str, Any] = {
        "record_ref": ref,
        "trace_id": _hex_id(span.get("traceId") or span.get("trace_id") or context.get("trace_id")),
        "span_id": _hex_id(span.get("spanId") or span.get("span_id") or context.get("span_id")),
        "span_name": span.get("name"),
        "span_start_at": _time(
            span.get("startTimeUnixNano") or span.get("start_time_unix_nano"),
            span.get("start_time"),
        ),
        "span_end_at": _time(
            span.get("endTimeUnixNano") or span.get("end_time_unix_nano"), span.get("end_time")
        ),
        "resource_attributes": other_resource_attributes(resource),
    }
    for column, names in SPAN_ATTRIBUTES.items():
        record[column] = _first(attributes, names)
    for column, names in RESOURCE_ATTRIBUTES.items():
        record[column] = _first(resource, names)
    return record


def is_genai(span: Mapping[str, Any]) -> bool:
    return any(k.startswith("gen_ai.") for k in otlp_attributes(span.get("attributes")))


def spans_of_line(document: Any) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
    """(span, resource attributes) pairs of one parsed line, in either shape."""
    if not isinstance(document, Mapping):
        raise ValueError(f"line is a JSON {type(document).__name__}, not an object")
    if "resourceSpans" in document or "resource_spans" in document:
        for rs in document.get("resourceSpans") or document.get("resource_spans") or []:
            resource = otlp_attributes(((rs or {}).get("resource") or {}).get("attributes"))
            for ss in (rs or {}).get("scopeSpans") or (rs or {}).get("scope_spans") or []:
                for span in (ss or {}).get("spans") or []:
                    if not isinstance(span, Mapping):
                        raise ValueError("a span is not an object")
                    yield span, resource
        return
    flat = document.get("resource")
    if not isinstance(flat, Mapping):
        flat = {}
    yield document, otlp_attributes(flat.get("attributes", {}))


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig") as handle:
        yield from handle


class OtelGenAiSpansExtractor(Extractor):
    type = "otel_genai_spans"
    datasets: ClassVar[dict[str, Dataset]] = {"spans": OTEL_GENAI_SPANS}
    Options = FileSourceOptions
    options: FileSourceOptions

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        root = Path(self.options.path)
        if not root.exists():
            raise FatalSourceError(
                f"span folder does not exist: {root}",
                source=self.name,
                window=self.window,
                record=str(root),
            )
        counts = self.manifest_extra.setdefault(dataset.name, {})
        counts["non_genai_spans_skipped"] = 0
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.is_file() and path.name.lower().endswith(SUFFIXES):
                name = path.name if path == root else str(path.relative_to(root))
                yield from self._file(path, name, counts)

    def _file(self, path: Path, name: str, counts: dict[str, Any]) -> Iterator[Record]:
        try:
            for line_number, line in enumerate(_lines(path), start=1):
                if not line.strip():
                    continue
                ref = f"{name}:{line_number}"
                try:
                    pairs = list(spans_of_line(json.loads(line)))
                except ValueError as exc:
                    # The line itself is never kept: it may hold prompt text.
                    yield Reject(ref, f"not an OTLP/JSON or span line: {exc}", None)
                    continue
                for index, (span, resource) in enumerate(pairs):
                    if not is_genai(span):
                        counts["non_genai_spans_skipped"] += 1
                        continue
                    record = span_record(span, resource, f"{ref}#{index}")
                    start = record["span_start_at"]
                    # Span files run over many days: spans of other days belong to other windows.
                    if not isinstance(start, datetime) or self.window.contains(start):
                        yield record
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise FatalSourceError(
                f"cannot read span file: {exc}", source=self.name, window=self.window, record=name
            ) from None
