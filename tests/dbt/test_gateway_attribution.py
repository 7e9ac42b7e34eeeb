"""The gateway attributes (ADR 0004): LiteLLM traffic to a provider whose bill is pulled drives
its share of that provider's pools, each call counted once, and spend per hashed key and end
user adds up to the fact."""

from __future__ import annotations

from tests.dbt import landing_fixture as fx
from tests.dbt.dbt_helpers import CENT, query, scalar

MINI_POOLS = ("proj_search", "proj_support")
# LiteLLM's per-pool token share is rounded to whole tokens, once per row and pool.
TOKEN_ROUNDING = 4


def test_the_fact_gives_the_gateways_team_its_share_of_the_billed_pool(built):
    # proj_support's gpt-4o-mini pool is all support-ai's by the Usage API's keys. The
    # gateway (LiteLLM team search, tag feature:query-rewrite) explains its share of
    # it. On the old main LiteLLM's OpenAI traffic never reached the fact and search
    # had no cost in proj_support at all.
    billed = scalar(
        built["warehouse"],
        f"""
        select sum(billed_cost) from fct_ai_cost
        where source_system = 'openai_costs' and sub_account_id = 'proj_support'
            and model_id = '{fx.MINI}' and team = 'search' and feature = 'query-rewrite'""",
    )
    support_pools = len(fx.DAYS) * sum(
        amount for item, amount in fx.SUPPORT_BILL_LINES if item.startswith(fx.MINI)
    )
    assert billed is not None
    assert abs(billed - support_pools * fx.GATEWAY_MINI_SHARE) < CENT


def test_each_call_is_counted_once_in_the_fact(built):
    # The Usage API and LiteLLM both saw the gateway's calls: the fact's tokens per
    # pool are the provider's, not the provider's plus the gateway's.
    rows = query(
        built["warehouse"],
        f"""
        select sub_account_id, charge_date, sum(input_tokens + output_tokens)
        from fct_ai_cost
        where source_system = 'openai_costs' and model_id = '{fx.MINI}'
        group by all""",
    )
    assert len(rows) == len(MINI_POOLS) * len(fx.DAYS)
    for project, day, tokens in rows:
        assert abs(tokens - fx.MINI_PROVIDER_TOKENS[project]) <= TOKEN_ROUNDING, (project, day)


def test_pools_the_gateway_never_saw_keep_the_providers_attribution(built):
    # gpt-4o (proj_research, proj_growth) has no LiteLLM traffic: all of it is
    # attributed by the Usage API's projects and keys, as before.
    rows = query(
        built["warehouse"],
        f"""
        select distinct driver from intermediate.int_llm_cost_allocated
        where provider = 'openai' and model_id <> '{fx.MINI}' and driver is not null""",
    )
    assert rows == [("provider_usage",)]


def test_spend_per_hashed_key_and_end_user_sums_to_the_fact(built):
    wh = built["warehouse"]
    final_days = "select distinct landing_date from ops_day_status where is_final_day"
    mart = scalar(wh, "select sum(billed_cost) from mart_engineering__spend_by_key_and_user")
    fact = scalar(
        wh,
        f"""
        select sum(billed_cost) from fct_ai_cost
        where source_system in ('openai_costs', 'anthropic_costs')
            and charge_date in ({final_days})""",
    )
    assert mart is not None and abs(mart - fact) < CENT
    days = scalar(wh, f"select count(*) from ({final_days})")
    assert days > 0
    per_key = dict(
        query(
            wh,
            """
            select api_key_id || '/' || end_user_id, sum(billed_cost)
            from mart_engineering__spend_by_key_and_user
            where key_source = 'litellm' and provider = 'openai' group by 1""",
        )
    )
    day_pools = [
        sum(
            amount
            for day, project, item, amount in fx.COST_ROWS
            if day == d and project in MINI_POOLS and item.startswith(fx.MINI)
        )
        for (d,) in query(wh, final_days)
    ]
    expected = sum(day_pools) * fx.GATEWAY_MINI_SHARE
    key = f"{fx.LITELLM_OPENAI_KEY}/{fx.LITELLM_OPENAI_END_USER}"
    assert per_key.keys() == {key}
    assert abs(per_key[key] - expected) < CENT


def test_no_raw_key_reaches_the_spend_by_key_mart(built):
    keys = query(
        built["warehouse"],
        "select distinct api_key_id from mart_engineering__spend_by_key_and_user",
    )
    assert keys and not any(key.startswith("sk-") for (key,) in keys)
