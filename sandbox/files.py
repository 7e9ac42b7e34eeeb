"""File outputs of the demo organisation, in the formats real systems drop.

- FOCUS 1.2 export: one CSV (or Parquet) per billing month, named like an AWS
  Data Export with an export id that changes whenever the content changes
  (a restated month is a new export version).
- Value KPI drops: feature_kpis_YYYY-MM-DD.csv per day.
- DCGM series as OpenMetrics text for `promtool tsdb create-blocks-from`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sandbox import focus, gpu
from sandbox.org import DemoOrg, days_between

FOCUS_FILE_PREFIX = "northwind-focus"


def _cell(value: object) -> str:
    if value is None:
        return "NULL"  # as AWS and the FOCUS sample write nulls
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return str(value)


def focus_file_name(month: str, export_id: str, fmt: str = "csv") -> str:
    """`northwind-focus-<YYYY-MM>-<export id>.<fmt>`; the export id versions it."""
    return f"{FOCUS_FILE_PREFIX}-{month}-{export_id}.{fmt}"


def write_focus_export(
    org: DemoOrg, out_dir: Path | str, start: date, end: date, *, fmt: str = "csv"
) -> list[Path]:
    """Write FOCUS 1.2 rows charged in [start, end), one file per billing month.

    An older export of the same month in `out_dir` is replaced, as a provider
    overwrites the month's export when it restates it.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"write_focus_export: fmt must be csv or parquet, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_month: dict[str, list[dict]] = defaultdict(list)
    for day in days_between(start, end):
        by_month[f"{day:%Y-%m}"].extend(focus.focus_rows(org, day))
    written = []
    for month, rows in sorted(by_month.items()):
        text = _focus_csv(rows)
        export_id = hashlib.sha256(text.encode()).hexdigest()[:12]
        for old in out.glob(f"{FOCUS_FILE_PREFIX}-{month}-*"):
            old.unlink()
        path = out / focus_file_name(month, export_id, fmt)
        if fmt == "csv":
            path.write_text(text, encoding="utf-8", newline="")
        else:
            _write_focus_parquet(rows, path)
        written.append(path)
    return written


def _focus_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(focus.COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in focus.COLUMNS])
    return buf.getvalue()


def _write_focus_parquet(rows: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def typed(value: object) -> object:
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return float(value) if isinstance(value, Decimal) else value

    columns = {c: [typed(r[c]) for r in rows] for c in focus.COLUMNS}
    table = pa.table(columns)
    pq.write_table(table, path)


def write_value_kpis(org: DemoOrg, out_dir: Path | str, start: date, end: date) -> list[Path]:
    """One `feature_kpis_YYYY-MM-DD.csv` per day of [start, end)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fields = ["date", "feature_id", "active_users", "conversions", "revenue", "currency"]
    written = []
    for day in days_between(start, end):
        path = out / f"feature_kpis_{day.isoformat()}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            for row in org.value_kpis(day):
                writer.writerow(row | {"revenue": f"{row['revenue']:.2f}"})
        written.append(path)
    return written


def _label_text(labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return "{" + inner + "}"


def write_openmetrics(
    org: DemoOrg, path: Path | str, start: date, end: date, step_seconds: int = 300
) -> Path:
    """DCGM series and kube-state-metrics kube_node_info of [start, end) as OpenMetrics
    text, ending in `# EOF`.

    Samples are grouped per metric family and per series in time order, as
    `promtool tsdb create-blocks-from openmetrics` requires.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = gpu.day_start_ts(start)
    t1 = gpu.day_start_ts(end) - step_seconds  # half-open: no sample at `end`
    with open(out, "w", encoding="utf-8") as fh:
        for metric in gpu.METRICS:
            fh.write(f"# HELP {metric} {gpu.METRIC_HELP[metric]}\n# TYPE {metric} gauge\n")
            for labels, values in gpu.series(org, metric, t0, t1, step_seconds):
                prefix = metric + _label_text(labels)
                fh.writelines(
                    f"{prefix} {gpu.format_value(metric, v)} {int(t)}\n" for t, v in values
                )
        fh.write(
            "# HELP kube_node_info Information about a cluster node.\n# TYPE kube_node_info gauge\n"
        )
        for labels, values in gpu.node_info_series(org, t0, t1, step_seconds):
            prefix = "kube_node_info" + _label_text(labels)
            fh.writelines(f"{prefix} 1 {int(t)}\n" for t, _ in values)
        fh.write("# EOF\n")
    return out
