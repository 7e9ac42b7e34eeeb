-- Splits each LLM billing pool (provider x OpenAI project or Anthropic
-- workspace x day x model, from the providers' cost APIs) over the usage that
-- drove it. Money comes only from the pool: usage decides who it belongs to,
-- never how much there is. Two drivers see the same calls (ADR 0004):
--   * the provider's usage report, keyed by the pool's project/workspace;
--   * the gateway (LiteLLM SpendLogs, OTel GenAI spans), which knows the
--     team, hashed key, user, end user and tags but not the provider project.
-- Gateway traffic of a provider x day x model is spread over that provider's
-- pools of the day and model by their share of the provider's usage tokens
-- (by billed cost when the provider reported none). In each pool the gateway
-- explains gateway_share = least(1, gateway tokens / provider tokens) of it
-- (1 when the provider reported no usage): that part of the money goes to
-- the gateway rows, the rest to the provider's usage rows, each part split
-- by estimated cost (then tokens, then evenly). Tokens and requests are
-- scaled the same way, so each call is counted once and a pool never pays
-- out more than it holds; the provider's estimate of a pool stays its own.
--   * pool with drivers -> one row per driver row, shares sum to the pool;
--   * pool, no drivers  -> one row, team 'unallocated', allocation 'unallocated';
--   * provider usage, no pool -> an estimated pool '<provider>_usage:<project>:
--                          <date>:<model>' with the same split, billed and
--                          effective cost 0, the estimate in estimated_cost;
--   * gateway usage, no pool of its provider x day x model (self-hosted vLLM,
--                          Bedrock, a day the bill has not reached) ->
--                          estimated, pool '<litellm|otel>_usage:<provider>:
--                          <date>:<model>'.
with

openai_costs as (

    select * from {{ ref('stg_openai__costs') }}

),

anthropic_costs as (

    select * from {{ ref('stg_anthropic__costs') }}

),

cost_lines as (

    select
        'openai' as provider,
        source_name,
        project_id,
        charge_date,
        model_id,
        currency,
        amount
    from openai_costs

    union all

    select
        'anthropic' as provider,
        source_name,
        workspace_id as project_id,
        charge_date,
        model_id,
        currency,
        amount
    from anthropic_costs

),

usage as (

    select * from {{ ref('int_token_usage_attributed') }}

),

price_book as (

    select * from {{ ref('price_book') }}

),

model_families as (

    select
        provider,
        model_id,
        max(model_family) as model_family,
        max(workload_type) as workload_type
    from price_book
    group by provider, model_id

),

billed_pools as (

    select
        {{ llm_pool_id("provider || '_costs'", 'project_id', 'charge_date', 'model_id') }}
            as billing_pool_id,
        provider,
        project_id,
        charge_date,
        model_id,
        max(source_name) as source_name,
        max(currency) as billing_currency,
        sum(amount) as pool_billed_cost
    from cost_lines
    group by provider, project_id, charge_date, model_id

),

provider_usage as (

    select * from usage
    where usage_source in ('openai_usage', 'anthropic_usage')

),

gateway_usage as (

    select * from usage
    where usage_source in ('litellm', 'otel')

),

pools as (

    select
        billing_pool_id,
        provider,
        project_id,
        charge_date,
        model_id,
        billing_currency,
        pool_billed_cost,
        true as is_billed
    from billed_pools

    union all

    -- Provider usage no bill covers: a pool of estimates, no money.
    select distinct
        {{ llm_pool_id(
            "provider_usage.provider || '_usage'", 'provider_usage.project_id',
            'provider_usage.usage_date', 'provider_usage.model_id',
        ) }} as billing_pool_id,
        provider_usage.provider,
        provider_usage.project_id,
        provider_usage.usage_date as charge_date,
        provider_usage.model_id,
        cast(null as varchar) as billing_currency,
        cast(0 as decimal(38, 12)) as pool_billed_cost,
        false as is_billed
    from provider_usage
    where not exists (
        select 1 as is_match
        from billed_pools
        where {{ llm_pool_matches('billed_pools', 'provider_usage') }}
    )

),

pool_provider_tokens as (

    select
        pools.billing_pool_id,
        sum(provider_usage.input_tokens + provider_usage.output_tokens) as provider_tokens,
        {{ exact_sum('provider_usage.estimated_cost') }} as provider_estimated_cost
    from pools
    inner join provider_usage
        on {{ llm_pool_matches('pools', 'provider_usage') }}
    group by pools.billing_pool_id

),

pool_weights as (

    -- How the gateway traffic of a provider x day x model is spread over the
    -- pools of that provider, day and model.
    select
        pools.*,
        coalesce(pool_provider_tokens.provider_tokens, 0) as provider_tokens,
        pool_provider_tokens.provider_estimated_cost,
        case
            when sum(coalesce(pool_provider_tokens.provider_tokens, 0)) over provider_day_model > 0
                then
                    cast(coalesce(pool_provider_tokens.provider_tokens, 0) as double)
                    / sum(coalesce(pool_provider_tokens.provider_tokens, 0)) over provider_day_model
            when sum(pools.pool_billed_cost) over provider_day_model > 0
                then
                    cast(pools.pool_billed_cost as double)
                    / cast(sum(pools.pool_billed_cost) over provider_day_model as double)
            else 1.0 / count(*) over provider_day_model
        end as gateway_weight
    from pools
    left join pool_provider_tokens
        on pools.billing_pool_id = pool_provider_tokens.billing_pool_id
    window provider_day_model as (
        partition by pools.provider, pools.charge_date, coalesce(pools.model_id, 'no_model')
    )

),

pool_gateway_tokens as (

    select
        pool_weights.billing_pool_id,
        {{ exact_sum('(gateway_usage.input_tokens + gateway_usage.output_tokens) * pool_weights.gateway_weight') }}
            as gateway_tokens
    from pool_weights
    inner join gateway_usage
        on {{ llm_gateway_matches('pool_weights', 'gateway_usage') }}
    group by pool_weights.billing_pool_id

),

coverage as (

    select
        pool_weights.*,
        pool_gateway_tokens.billing_pool_id is not null as has_gateway_traffic,
        case
            when pool_gateway_tokens.billing_pool_id is null then 0.0
            when pool_weights.provider_tokens = 0 then 1.0
            else least(1.0, pool_gateway_tokens.gateway_tokens / pool_weights.provider_tokens)
        end as gateway_share,
        -- The gateway may see more tokens than the provider reported for the
        -- pool (retries the provider never billed, clock skew at midnight):
        -- its rows are scaled down to the provider's count, never above it.
        case
            when
                pool_weights.provider_tokens > 0
                and pool_gateway_tokens.gateway_tokens > pool_weights.provider_tokens
                then pool_weights.provider_tokens / pool_gateway_tokens.gateway_tokens
            else 1.0
        end as gateway_token_scale
    from pool_weights
    left join pool_gateway_tokens
        on pool_weights.billing_pool_id = pool_gateway_tokens.billing_pool_id

),

{#- What every driver row carries of its pool. #}
{%- set coverage_columns %}
        coverage.billing_pool_id,
        coverage.project_id as pool_project_id,
        coverage.is_billed,
        coverage.pool_billed_cost,
        coverage.provider_tokens,
        coverage.provider_estimated_cost,
        coverage.billing_currency as pool_currency,
        coverage.gateway_share,
{%- endset %}

drivers as (

    -- The provider's usage rows explain what the gateway does not.
    select
        {{- coverage_columns }}
        'provider_usage' as driver,
        1.0 - coverage.gateway_share as part_share,
        1.0 - coverage.gateway_share as driver_scale,
        provider_usage.*
    from coverage
    inner join provider_usage
        on {{ llm_pool_matches('coverage', 'provider_usage') }}
    where coverage.gateway_share < 1.0

    union all

    select
        {{- coverage_columns }}
        'gateway' as driver,
        coverage.gateway_share as part_share,
        coverage.gateway_weight * coverage.gateway_token_scale as driver_scale,
        gateway_usage.*
    from coverage
    inner join gateway_usage
        on {{ llm_gateway_matches('coverage', 'gateway_usage') }}

),

shared_out as (

    select
        *,
        part_share * case
            when {{ exact_sum('coalesce(estimated_cost, 0)') }} over pool_part > 0
                then
                    cast(coalesce(estimated_cost, 0) as double)
                    / cast({{ exact_sum('coalesce(estimated_cost, 0)') }} over pool_part as double)
            when sum(input_tokens + output_tokens) over pool_part > 0
                then cast(input_tokens + output_tokens as double) / sum(input_tokens + output_tokens) over pool_part
            else 1.0 / count(*) over pool_part
        end as pool_share
    from drivers
    window pool_part as (partition by billing_pool_id, driver)

),

allocated as (

    select
        billing_pool_id,
        usage_id,
        usage_date as charge_date,
        provider,
        case
            when is_billed then provider || '_costs'
            when usage_source in ('litellm', 'otel') then usage_source
            else provider || '_usage'
        end as source_system,
        pool_project_id as sub_account_id,
        model_id,
        model_family,
        workload_type,
        price_version,
        attribution_rule_id,
        team,
        feature,
        -- A gateway row knows no provider project: it takes its pool's.
        coalesce(project, pool_project_id) as project,
        environment,
        case
            when not is_attributed then 'unallocated'
            when is_billed then 'proportional'
            else 'rule'
        end as allocation_method,
        case when is_billed then 'billed' else 'estimated' end as cost_basis,
        case
            when is_billed then pool_currency
            else coalesce(price_currency, '{{ var("reporting_currency") }}')
        end as billing_currency,
        cast(pool_billed_cost * pool_share as decimal(38, 12)) as billed_cost,
        -- Where the provider priced the pool's calls, that estimate stays the
        -- pool's (reconciliation compares the bill with it); the gateway's
        -- rows take their share of it. Else each row's own estimate, scaled.
        case
            when driver = 'gateway' and provider_tokens > 0
                then cast(provider_estimated_cost * pool_share as decimal(38, 12))
            else cast(estimated_cost * driver_scale as decimal(38, 12))
        end as estimated_cost,
        cast(round(input_tokens * driver_scale) as bigint) as input_tokens,
        cast(round(cached_input_tokens * driver_scale) as bigint) as cached_input_tokens,
        cast(round(output_tokens * driver_scale) as bigint) as output_tokens,
        cast(round(requests * driver_scale) as bigint) as requests,
        usage_source,
        driver,
        gateway_share,
        api_key_id,
        user_id,
        end_user_id
    from shared_out

),

pools_without_usage as (

    select
        pools.billing_pool_id,
        cast(null as varchar) as usage_id,
        pools.charge_date,
        pools.provider,
        pools.provider || '_costs' as source_system,
        pools.project_id as sub_account_id,
        pools.model_id,
        model_families.model_family,
        model_families.workload_type,
        cast(null as varchar) as price_version,
        cast(null as varchar) as attribution_rule_id,
        'unallocated' as team,
        'unallocated' as feature,
        pools.project_id as project,
        cast(null as varchar) as environment,
        'unallocated' as allocation_method,
        'billed' as cost_basis,
        pools.billing_currency,
        pools.pool_billed_cost as billed_cost,
        cast(null as decimal(38, 12)) as estimated_cost,
        cast(0 as bigint) as input_tokens,
        cast(0 as bigint) as cached_input_tokens,
        cast(0 as bigint) as output_tokens,
        cast(0 as bigint) as requests,
        cast(null as varchar) as usage_source,
        cast(null as varchar) as driver,
        cast(0.0 as double) as gateway_share,
        cast(null as varchar) as api_key_id,
        cast(null as varchar) as user_id,
        cast(null as varchar) as end_user_id
    from pools
    left join model_families
        on
            pools.provider = model_families.provider
            and pools.model_id = model_families.model_id
    where
        pools.is_billed
        and not exists (
            select 1 as is_match
            from drivers
            where drivers.billing_pool_id = pools.billing_pool_id
        )

),

gateway_without_pool as (

    -- Gateway and trace usage has no project: its pool is the provider-day-model.
    select
        {{ llm_pool_id(
            "gateway_usage.usage_source || '_usage'", 'gateway_usage.provider',
            'gateway_usage.usage_date', 'gateway_usage.model_id',
        ) }} as billing_pool_id,
        gateway_usage.usage_id,
        gateway_usage.usage_date as charge_date,
        gateway_usage.provider,
        gateway_usage.usage_source as source_system,
        gateway_usage.project_id as sub_account_id,
        gateway_usage.model_id,
        gateway_usage.model_family,
        gateway_usage.workload_type,
        gateway_usage.price_version,
        gateway_usage.attribution_rule_id,
        gateway_usage.team,
        gateway_usage.feature,
        gateway_usage.project,
        gateway_usage.environment,
        case when gateway_usage.is_attributed then 'rule' else 'unallocated' end as allocation_method,
        'estimated' as cost_basis,
        coalesce(gateway_usage.price_currency, '{{ var("reporting_currency") }}') as billing_currency,
        cast(0 as decimal(38, 12)) as billed_cost,
        gateway_usage.estimated_cost,
        gateway_usage.input_tokens,
        gateway_usage.cached_input_tokens,
        gateway_usage.output_tokens,
        gateway_usage.requests,
        gateway_usage.usage_source,
        'gateway' as driver,
        cast(1.0 as double) as gateway_share,
        gateway_usage.api_key_id,
        gateway_usage.user_id,
        gateway_usage.end_user_id
    from gateway_usage
    where not exists (
        select 1 as is_match
        from pools
        where {{ llm_gateway_matches('pools', 'gateway_usage') }}
    )

),

unioned as (

    select * from allocated
    union all
    select * from pools_without_usage
    union all
    select * from gateway_without_pool

),

final as (

    select
        *,
        billed_cost as effective_cost,
        billed_cost as list_cost
    from unioned

)

select * from final
