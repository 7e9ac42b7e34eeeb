"""The provider APIs the doubles speak: parameters in, (status, JSON body) out.

Shapes follow the real APIs: OpenAI organization costs and usage, Anthropic
usage and cost reports, Prometheus query_range. The generator's data is daily;
a bucket that covers part of a day gets that share of the day's totals.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sandbox import gpu
from sandbox.org import DemoOrg

Params = dict[str, list[str]]
Response = tuple[int, dict[str, Any]]

WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
# Default and maximum number of buckets per page, per bucket width.
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
COSTS_LIMITS = (7, 180)
MAX_POINTS = 11_000
OPENAI_ORG_ID = "org-northwind-demo"


class BadRequest(Exception):
    """A request the real API would refuse with 400; message is the API's text."""


def one(params: Params, name: str, default: str | None = None) -> str | None:
    values = params.get(name) or params.get(f"{name}[]")
    return values[-1] if values else default


def many(params: Params, name: str) -> list[str]:
    """A repeatable parameter: `x=a&x=b`, `x[]=a` or `x=a,b`."""
    values = (params.get(name) or []) + (params.get(f"{name}[]") or [])
    return [v for item in values for v in item.split(",") if v]


def parse_time(text: str, name: str) -> float:
    """Unix seconds or RFC 3339, as the APIs accept them."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadRequest(f"Invalid value for '{name}': {text!r}") from None


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_page(ts: float) -> str:
    return "page_" + base64.urlsafe_b64encode(rfc3339(ts).encode()).decode()


def decode_page(token: str) -> float:
    try:
        return parse_time(base64.urlsafe_b64decode(token.removeprefix("page_")).decode(), "page")
    except (ValueError, BadRequest, UnicodeDecodeError):
        raise BadRequest(f"Invalid page token: {token!r}") from None


def limit_of(params: Params, default: int, maximum: int) -> int:
    text = one(params, "limit")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise BadRequest(f"Invalid value for 'limit': must be between 1 and {maximum}")
    return int(text)


def bucket_edges(start: float, end: float, width: int, snap: bool) -> list[tuple[float, float]]:
    """Buckets over [start, end): aligned to the width in UTC after the first.

    OpenAI starts the first bucket at start_time itself; Anthropic snaps it
    down to the start of the minute/hour/day.
    """
    if snap:
        start = math.floor(start / width) * width
    edges = []
    t = start
    while t < end:
        nxt = min((math.floor(t / width) + 1) * width, end)
        edges.append((t, nxt))
        t = nxt
    return edges


def share_of_days(b_start: float, b_end: float) -> list[tuple[date, float]]:
    """The days a bucket touches and the share of each day it covers."""
    out = []
    t = b_start
    while t < b_end:
        day_start = math.floor(t / 86400) * 86400
        nxt = min(day_start + 86400, b_end)
        out.append((datetime.fromtimestamp(day_start, UTC).date(), (nxt - t) / 86400))
        t = nxt
    return out


def aggregate(
    rows: list[tuple[float, dict[str, Any]]], group_by: list[str], dims: list[str]
) -> list[dict[str, Any]]:
    """Sum numeric fields of (share, row) pairs over the grouped dimensions.

    Dimensions not grouped by come back null, as the real APIs return them.
    """
    groups: dict[tuple, dict[str, Any]] = {}
    for share, row in rows:
        key = tuple(row.get(d) if d in group_by else None for d in dims)
        acc = groups.setdefault(key, {d: k for d, k in zip(dims, key, strict=True)})
        _add(acc, row, share, dims)
    return [groups[k] for k in sorted(groups, key=lambda k: tuple(str(x) for x in k))]


def _add(acc: dict, row: dict, share: float, dims: list[str]) -> None:
    for name, value in row.items():
        if name in dims:
            continue
        if isinstance(value, dict):
            _add(acc.setdefault(name, {}), value, share, [])
        elif isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            continue  # labels and metadata are not summed
        else:
            scaled = value * Decimal(str(share)) if isinstance(value, Decimal) else value * share
            acc[name] = acc.get(name, 0) + scaled


def _round_ints(result: dict[str, Any]) -> dict[str, Any]:
    for k, v in result.items():
        if isinstance(v, float) and not k.startswith("amount"):
            result[k] = int(round(v))
        elif isinstance(v, dict):
            _round_ints(v)
    return result


def paged_buckets(
    params: Params,
    edges: list[tuple[float, float]],
    limit: int,
    bucket: Callable[[float, float], dict[str, Any]],
) -> dict[str, Any]:
    page = one(params, "page")
    if page:
        resume = decode_page(page)
        edges = [e for e in edges if e[0] >= resume]
    shown, rest = edges[:limit], edges[limit:]
    return {
        "data": [bucket(s, e) for s, e in shown],
        "has_more": bool(rest),
        "next_page": encode_page(rest[0][0]) if rest else None,
    }


OPENAI_USAGE_DIMS = {
    "completions": ["project_id", "user_id", "api_key_id", "model", "batch"],
    "embeddings": ["project_id", "user_id", "api_key_id", "model"],
}
OPENAI_COST_DIMS = ["project_id", "line_item"]


def _openai_window(params: Params) -> tuple[float, float | None]:
    start_text = one(params, "start_time")
    if start_text is None:
        raise BadRequest("Missing required parameter: 'start_time'.")
    if not start_text.isdigit():
        raise BadRequest(f"Invalid value for 'start_time': {start_text!r} is not an integer")
    start = float(start_text)
    end_text = one(params, "end_time")
    end = parse_time(end_text, "end_time") if end_text else None
    return start, end


def _check_group_by(group_by: list[str], allowed: list[str]) -> None:
    for g in group_by:
        if g not in allowed:
            raise BadRequest(f"Invalid value for 'group_by': {g!r}. Allowed: {allowed}")


def openai_usage(org: DemoOrg, kind: str, params: Params) -> Response:
    width_name = one(params, "bucket_width", "1d")
    if width_name not in WIDTHS:
        raise BadRequest(f"Invalid value for 'bucket_width': {width_name!r}")
    width = WIDTHS[width_name]
    default_limit, max_limit = USAGE_LIMITS[width_name]
    limit = limit_of(params, default_limit, max_limit)
    dims = OPENAI_USAGE_DIMS[kind]
    group_by = many(params, "group_by")
    _check_group_by(group_by, dims)
    start, end = _openai_window(params)
    end = end if end is not None else start + limit * width
    obj = f"organization.usage.{kind}.result"

    def bucket(b_start: float, b_end: float) -> dict[str, Any]:
        rows = [(s, r) for d, s in share_of_days(b_start, b_end) for r in org.openai_usage(d, kind)]
        results = [{"object": obj} | _round_ints(r) for r in aggregate(rows, group_by, dims)]
        return {
            "object": "bucket",
            "start_time": int(b_start),
            "end_time": int(b_end),
            "results": results,
        }

    body = paged_buckets(params, bucket_edges(start, end, width, snap=False), limit, bucket)
    return 200, {"object": "page"} | body


def openai_costs(org: DemoOrg, params: Params) -> Response:
    width_name = one(params, "bucket_width", "1d")
    if width_name != "1d":
        raise BadRequest(
            f"Invalid value for 'bucket_width': {width_name!r}. Only '1d' is supported."
        )
    limit = limit_of(params, *COSTS_LIMITS)
    group_by = many(params, "group_by")
    _check_group_by(group_by, OPENAI_COST_DIMS)
    start, end = _openai_window(params)
    end = end if end is not None else start + limit * 86400

    def bucket(b_start: float, b_end: float) -> dict[str, Any]:
        rows = [(s, r) for d, s in share_of_days(b_start, b_end) for r in org.openai_cost_lines(d)]
        results = [
            {
                "object": "organization.costs.result",
                "amount": {"value": round(r.get("amount", 0.0), 10), "currency": "usd"},
                "line_item": r["line_item"],
                "project_id": r["project_id"],
                "organization_id": OPENAI_ORG_ID,
            }
            for r in aggregate(rows, group_by, OPENAI_COST_DIMS)
        ]
        return {
            "object": "bucket",
            "start_time": int(b_start),
            "end_time": int(b_end),
            "results": results,
        }

    body = paged_buckets(params, bucket_edges(start, end, 86400, snap=False), limit, bucket)
    return 200, {"object": "page"} | body


ANTHROPIC_USAGE_DIMS = ["api_key_id", "workspace_id", "model", "service_tier", "context_window"]
ANTHROPIC_COST_DIMS = ["workspace_id", "description"]


def _anthropic_window(params: Params) -> tuple[float, float | None]:
    start_text = one(params, "starting_at")
    if start_text is None:
        raise BadRequest("starting_at: Field required")
    start = parse_time(start_text, "starting_at")
    end_text = one(params, "ending_at")
    return start, parse_time(end_text, "ending_at") if end_text else None


def anthropic_usage(org: DemoOrg, params: Params) -> Response:
    width_name = one(params, "bucket_width", "1d")
    if width_name not in WIDTHS:
        raise BadRequest(f"bucket_width: Input should be '1d', '1h' or '1m', got {width_name!r}")
    width = WIDTHS[width_name]
    limit = limit_of(params, *USAGE_LIMITS[width_name])
    group_by = many(params, "group_by")
    _check_group_by(group_by, ANTHROPIC_USAGE_DIMS)
    start, end = _anthropic_window(params)
    end = end if end is not None else math.floor(start / width) * width + limit * width

    def bucket(b_start: float, b_end: float) -> dict[str, Any]:
        rows = [(s, r) for d, s in share_of_days(b_start, b_end) for r in org.anthropic_usage(d)]
        return {
            "starting_at": rfc3339(b_start),
            "ending_at": rfc3339(b_end),
            "results": [_round_ints(r) for r in aggregate(rows, group_by, ANTHROPIC_USAGE_DIMS)],
        }

    return 200, paged_buckets(params, bucket_edges(start, end, width, snap=True), limit, bucket)


def anthropic_costs(org: DemoOrg, params: Params) -> Response:
    width_name = one(params, "bucket_width", "1d")
    if width_name != "1d":
        raise BadRequest(f"bucket_width: Input should be '1d', got {width_name!r}")
    limit = limit_of(params, 7, 31)
    group_by = many(params, "group_by")
    _check_group_by(group_by, ANTHROPIC_COST_DIMS)
    start, end = _anthropic_window(params)
    end = end if end is not None else math.floor(start / 86400) * 86400 + limit * 86400
    by_description = "description" in group_by

    def bucket(b_start: float, b_end: float) -> dict[str, Any]:
        rows = [
            (
                s,
                {
                    "workspace_id": r["workspace_id"],
                    "description": r["description"],
                    "amount_cents": r["amount_cents"],
                    "meta": (r["model"], r["token_type"]),
                },
            )
            for d, s in share_of_days(b_start, b_end)
            for r in org.anthropic_cost_lines(d)
        ]
        meta = {r["description"]: r["meta"] for _, r in rows}
        results = []
        for r in aggregate(rows, group_by, ANTHROPIC_COST_DIMS):
            model, token_type = meta.get(r["description"], (None, None))
            results.append(
                {
                    "currency": "USD",
                    "amount": f"{r.get('amount_cents', Decimal(0)):.4f}",  # cents, as a string
                    "workspace_id": r["workspace_id"],
                    "description": r["description"],
                    "cost_type": "tokens" if by_description else None,
                    "context_window": "0-200k" if by_description else None,
                    "model": model,
                    "service_tier": "standard" if by_description else None,
                    "token_type": token_type,
                    "inference_geo": None,
                }
            )
        return {"starting_at": rfc3339(b_start), "ending_at": rfc3339(b_end), "results": results}

    return 200, paged_buckets(params, bucket_edges(start, end, 86400, snap=True), limit, bucket)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*')


class PromError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_type, self.status = error_type, status


def _prom_step(text: str | None) -> float:
    if text is None:
        raise PromError("bad_data", 'invalid parameter "step": cannot parse "" to a valid duration')
    m = _DURATION.match(text)
    try:
        step = float(m.group(1)) * _UNITS[m.group(2)] if m else float(text)
    except ValueError:
        raise PromError(
            "bad_data", f'invalid parameter "step": cannot parse "{text}" to a valid duration'
        ) from None
    if step <= 0:
        raise PromError(
            "bad_data",
            "zero or negative query resolution step widths are not "
            "accepted. Try a positive integer",
        )
    return step


def _prom_time(text: str | None, name: str) -> float:
    try:
        return parse_time(text or "", name)
    except BadRequest:
        raise PromError(
            "bad_data", f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp'
        ) from None


def parse_selector(query: str) -> tuple[str, dict[str, str]]:
    """A metric name, `name{l="v",...}` or `{__name__="X",...}` (equality only)."""
    m = _SELECTOR.match(query or "")
    if not m or not (m.group(1) or m.group(2)):
        raise PromError(
            "bad_data",
            f'invalid parameter "query": 1:1: parse error: unsupported expression {query!r}',
        )
    matchers: dict[str, str] = {}
    for part in filter(str.strip, (m.group(2) or "").split(",")):
        mm = _MATCHER.fullmatch(part)
        if not mm:
            raise PromError("bad_data", f'invalid parameter "query": parse error in {part!r}')
        matchers[mm.group(1)] = mm.group(2)
    name = m.group(1) or matchers.pop("__name__", None)
    if not name:
        raise PromError(
            "bad_data", 'invalid parameter "query": vector selector must contain a metric name'
        )
    return name, matchers


def prometheus_query_range(org: DemoOrg, params: Params) -> Response:
    try:
        metric, matchers = parse_selector(one(params, "query") or "")
        start = _prom_time(one(params, "start"), "start")
        end = _prom_time(one(params, "end"), "end")
        step = _prom_step(one(params, "step"))
        if end < start:
            raise PromError(
                "bad_data", 'invalid parameter "end": end timestamp must not be before start time'
            )
        if (end - start) / step > MAX_POINTS:
            raise PromError(
                "bad_data",
                "exceeded maximum resolution of 11,000 points per "
                "timeseries. Try decreasing the query resolution "
                "(?step=XX)",
            )
    except PromError as exc:
        return exc.status, {"status": "error", "errorType": exc.error_type, "error": str(exc)}
    result = []
    found = (
        gpu.node_info_series(org, start, end, step)
        if metric == "kube_node_info"
        else gpu.series(org, metric, start, end, step)
    )
    for labels, values in found:
        if all(labels.get(k) == v for k, v in matchers.items()):
            result.append(
                {
                    "metric": labels,
                    "values": [[_prom_ts(t), gpu.format_value(metric, v)] for t, v in values],
                }
            )
    return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}


def _prom_ts(t: float) -> float | int:
    return int(t) if t == int(t) else round(t, 3)
