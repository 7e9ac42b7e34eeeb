"""The test PostgreSQL cluster and the LiteLLM SpendLogs generator on it."""

from __future__ import annotations

import re
from datetime import date, datetime

import psycopg
import pytest
import yaml

from sandbox import litellm_db
from sandbox.litellm_db import (
    COLUMNS,
    COMPLETION_CANARY,
    DEMO_ORG,
    PROMPT_CANARY,
    TABLE,
    create_spend_logs_table,
    fill_spend_logs,
)
from tests.conftest import REALDATA

DAY = date(2026, 10, 15)
NEXT_DAY = date(2026, 10, 16)
ORG = yaml.safe_load(DEMO_ORG.read_text(encoding="utf-8"))


def scalar(dsn: str, query: str, params: tuple = ()) -> object:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()[0][0]


def test_roles_need_their_password_over_tcp(postgres_server):
    postgres_server.create_role("bi_reader", "s3cret-for-test")
    dsn = postgres_server.create_database("bi", owner="bi_reader")
    assert (
        scalar(postgres_server.dsn("bi", "bi_reader", "s3cret-for-test"), "select current_user")
        == "bi_reader"
    )
    assert scalar(dsn, "select current_setting('fsync')") == "off"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_server.dsn("bi", "bi_reader", "wrong")).close()


@pytest.fixture
def spend_logs(postgres_database):
    create_spend_logs_table(postgres_database)
    return postgres_database


def test_fill_writes_every_row_of_every_day(spend_logs, monkeypatch):
    # Small chunks so that a day spans several COPY chunks and their seeds.
    monkeypatch.setattr(litellm_db, "CHUNK_ROWS", 3_000)
    written = fill_spend_logs(spend_logs, DAY, date(2026, 10, 17), rows_per_day=5_000, seed=7)
    assert written == 10_000
    with psycopg.connect(spend_logs) as conn:
        per_day = conn.execute(
            f'select "startTime"::date, count(*), count(distinct request_id) from "{TABLE}"'
            " group by 1 order by 1"
        ).fetchall()
    assert per_day == [(DAY, 5_000, 5_000), (NEXT_DAY, 5_000, 5_000)]


def test_ten_thousand_rows_carry_canaries_and_the_demo_catalogue(spend_logs):
    assert fill_spend_logs(spend_logs, DAY, NEXT_DAY, rows_per_day=10_000, seed=11) == 10_000
    with psycopg.connect(spend_logs) as conn:
        count, with_prompt, with_proxy_prompt = conn.execute(
            f"""select count(*),
                       count(*) filter (where messages::text like %s),
                       count(*) filter (where proxy_server_request::text like %s)
                from "{TABLE}" """,
            (f"%{PROMPT_CANARY}%", f"%{PROMPT_CANARY}%"),
        ).fetchall()[0]
        completions = conn.execute(
            f"""select count(*) filter (where response::text like %s),
                       count(*) filter (where status = 'success')
                from "{TABLE}" """,
            (f"%{COMPLETION_CANARY}%",),
        ).fetchall()[0]
        teams = {r[0] for r in conn.execute(f'select distinct team_id from "{TABLE}"')}
        tags = {
            r[0]
            for r in conn.execute(
                f'select distinct jsonb_array_elements_text(request_tags) from "{TABLE}"'
            )
        }
        models = {r[0] for r in conn.execute(f'select distinct model from "{TABLE}"')}
        bounds = conn.execute(
            f'select min("startTime"), max("startTime") from "{TABLE}"'
        ).fetchall()[0]
    assert count == with_prompt == with_proxy_prompt == 10_000
    assert completions[0] == completions[1] > 9_000  # failed requests have an empty response
    assert teams <= {t["team"] for t in ORG["teams"]} | {None}
    assert None in teams  # the unmapped key's requests arrive without a team
    assert "feature:support-chatbot" in tags and "env:production" in tags
    assert {t.split(":", 1)[1] for t in tags if t.startswith("feature:")} <= {
        f["feature"] for f in ORG["features"]
    }
    assert models <= {m["model"] for m in ORG["models"]} and len(models) >= 5
    assert datetime(2026, 10, 15) <= bounds[0] <= bounds[1] < datetime(2026, 10, 16)


