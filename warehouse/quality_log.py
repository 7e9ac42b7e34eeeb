"""The log of gate runs (`ops_data_quality_runs`), readable the moment a gate finishes.

The published warehouse file is never written in place (readers hold it), so a
gate that blocks a day cannot record itself there. Each gate run instead writes
one small Parquet file under ``$COSTBRIDGE_HOME/ops/data_quality_runs/``, by
write-then-rename: the log is append-only, needs no lock, and is queryable at
once::

    select * from read_parquet('<home>/ops/data_quality_runs/*.parquet')

Every publish copies the whole log into the next file (and so into Postgres) as
the table ``ops_data_quality_runs``. See docs/adr/0002-quality-and-quarantine-records.md.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TABLE = "ops_data_quality_runs"
SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("gate", pa.string(), nullable=False),
        pa.field("window_start", pa.date32(), nullable=False),
        pa.field("window_end", pa.date32(), nullable=False),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("blocking_failures", pa.int64(), nullable=False),
        pa.field("warnings", pa.int64(), nullable=False),
        # The findings as GX reported them (suite, check, column, reason), as JSON text.
        pa.field("findings_json", pa.string(), nullable=False),
        pa.field("data_docs_path", pa.string()),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def log_dir(ops_dir: Path) -> Path:
    return Path(ops_dir) / "data_quality_runs"


def record_gate_run(
    ops_dir: Path, result, run_id: str, recorded_at: datetime | None = None
) -> Path:
    """Append one gate result (an `expectations.GateResult`) to the log; return its file."""
    recorded_at = recorded_at or datetime.now(UTC)
    findings = [
        {
            k: f.get(k)
            for k in ("severity", "suite", "expectation", "column", "dataset", "sources", "reason")
        }
        for f in [*result.blocking_failures, *result.warnings]
    ]
    row = {
        "run_id": run_id or "unknown",
        "gate": result.gate,
        "window_start": result.start,
        "window_end": result.end,
        "success": bool(result.success),
        "blocking_failures": len(result.blocking_failures),
        "warnings": len(result.warnings),
        "findings_json": json.dumps(findings, default=str, sort_keys=True),
        "data_docs_path": str(result.data_docs_index) if result.data_docs_index else None,
        "recorded_at": recorded_at,
    }
    folder = log_dir(ops_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = recorded_at.strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}-{result.gate}-{uuid.uuid4().hex[:8]}.parquet"
    # The dot prefix keeps a half-written file out of the `*.parquet` glob readers use.
    temporary = folder / f".{target.name}.tmp"
    pq.write_table(pa.Table.from_pylist([row], schema=SCHEMA), temporary)
    os.replace(temporary, target)
    return target


def read_log(ops_dir: Path) -> pa.Table:
    """Every gate run recorded so far, oldest first (an empty table when none)."""
    files = sorted(log_dir(ops_dir).glob("[!.]*.parquet"))
    if not files:
        return SCHEMA.empty_table()
    table = pa.concat_tables(pq.read_table(f, schema=SCHEMA) for f in files)
    return table.sort_by([("recorded_at", "ascending")])
