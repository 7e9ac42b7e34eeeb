"""The bad-input catalogue: one careless or hostile input per test, through the extractors.

Each test writes a small file in tmp_path (FOCUS CSV unless said otherwise), runs the
real extractor and landing writer, and records what came out in the attack table.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError, SchemaDriftError
from tests.extractors.test_focus import COLUMNS_12, row, write_csv
from tests.extractors.test_otel import DAY, genai_span

REPO = Path(__file__).resolve().parents[2]
START, END = date(2026, 10, 4), date(2026, 10, 6)  # with the 3-day lookback: Oct 1-5


def run(home: Path, folder: Path, **options) -> dict:
    source = SourceConfig("aws_focus", "focus", {"path": str(folder), **options})
    summary = run_source(
        source, START, END, landing_root=home / "landing", quarantine_root=home / "quarantine"
    )
    return summary["datasets"]["focus_cost_and_usage"]


def table(home: Path, root: str = "landing", source: str = "aws_focus", dataset: str = ""):
    folder = home / root / source / (dataset or "focus_cost_and_usage")
    return ds.dataset(folder, format="parquet").to_table() if folder.exists() else None


def quarantine_reasons(home: Path, **where) -> dict[str, str]:
    rows = table(home, "quarantine", **where)
    return {} if rows is None else {r["record_ref"]: r["reason"] for r in rows.to_pylist()}


def counts(summary: dict) -> dict:
    return {
        "rows_in": summary["rows_in"],
        "loaded": summary["rows_loaded"],
        "quarantined": summary["rows_quarantined"],
    }


def refused(tmp_path: Path, match: str, error=FatalSourceError) -> FatalSourceError:
    with pytest.raises(error, match=match) as caught:
        run(tmp_path, tmp_path / "export")
    assert table(tmp_path) is None and not quarantine_reasons(tmp_path)  # nothing half-landed
    return caught.value


def test_truncated_file(tmp_path, chaos):
    path = write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00"), row(5, "2.00")])
    data = path.read_bytes()
    path.write_bytes(data[: data.rfind(b'"team') + 4])  # cut inside the last Tags value
    error = refused(tmp_path, "ends inside a quoted field that starts on line 3")
    assert error.record == "bill.csv:3"
    chaos(
        "bad input",
        "truncated FOCUS CSV (cut inside a quoted Tags value)",
        rows_in=2,
        loaded=0,
        quarantined=0,
        published="held",
    )


def test_zero_byte_file(tmp_path, chaos):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "bill.csv.gz").write_bytes(b"")
    error = refused(tmp_path, "0 bytes")
    assert error.record == "bill.csv.gz"
    chaos("bad input", "0-byte FOCUS file", rows_in=0, loaded=0, quarantined=0, published="held")


def test_invalid_json(tmp_path, chaos):
    spans = tmp_path / "spans"
    spans.mkdir()
    good = json.dumps(
        {
            "resourceSpans": [
                {"resource": {"attributes": []}, "scopeSpans": [{"spans": [genai_span("a1", DAY)]}]}
            ]
        }
    )
    (spans / "spans.jsonl").write_text(good + '\n{"resourceSpans": [{"scope\n', encoding="utf-8")
    source = SourceConfig("otel", "otel_genai_spans", {"path": str(spans)})
    summary = run_source(
        source,
        DAY.date(),
        DAY.date().replace(day=DAY.day + 1),
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )["datasets"]["otel_genai_spans"]
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    reasons = quarantine_reasons(tmp_path, source="otel", dataset="otel_genai_spans")
    assert list(reasons) == ["spans.jsonl:2"]
    assert reasons["spans.jsonl:2"].startswith("not an OTLP/JSON or span line")
    chaos("bad input", "invalid JSON line in an OTel span file", **counts(summary), published="n/a")


def test_negative_cost_lands(tmp_path, chaos):
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "-12.50", ChargeCategory="Credit")])
    summary = run(tmp_path, tmp_path / "export")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 0)
    assert str(table(tmp_path).column("billed_cost")[0].as_py()) == "-12.500000000000"
    chaos("bad input", "negative BilledCost (a credit)", **counts(summary), published="n/a")


@pytest.mark.parametrize(
    ("billed", "reason"),
    [
        ("NaN", "billed_cost: not a finite number: 'NaN'"),
        ("Infinity", "billed_cost: not a finite number: 'Infinity'"),
        ("1" * 27 + ".5", "billed_cost: number too large for decimal(38,12)"),
        ("1e400", "billed_cost: number too large for decimal(38,12)"),
    ],
)
def test_nan_and_beyond_decimal_range_costs_are_quarantined(tmp_path, chaos, billed, reason):
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00"), row(4, billed)])
    summary = run(tmp_path, tmp_path / "export")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    assert quarantine_reasons(tmp_path)["bill.csv:3"].startswith(reason)
    chaos("bad input", f"BilledCost {billed[:12]}", **counts(summary), published="n/a")


def test_unknown_currency_is_quarantined_or_visible(tmp_path, chaos):
    rows = [
        row(4, "1.00"),
        row(4, "2.00", BillingCurrency="US$"),
        row(4, "3.00", BillingCurrency="XTS"),
    ]
    write_csv(tmp_path / "export" / "bill.csv", rows)
    summary = run(tmp_path, tmp_path / "export")
    # A malformed code is refused; a well-formed code outside the price list lands as is,
    # in its own currency column, where the marts' conversion makes it visible.
    assert quarantine_reasons(tmp_path) == {
        "bill.csv:3": "billing_currency: not an ISO 4217 currency code: 'US$'"
    }
    landed = table(tmp_path).column("billing_currency").to_pylist()
    assert sorted(landed) == ["USD", "XTS"]
    assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_quarantined"] == 3
    chaos("bad input", "currency 'US$' and 'XTS'", **counts(summary), published="n/a")


def test_byte_order_mark(tmp_path, chaos):
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00")], bom=True)
    summary = run(tmp_path, tmp_path / "export")
    assert (summary["rows_loaded"], summary["ignored_columns"]) == (1, [])
    chaos("bad input", "UTF-8 BOM before the header", **counts(summary), published="n/a")


def test_mixed_encodings(tmp_path, chaos):
    rows = [
        row(4, "1.00", ChargeDescription="Zürich"),
        row(4, "2.00"),
        row(5, "3.00"),
        row(5, "4.00", ChargeDescription="café"),
    ]
    path = write_csv(tmp_path / "export" / "bill.csv.gz", rows)
    text = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(text.replace("café".encode(), "café".encode("latin-1"))))
    error = refused(tmp_path, r"byte 0xe9 at byte offset \d+ is not UTF-8")
    assert error.record == "bill.csv.gz:5"  # header, three good rows, then the Latin-1 one
    chaos(
        "bad input",
        "UTF-8 file with one Latin-1 row (gzip)",
        rows_in=4,
        loaded=0,
        quarantined=0,
        published="held",
    )


@pytest.mark.parametrize(("byte", "what"), [("\x00", "NUL byte"), ("\x1b", "C0 control")])
def test_nul_and_control_bytes(tmp_path, chaos, byte, what):
    rows = [row(4, "1.00"), row(4, "2.00", ChargeDescription="GPU hours")]
    path = write_csv(tmp_path / "export" / "bill.csv", rows)
    # The raw byte in the file (json.dumps would have escaped it to \\u0000).
    path.write_bytes(path.read_bytes().replace(b"GPU hours", f"GPU{byte}hours".encode()))
    summary = run(tmp_path, tmp_path / "export")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    reason = quarantine_reasons(tmp_path)["bill.csv:3"]
    assert reason.startswith(f"column charge_description holds a {what}"), reason
    if byte == "\x00":
        assert reason.endswith("which PostgreSQL cannot store")
    chaos("bad input", f"{what} in ChargeDescription", **counts(summary), published="n/a")


def test_sql_quotes_and_newlines_in_tags_round_trip(tmp_path, chaos):
    hostile = {
        "team": "'; drop table fct_ai_cost; --",
        "owner": 'O\'Brien "the boss"',
        "note": "line 1\nline 2\r\n\tindented",
        "sql": "Robert'); DELETE FROM costbridge.ops_day_status;--",
    }
    tags = json.dumps(hostile)
    write_csv(
        tmp_path / "export" / "bill.csv",
        [row(4, "1.00", Tags=tags, ChargeDescription='12" pipe, "quoted"\nand more')],
    )
    summary = run(tmp_path, tmp_path / "export")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 0)
    landed = table(tmp_path).to_pylist()[0]
    assert landed["tags"].encode() == tags.encode()  # byte-identical
    assert landed["charge_description"] == '12" pipe, "quoted"\nand more'
    chaos("bad input", "Tags with SQL, quotes and newlines", **counts(summary), published="n/a")


def test_duplicate_rows_in_one_file_both_land(tmp_path, chaos):
    # FOCUS has no row id: two identical lines are two charges of the bill.
    rows = [row(4, "1.00"), row(4, "1.00"), row(5, "2.00")]
    write_csv(tmp_path / "export" / "bill.csv", rows)
    summary = run(tmp_path, tmp_path / "export")
    assert summary["rows_loaded"] == len(rows) and summary["rows_quarantined"] == 0
    landed = table(tmp_path)
    assert sum(landed.column("billed_cost").to_pylist()) == 4
    assert len(set(landed.column("record_ref").to_pylist())) == 3  # each has its own line
    chaos(
        "bad input",
        "duplicate identical rows in one FOCUS file",
        **counts(summary),
        published="n/a",
        duplicates=0,
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("renamed", r"BilledCosts"),
        ("missing", r"EffectiveCost"),
        ("extra", r"Surprise"),
    ],
)
def test_renamed_missing_and_extra_columns_are_schema_drift(tmp_path, chaos, change, match):
    columns = list(COLUMNS_12)
    if change == "renamed":
        columns[columns.index("BilledCost")] = "BilledCosts"
    elif change == "missing":
        columns.remove("EffectiveCost")
    else:
        columns.append("Surprise")
    rows = [{**row(4, "1.00"), "BilledCosts": "1.00", "Surprise": "x"}]
    write_csv(tmp_path / "export" / "bill.csv", rows, columns=columns)
    error = refused(tmp_path, match, SchemaDriftError)
    assert "bill.csv" in str(error)
    chaos("bad input", f"{change} column", rows_in=1, loaded=0, quarantined=0, published="held")


def test_costbridge_home_with_quotes_in_its_path(tmp_path, chaos):
    home = tmp_path / "x" / 'it\'s "home"'
    write_csv(tmp_path / "export" / "bill.csv", [row(4, "1.00"), row(5, "abc")])
    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n  - name: aws_focus\n    type: focus\n    options:\n"
        f"      path: {json.dumps(str(tmp_path / 'export'))}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "extractors",
            "--config",
            str(config),
            "--source",
            "aws_focus",
            "--start",
            START.isoformat(),
            "--end",
            END.isoformat(),
        ],
        cwd=REPO,
        env={**os.environ, "COSTBRIDGE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["datasets"]["focus_cost_and_usage"]
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    day = home / "landing" / "aws_focus" / "focus_cost_and_usage" / "date=2026-10-04"
    assert pq.read_table(day / "part-0.parquet").num_rows == 1
    manifest = json.loads((day / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows_loaded"] == 1
    assert table(home, "quarantine") is not None
    chaos("bad input", "COSTBRIDGE_HOME with ' and \" in it", **counts(summary), published="n/a")