def test_spend_is_priced_from_the_catalogue(spend_logs):
    fill_spend_logs(spend_logs, DAY, NEXT_DAY, rows_per_day=2_000, seed=3)
    prices = [(m["model"], m["input"], m["cached_input"], m["output"]) for m in ORG["models"]]
    with psycopg.connect(spend_logs) as conn:
        rows = conn.execute(
            f"""with price(model, p_in, p_cached, p_out) as (
                    select * from unnest(%s::text[], %s::float8[], %s::float8[], %s::float8[]))
                select l.request_id, l.spend, l.cache_hit, l.status,
                    ((l.prompt_tokens - c.cached) * p.p_in + c.cached * p.p_cached
                     + l.completion_tokens * p.p_out) / 1e6 as priced
                from "{TABLE}" as l
                cross join lateral (
                    select (
                        l.metadata #>> '{{usage_object,prompt_tokens_details,cached_tokens}}'
                    )::int as cached
                ) as c
                inner join price as p on p.model = l.model""",
            [list(col) for col in zip(*prices, strict=True)],
        ).fetchall()
    assert len(rows) == 2_000
    for request_id, spend, cache_hit, status, priced in rows:
        expected = 0.0 if cache_hit == "True" or status == "failure" else priced
        assert spend == pytest.approx(expected, rel=1e-9, abs=1e-12), request_id
    assert sum(r[1] for r in rows) > 0


def test_same_seed_same_rows_other_seed_other_rows(postgres_server, spend_logs):
    def digest(dsn: str) -> str:
        return scalar(
            dsn, f"""select md5(string_agg(t::text, '|' order by request_id)) from "{TABLE}" as t"""
        )

    fill_spend_logs(spend_logs, DAY, NEXT_DAY, rows_per_day=1_000, seed=5)
    twin = postgres_server.create_database("twin")
    other = postgres_server.create_database("other")
    try:
        for dsn, seed in ((twin, 5), (other, 6)):
            create_spend_logs_table(dsn)
            fill_spend_logs(dsn, DAY, NEXT_DAY, rows_per_day=1_000, seed=seed)
        assert digest(twin) == digest(spend_logs)
        assert digest(other) != digest(spend_logs)
    finally:
        postgres_server.drop_database("twin")
        postgres_server.drop_database("other")


def test_bad_range_is_refused_before_touching_the_table(spend_logs):
    with pytest.raises(ValueError, match="LiteLLM_SpendLogs: 2026-10-16..2026-10-15"):
        fill_spend_logs(spend_logs, NEXT_DAY, DAY, rows_per_day=10, seed=1)


PRISMA = REALDATA / "litellm_pricing_and_spendlogs_schema" / "LiteLLM_SpendLogs.schema.prisma.txt"


@pytest.mark.realdata
@pytest.mark.skipif(not PRISMA.exists(), reason=f"real LiteLLM schema not present at {PRISMA}")
def test_table_has_the_columns_of_litellms_prisma_schema(spend_logs):
    block = (
        PRISMA.read_text(encoding="utf-8")
        .split("model LiteLLM_SpendLogs {", 1)[1]
        .split("\n}", 1)[0]
    )
    prisma = {}
    for line in block.splitlines():
        m = re.match(r"\s*(\w+)\s+(String|Int|Float|DateTime|Json)(\??)", line)
        if m:
            prisma[m.group(1)] = (m.group(2), m.group(3) == "?")
    pg_type = {
        "String": "text",
        "Int": "integer",
        "Float": "double precision",
        "DateTime": "timestamp without time zone",
        "Json": "jsonb",
    }
    with psycopg.connect(spend_logs) as conn:
        actual = {
            name: (dtype, nullable == "YES")
            for name, dtype, nullable in conn.execute(
                "select column_name, data_type, is_nullable from information_schema.columns"
                " where table_name = %s",
                (TABLE,),
            )
        }
    assert actual == {name: (pg_type[t], optional) for name, (t, optional) in prisma.items()}
    assert set(COLUMNS) == set(prisma)
