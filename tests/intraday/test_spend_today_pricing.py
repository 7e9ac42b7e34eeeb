"""mart_ops__spend_today prices known tokens exactly, from a hand-made intraday landing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import yaml

from extractors.landing import land
from landing.layout import ensure_schema_files
from landing.schemas import OPENAI_USAGE_COMPLETIONS
from landing.window import Window
from warehouse import intraday
from warehouse.settings import Settings

AS_OF = datetime(2026, 10, 20, 10, tzinfo=UTC)
DAY = AS_OF.replace(hour=0)


def _settings(tmp_path) -> Settings:
    sources = tmp_path / "sources.yml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "openai",
                        "type": "openai",
                        "options": {
                            "base_url": "http://127.0.0.1:9",
                            "api_key": {"env": "NO_KEY_NEEDED"},
                            "datasets": ["usage_completions"],
                        },
                    }
                ]
            }
        )
    )
    return Settings(home=tmp_path / "home", sources_file=sources)


def _usage(hour: int, model: str, *, input_tokens=0, cached=0, output=0, requests=1) -> dict:
    start = DAY + timedelta(hours=hour)
    return {
        "record_ref": f"hand-made@{hour}#{model}",
        "project_id": "proj_search",
        "user_id": None,
        "api_key_id": "key_hand_made",
        "model": model,
        "is_batch": False,
        "input_tokens": input_tokens,
        "input_cached_tokens": cached,
        "output_tokens": output,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": requests,
        "bucket_start_at": start,
        "bucket_end_at": start + timedelta(hours=1),
    }


def test_known_tokens_give_the_price_books_exact_cost(tmp_path):
    settings = _settings(tmp_path)
    ensure_schema_files(settings.intraday_landing_root)
    # price_book: gpt-4o-2024-08-06 costs 2.50 USD per 1M input tokens, 1.25 cached, 10.00 output.
    land(
        [
            _usage(3, "gpt-4o-2024-08-06", input_tokens=1_000_000, requests=10),
            _usage(
                7,
                "gpt-4o-2024-08-06",
                input_tokens=400_000,
                cached=400_000,
                output=100_000,
                requests=5,
            ),
        ],
        dataset=OPENAI_USAGE_COMPLETIONS,
        source="openai",
        window=Window(DAY, AS_OF),
        landing_root=settings.intraday_landing_root,
        quarantine_root=settings.intraday_quarantine_root,
    )
    as_of = intraday.plan_as_of({"as_of": "2026-10-20T10:37:12Z"}, None)
    assert as_of.at == AS_OF and as_of.hours_covered == 10

    intraday.validate_landing(settings, as_of, "hand-made")
    next_file = intraday.build(settings, as_of, "hand-made")
    intraday.validate_marts(settings, as_of, next_file, "hand-made")
    intraday.publish(settings, as_of, next_file, "hand-made")

    with duckdb.connect(str(settings.intraday_warehouse_file), read_only=True) as con:
        rows = con.execute(
            "select spend_date, as_of_at, hours_covered, provider, model_id, cost_basis,"
            " estimated_cost, reporting_currency, input_tokens, output_tokens, requests,"
            " typeof(estimated_cost) from mart_ops__spend_today"
        ).fetchall()
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    # 1M input at 2.50 + 0.4M cached at 1.25 + 0.1M output at 10.00 = 2.50 + 0.50 + 1.00.
    assert rows == [
        (
            DAY.date(),
            AS_OF,
            10,
            "openai",
            "gpt-4o-2024-08-06",
            "estimated",
            Decimal("4.000000000000"),
            "USD",
            1_400_000,
            100_000,
            15,
            "DECIMAL(38,12)",
        )
    ]
    assert "fct_ai_cost" not in tables, "the intraday file holds no daily fact"
    assert not (settings.home / "warehouse").exists(), "the daily warehouse is never touched"
    # Gate runs are the intraday's own, named so, outside the daily's log.
    from warehouse.quality_log import read_log

    gates = read_log(settings.intraday_ops_dir).column("gate").to_pylist()
    assert gates == ["intraday_landing", "intraday_marts"]
    assert not read_log(settings.ops_dir).num_rows


def test_a_quiet_day_publishes_an_empty_estimate_never_zeros(tmp_path):
    """No usage yet today: the gates pass, the mart has no rows (not a row of 0), and the
    intraday file still says which hour it is as of."""
    settings = _settings(tmp_path)
    ensure_schema_files(settings.intraday_landing_root)
    land(
        [],
        dataset=OPENAI_USAGE_COMPLETIONS,
        source="openai",
        window=Window(DAY, DAY + timedelta(hours=2)),
        landing_root=settings.intraday_landing_root,
        quarantine_root=settings.intraday_quarantine_root,
    )
    as_of = intraday.plan_as_of({"as_of": "2026-10-20T02:00Z"}, None)
    intraday.validate_landing(settings, as_of, "quiet")
    next_file = intraday.build(settings, as_of, "quiet")
    intraday.validate_marts(settings, as_of, next_file, "quiet")
    intraday.publish(settings, as_of, next_file, "quiet")
    with duckdb.connect(str(settings.intraday_warehouse_file), read_only=True) as con:
        assert con.execute("select count(*) from mart_ops__spend_today").fetchone() == (0,)
        assert con.execute(
            f"select spend_date, as_of_at from {intraday.PUBLICATIONS_TABLE}"
        ).fetchall() == [(DAY.date(), DAY + timedelta(hours=2))]
