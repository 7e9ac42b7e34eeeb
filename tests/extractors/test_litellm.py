"""The LiteLLM SpendLogs extractor against a real PostgreSQL holding LiteLLM's own table."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal

import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg import sql

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import ConfigError, FatalSourceError, RetriableSourceError, SchemaDriftError
from extractors.litellm import METADATA_KEYS, NOT_READ, READ_COLUMNS, LiteLLMExtractor
from landing.layout import partition_dir
from landing.schemas import LITELLM_SPEND_LOGS
from sandbox.litellm_db import (
    COLUMNS,
    COMPLETION_CANARY,
    PROMPT_CANARY,
    TABLE,
    create_spend_logs_table,
    fill_spend_logs,
)
from tests.conftest import REALDATA
from tests.extractors.conftest import landed_days

DAYS = [date(2026, 10, 14), date(2026, 10, 15), date(2026, 10, 16)]
END = date(2026, 10, 17)
ROWS_PER_DAY = 400
DSN_ENV = "COSTBRIDGE_TEST_LITELLM_DSN"


def source(**options) -> SourceConfig:
    return SourceConfig(
        "gateway",
        "litellm",
        {"dsn": {"env": DSN_ENV}, "lookback_days": 0, **options},
    )


@pytest.fixture
def spend_logs(postgres_database, monkeypatch):
    create_spend_logs_table(postgres_database)
    fill_spend_logs(postgres_database, DAYS[0], END, rows_per_day=ROWS_PER_DAY, seed=11)
    monkeypatch.setenv(DSN_ENV, postgres_database)
    return postgres_database


def run(tmp_path, start=DAYS[0], end=END, **options):
    return run_source(
        source(**options),
        start,
        end,
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
    )


def landed(tmp_path, day):
    folder = partition_dir(tmp_path / "landing", "gateway", LITELLM_SPEND_LOGS.name, day)
    return pq.read_table(folder / "part-0.parquet")


def quarantined(tmp_path, day):
    folder = partition_dir(tmp_path / "quarantine", "gateway", LITELLM_SPEND_LOGS.name, day)
    return pq.read_table(folder / "part-0.parquet").to_pylist()


def execute(dsn: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def insert_like(dsn: str, request_id: str, **overrides) -> None:
    """Insert a copy of the first generated row under `request_id`, some columns changed."""
    values = {"request_id": request_id, **overrides}
    exprs = [sql.Literal(values[c]) if c in values else sql.Identifier(c) for c in COLUMNS]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {t} ({cols}) SELECT {exprs} FROM {t} ORDER BY request_id LIMIT 1"
            ).format(
                t=sql.Identifier(TABLE),
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
                exprs=sql.SQL(", ").join(exprs),
            )
        )


def test_every_day_lands_with_the_cost_columns_of_each_request(spend_logs, tmp_path):
    summary = run(tmp_path)

    result = summary["datasets"][LITELLM_SPEND_LOGS.name]
    assert result["partitions"] == [d.isoformat() for d in DAYS]
    assert (result["rows_in"], result["rows_loaded"], result["rows_quarantined"]) == (1200, 1200, 0)
    table = landed(tmp_path, DAYS[1])
    assert table.schema.equals(LITELLM_SPEND_LOGS.schema)
    assert table.num_rows == ROWS_PER_DAY

    rows = {r["request_id"]: r for r in table.to_pylist()}
    db = execute(
        spend_logs,
        f"SELECT request_id, api_key, spend, prompt_tokens, completion_tokens, total_tokens, "
        f'"startTime", cache_hit, request_tags::text, "user", end_user, team_id, '
        f"(metadata->'usage_object'->'prompt_tokens_details'->>'cached_tokens')::bigint, "
        f"metadata->>'user_api_key_alias' "
        f'FROM "{TABLE}" WHERE "startTime"::date = %s',
        (DAYS[1],),
    )
    assert set(rows) == {r[0] for r in db}
    for rid, key, spend, pt, ct, tt, started, hit, tags, user, end_user, team, cached, alias in db:
        row = rows[rid]
        assert row["record_ref"] == rid and row["source_name"] == "gateway"
        assert row["api_key_id"] == key and len(key) == 64  # LiteLLM's hash, as stored
        assert row["spend"] == Decimal(repr(spend)).quantize(Decimal("1e-12"))
        assert row["currency"] == "USD"
        assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (pt, ct, tt)
        assert row["cached_prompt_tokens"] == cached
        assert row["started_at"].replace(tzinfo=None) == started
        assert row["is_cache_hit"] is {"True": True, "False": False, "": None}[hit]
        assert json.loads(row["request_tags"]) == json.loads(tags)
        assert (row["user_id"], row["end_user_id"], row["team_id"]) == (user, end_user, team)
        metadata = json.loads(row["metadata"])
        assert metadata["user_api_key_alias"] == alias
        assert set(metadata) <= set(METADATA_KEYS)  # never usage objects or anything else
    # Cache hits answered by LiteLLM itself cost nothing and say so.
    hits = [r for r in rows.values() if r["is_cache_hit"]]
    assert hits and all(r["spend"] == 0 for r in hits)


def test_prompt_and_completion_text_never_lands_anywhere(spend_logs, tmp_path, caplog):
    # One bad row too, so the quarantine path is covered as well.
    insert_like(spend_logs, "bad-spend-with-canary", spend=-1.5)
    caplog.set_level(logging.DEBUG)
    summary = run(tmp_path)
    assert summary["datasets"][LITELLM_SPEND_LOGS.name]["rows_quarantined"] == 1

    with_canary = f'SELECT count(*) FROM "{TABLE}" WHERE messages::text LIKE %s'
    assert execute(spend_logs, with_canary, (f"%{PROMPT_CANARY}%",))[0][0] == 1201
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert len(files) >= 7  # three partitions and manifests, and the quarantine file
    for f in files:
        data = f.read_bytes()
        assert PROMPT_CANARY.encode() not in data, f
        assert COMPLETION_CANARY.encode() not in data, f
    assert PROMPT_CANARY not in caplog.text and COMPLETION_CANARY not in caplog.text
    assert "CANARY" not in json.dumps(summary)


def test_a_restated_day_is_replaced_not_doubled(spend_logs, tmp_path):
    run(tmp_path)
    # LiteLLM (or an admin) corrects a day: some rows change, some disappear.
    execute(
        spend_logs,
        f'UPDATE "{TABLE}" SET spend = spend * 2 WHERE "startTime"::date = %s',
        (DAYS[1],),
    )
    execute(
        spend_logs,
        f'DELETE FROM "{TABLE}" WHERE "startTime"::date = %s AND request_id LIKE %s',
        (DAYS[1], "%0"),
    )
    expected = execute(
        spend_logs,
        f'SELECT count(*), sum(spend)::numeric(38, 6) FROM "{TABLE}" WHERE "startTime"::date = %s',
        (DAYS[1],),
    )[0]

    run(tmp_path, start=DAYS[1], end=DAYS[2])

    table = landed(tmp_path, DAYS[1])
    assert table.num_rows == expected[0] < ROWS_PER_DAY
    assert len(set(table.column("request_id").to_pylist())) == table.num_rows
    total = sum(table.column("spend").to_pylist())
    assert abs(total - expected[1]) < Decimal("0.000001")
    assert landed(tmp_path, DAYS[0]).num_rows == ROWS_PER_DAY  # other days untouched


def test_rows_that_cannot_land_are_quarantined_with_their_reason(spend_logs, tmp_path):
    # LiteLLM's schema forbids a null startTime; an older or hand-edited table may not.
    execute(spend_logs, f'ALTER TABLE "{TABLE}" ALTER COLUMN "startTime" DROP NOT NULL')
    insert_like(spend_logs, "neg-spend", spend=-0.25)
    insert_like(spend_logs, "no-start", startTime=None, endTime=datetime(2026, 10, 15, 9))
    insert_like(spend_logs, "odd-hit", cache_hit="perhaps")
    insert_like(spend_logs, "nan-spend", spend=float("nan"))
    insert_like(spend_logs, "hit-none", cache_hit="None")  # str(None): unknown, not bad
    execute(
        spend_logs,
        f'UPDATE "{TABLE}" SET metadata = jsonb_set(metadata, '
        "'{usage_object,prompt_tokens_details,cached_tokens}', '\"lots\"') "
        'WHERE request_id = (SELECT min(request_id) FROM "LiteLLM_SpendLogs" '
        "WHERE \"startTime\"::date = '2026-10-16')",
    )

    summary = run(tmp_path)

    result = summary["datasets"][LITELLM_SPEND_LOGS.name]
    assert (result["rows_in"], result["rows_loaded"], result["rows_quarantined"]) == (1205, 1200, 5)
    rejects = {r["record_ref"].split("request_id=")[1]: r for r in quarantined(tmp_path, DAYS[0])}
    assert len(rejects) == 5
    assert rejects["neg-spend"]["reason"] == "spend is not an amount >= 0: -0.25"
    assert rejects["no-start"]["reason"] == "missing required field startTime"
    assert rejects["odd-hit"]["reason"] == "cache_hit: not a boolean: perhaps"
    assert rejects["nan-spend"]["reason"] == "spend is not an amount >= 0: nan"
    [lots] = [r for k, r in rejects.items() if k.startswith("chatcmpl")]
    assert lots["reason"] == "cached_tokens in metadata: not a count: lots"
    payload = json.loads(rejects["neg-spend"]["raw_payload"])
    assert payload["request_id"] == "neg-spend" and payload["spend"] == -0.25
    assert not {"messages", "response", "proxy_server_request"} & set(payload)
    landed_ids = {rid for d in DAYS for rid in landed(tmp_path, d).column("request_id").to_pylist()}
    assert not landed_ids & set(rejects)
    hit_none = [r for r in landed(tmp_path, DAYS[0]).to_pylist() if r["request_id"] == "hit-none"]
    assert [r["is_cache_hit"] for r in hit_none] == [None]

    # Re-running the window replaces the rejects too: never doubled.
    again = run(tmp_path)
    assert again["datasets"][LITELLM_SPEND_LOGS.name]["rows_quarantined"] == 5
    assert len(quarantined(tmp_path, DAYS[0])) == 5


def test_a_renamed_column_stops_the_run_and_names_both_names(spend_logs, tmp_path):
    execute(spend_logs, f'ALTER TABLE "{TABLE}" RENAME COLUMN spend TO spend_usd')
    with pytest.raises(SchemaDriftError) as info:
        run(tmp_path)
    message = str(info.value)
    assert "missing columns ['spend']" in message and "spend_usd" in message
    assert "source=gateway" in message and "window=[2026-10-14, 2026-10-17)" in message
    assert not landed_days(tmp_path / "landing" / "gateway")


def test_a_column_of_another_type_is_drift_too(spend_logs, tmp_path):
    execute(spend_logs, f'ALTER TABLE "{TABLE}" ALTER COLUMN prompt_tokens TYPE text')
    with pytest.raises(SchemaDriftError, match="prompt_tokens is text"):
        run(tmp_path)


def test_an_added_column_is_never_read_but_recorded(spend_logs, tmp_path):
    execute(
        spend_logs,
        f"ALTER TABLE \"{TABLE}\" ADD COLUMN guardrail_transcript text DEFAULT '{PROMPT_CANARY}'",
    )
    summary = run(tmp_path)
    result = summary["datasets"][LITELLM_SPEND_LOGS.name]
    assert result["rows_loaded"] == 1200
    assert result["ignored_columns"] == ["guardrail_transcript"]
    assert "guardrail_transcript" not in landed(tmp_path, DAYS[0]).column_names


def test_a_read_only_role_with_column_grants_is_enough(
    spend_logs, postgres_server, tmp_path, monkeypatch
):
    """The grant in docs/sources.md: the role cannot read messages, and needs not."""
    postgres_server.create_role("costbridge_litellm_reader", "reader-pw-0123")
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in READ_COLUMNS)
    execute(
        spend_logs,
        sql.SQL("GRANT SELECT ({}) ON {} TO costbridge_litellm_reader")
        .format(columns, sql.Identifier(TABLE))
        .as_string(),
    )
    dbname = psycopg.conninfo.conninfo_to_dict(spend_logs)["dbname"]
    reader = postgres_server.dsn(dbname, "costbridge_litellm_reader", "reader-pw-0123")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), psycopg.connect(reader) as conn:
        conn.execute(f'SELECT messages FROM "{TABLE}" LIMIT 1')
    monkeypatch.setenv(DSN_ENV, reader)

    summary = run(tmp_path)
    assert summary["datasets"][LITELLM_SPEND_LOGS.name]["rows_loaded"] == 1200


def test_connection_refused_is_retriable_after_retries_and_never_shows_the_password(
    tmp_path, monkeypatch, caplog
):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(DSN_ENV, f"postgresql://reader:Sup3r-s3cret-pw@127.0.0.1:{port}/litellm")
    caplog.set_level(logging.WARNING)
    with pytest.raises(RetriableSourceError) as info:
        run(tmp_path, retry_total=2, retry_backoff_factor=0.01, connect_timeout=2)
    message = str(info.value)
    assert "source=gateway" in message and "window=[2026-10-14, 2026-10-17)" in message
    assert "(attempts: 3)" in message
    assert "Sup3r-s3cret-pw" not in message and "Sup3r-s3cret-pw" not in caplog.text
    assert caplog.text.count("retrying in") == 2


def test_a_wrong_password_is_fatal_and_not_retried(postgres_database, tmp_path, monkeypatch):
    params = psycopg.conninfo.conninfo_to_dict(postgres_database)
    wrong = psycopg.conninfo.make_conninfo(**{**params, "password": "not-the-Password-42"})
    monkeypatch.setenv(DSN_ENV, wrong)
    with pytest.raises(FatalSourceError) as info:
        run(tmp_path, retry_total=3, retry_backoff_factor=0.01)
    assert not isinstance(info.value, RetriableSourceError)
    assert "(attempts: 1)" in str(info.value)
    assert "not-the-Password-42" not in str(info.value)


def test_a_malformed_dsn_is_fatal_and_not_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv(DSN_ENV, "Sup3r-s3cret-pw")  # a password where the DSN should be
    with pytest.raises(FatalSourceError) as info:
        run(tmp_path)
    assert "Sup3r-s3cret-pw" not in str(info.value)


def test_the_dsn_must_name_where_the_secret_lives():
    with pytest.raises(ConfigError, match="never the secret itself"):
        LiteLLMExtractor.validate_options("gateway", {"dsn": "postgresql://u:p@h/db"})


def test_an_airflow_connection_gives_the_whole_dsn(spend_logs, tmp_path, monkeypatch):
    from urllib.parse import quote

    from warehouse.airflow_secrets import airflow_secret_resolver

    p = psycopg.conninfo.conninfo_to_dict(spend_logs)
    uri = (
        f"postgresql://{quote(p['user'])}:{quote(p['password'], safe='')}"
        f"@{p['host']}:{p['port']}/{p['dbname']}"
    )
    monkeypatch.setenv("AIRFLOW_CONN_LITELLM_DB", uri)
    monkeypatch.delenv(DSN_ENV)
    config = SourceConfig(
        "gateway", "litellm", {"dsn": {"airflow_conn": "litellm_db"}, "lookback_days": 0}
    )
    summary = run_source(
        config,
        DAYS[0],
        DAYS[1],
        landing_root=tmp_path / "landing",
        quarantine_root=tmp_path / "quarantine",
        secrets=airflow_secret_resolver,
    )
    assert summary["datasets"][LITELLM_SPEND_LOGS.name]["rows_loaded"] == ROWS_PER_DAY


@pytest.mark.realdata
def test_every_column_of_litellms_real_schema_is_read_or_deliberately_not():
    schema = (
        REALDATA / "litellm_pricing_and_spendlogs_schema" / "LiteLLM_SpendLogs.schema.prisma.txt"
    )
    if not schema.exists():
        pytest.skip(f"real LiteLLM schema not present at {schema} (../shared/realdata is optional)")
    text = schema.read_text(encoding="utf-8")
    lines = text.split("model LiteLLM_SpendLogs {", 1)[1].splitlines()
    body = lines[: lines.index("}")]  # defaults such as @default("{}") hold braces too
    fields = {
        line.split()[0]
        for line in body
        if line.strip() and not line.strip().startswith(("@@", "//"))
    }
    assert set(READ_COLUMNS) <= fields
    assert fields == set(READ_COLUMNS) | NOT_READ
