-- Splits each LLM billing pool (provider x OpenAI project or Anthropic
-- workspace x day x model, from the providers' cost APIs) over the usage rows
-- of that pool by their estimated cost. Money comes only
-- from the pool: usage decides who it belongs to, never how much there is.
--   * pool with usage   -> one row per usage row, shares sum to the pool
--                          (falls back to tokens, then an even split, when
--                          the usage carries no estimated cost);
--   * pool, no usage    -> one row, team 'unallocated', allocation 'unallocated';
--   * usage, no pool    -> one row, cost_basis 'estimated', billed/effective
--                          cost 0 and the price-book amount in estimated_cost,
--                          so estimates never add to billed totals. LiteLLM
--                          and OTel usage (only ever of providers whose bill
--                          is not pulled, see int_token_usage_unioned) is
--                          always this case, pool '<litellm|otel>_usage:
--                          <provider>:<date>:<model>'.
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

pools as (

    select
        provider || '_costs:' || project_id || ':' || cast(charge_date as varchar)
        || ':' || coalesce(model_id, 'no_model') as billing_pool_id,
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

usage_in_pools as (

    select
        pools.billing_pool_id,
        pools.pool_billed_cost,
        pools.billing_currency,
        usage.*,
        sum(coalesce(usage.estimated_cost, 0)) over (
            partition by pools.billing_pool_id
        ) as pool_estimated_cost,
        sum(usage.input_tokens + usage.output_tokens) over (
            partition by pools.billing_pool_id
        ) as pool_tokens,
        count(*) over (partition by pools.billing_pool_id) as pool_usage_rows
    from pools
    inner join usage
        on
            pools.provider = usage.provider
            and pools.project_id = usage.project_id
            and pools.charge_date = usage.usage_date
            and pools.model_id = usage.model_id

),

shared_out as (

    select
        *,
        case
            when pool_estimated_cost > 0
                then cast(coalesce(estimated_cost, 0) as double) / cast(pool_estimated_cost as double)
            when pool_tokens > 0
                then cast(input_tokens + output_tokens as double) / pool_tokens
            else 1.0 / pool_usage_rows
        end as pool_share
    from usage_in_pools

),

allocated as (

    select
        billing_pool_id,
        usage_id,
        usage_date as charge_date,
        provider,
        provider || '_costs' as source_system,
        project_id as sub_account_id,
        model_id,
        model_family,
        workload_type,
        price_version,
        attribution_rule_id,
        team,
        feature,
        project,
        environment,
        case when is_attributed then 'proportional' else 'unallocated' end as allocation_method,
        'billed' as cost_basis,
        billing_currency,
        cast(pool_billed_cost * pool_share as decimal(38, 12)) as billed_cost,
        estimated_cost,
        input_tokens,
        cached_input_tokens,
        output_tokens,
        requests
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
        cast(0 as bigint) as requests
    from pools
    left join model_families
        on
            pools.provider = model_families.provider
            and pools.model_id = model_families.model_id
    where not exists (
        select 1 as is_match
        from usage
        where
            usage.provider = pools.provider
            and usage.project_id = pools.project_id
            and usage.usage_date = pools.charge_date
            and usage.model_id = pools.model_id
    )

),

usage_without_pool as (

    select
        case
            -- Gateway and trace usage has no project: its pool is the provider-day-model.
            when usage.usage_source in ('litellm', 'otel')
                then
                    usage.usage_source || '_usage:' || usage.provider || ':'
                    || cast(usage.usage_date as varchar) || ':' || coalesce(usage.model_id, 'no_model')
            else
                usage.provider || '_usage:' || usage.project_id || ':' || cast(usage.usage_date as varchar)
                || ':' || coalesce(usage.model_id, 'no_model')
        end as billing_pool_id,
        usage.usage_id,
        usage.usage_date as charge_date,
        usage.provider,
        case
            when usage.usage_source in ('litellm', 'otel') then usage.usage_source
            else usage.provider || '_usage'
        end as source_system,
        usage.project_id as sub_account_id,
        usage.model_id,
        usage.model_family,
        usage.workload_type,
        usage.price_version,
        usage.attribution_rule_id,
        usage.team,
        usage.feature,
        usage.project,
        usage.environment,
        case when usage.is_attributed then 'rule' else 'unallocated' end as allocation_method,
        'estimated' as cost_basis,
        coalesce(usage.price_currency, '{{ var("reporting_currency") }}') as billing_currency,
        cast(0 as decimal(38, 12)) as billed_cost,
        usage.estimated_cost,
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.requests
    from usage
    where not exists (
        select 1 as is_match
        from pools
        where
            usage.provider = pools.provider
            and usage.project_id = pools.project_id
            and usage.usage_date = pools.charge_date
            and usage.model_id = pools.model_id
    )

),

unioned as (

    select * from allocated
    union all
    select * from pools_without_usage
    union all
    select * from usage_without_pool

),

final as (

    select
        *,
        billed_cost as effective_cost,
        billed_cost as list_cost
    from unioned

)

select * from final
