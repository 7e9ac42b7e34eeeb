-- Spend per API key and per user, the bridge the fact's grain leaves out:
-- the fact stops at team x feature, this mart keeps which key (the
-- provider's key id or LiteLLM's hashed virtual key, never a raw key) and
-- which user and end user each share of an LLM pool went to
-- (int_llm_cost_allocated, ADR 0004). Users are many: per team and day the
-- var spend_by_user_top_n biggest internal users and end users (by billed
-- plus estimated cost) keep their id, the rest fold into '(other)', so the
-- mart's size stays bounded and its total still equals the fact's.
{%- set top_n = var('spend_by_user_top_n') %}
with

allocated as (

    select * from {{ final_days_only(ref('int_llm_cost_allocated'), 'charge_date') }}

),

user_spend as (

    select
        *,
        sum(billed_cost + coalesce(estimated_cost, 0)) over (
            partition by charge_date, team, user_id
        ) as user_spend,
        sum(billed_cost + coalesce(estimated_cost, 0)) over (
            partition by charge_date, team, end_user_id
        ) as end_user_spend
    from allocated

),

ranked as (

    select
        *,
        dense_rank() over (
            partition by charge_date, team, user_id is null
            order by user_spend desc, user_id asc
        ) as user_rank,
        dense_rank() over (
            partition by charge_date, team, end_user_id is null
            order by end_user_spend desc, end_user_id asc
        ) as end_user_rank
    from user_spend

),

folded as (

    select
        charge_date,
        provider,
        model_id,
        team,
        coalesce(usage_source, 'none') as key_source,
        coalesce(api_key_id, '(none)') as api_key_id,
        case
            when user_id is null then '(none)'
            when user_rank <= {{ top_n }} then user_id
            else '(other)'
        end as user_id,
        case
            when end_user_id is null then '(none)'
            when end_user_rank <= {{ top_n }} then end_user_id
            else '(other)'
        end as end_user_id,
        cost_basis,
        billing_currency,
        billed_cost,
        effective_cost,
        estimated_cost,
        input_tokens,
        output_tokens,
        requests
    from ranked

),

{%- set grain = [
    'charge_date', 'provider', 'model_id', 'team', 'key_source', 'api_key_id', 'user_id',
    'end_user_id', 'cost_basis', 'billing_currency',
] %}

aggregated as (

    select
        {%- for column in grain %}
        {{ column }},
        {%- endfor %}
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(estimated_cost) as estimated_cost,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(requests) as requests
    from folded
    group by all

),

final as (

    select
        {{ surrogate_key(grain) }} as spend_by_key_id,
        charge_date,
        provider,
        coalesce(model_id, 'no_model') as model_id,
        team,
        key_source,
        api_key_id,
        user_id,
        end_user_id,
        cost_basis,
        billing_currency,
        cast(billed_cost as decimal(38, 12)) as billed_cost,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(requests as bigint) as requests
    from aggregated

)

select * from final
