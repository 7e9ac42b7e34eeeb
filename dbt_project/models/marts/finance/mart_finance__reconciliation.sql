-- Finance's check of the bill against usage: per day x provider x project x
-- model, what the provider billed next to what the price book says the
-- reported usage should have cost. A variance is a price change the bill
-- does not follow yet, a discount or surcharge, usage nobody reported, or a
-- bill for usage the warehouse never saw. Token cost only (GPU and cloud
-- lines have no usage estimate). Amounts are in billing_currency.
-- Status, with tolerance var reconciliation_tolerance_pct (percent, default 0.1):
--   matched                 |billed - estimated| within the tolerance
--   billed_above_estimate   billed more than the estimate
--   billed_below_estimate   billed less than the estimate
--   bill_without_usage      billed, but no priced usage explains it
--   usage_without_bill      usage no bill covers (its cost is estimated only)
{%- set tolerance_pct = var('reconciliation_tolerance_pct', 0.1) %}
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}
    where cost_type = 'tokens'

),

aggregated as (

    select
        charge_date,
        provider_name,
        coalesce(sub_account_id, 'no_project') as project_id,
        coalesce(model_id, 'no_model') as model_id,
        billing_currency,
        -- An aggregate's own order by, not a clause: LT14 misreads it.
        string_agg(distinct price_version, ', ' order by price_version) as price_versions,  -- noqa: LT14
        sum(billed_cost) as billed_cost,
        sum(case when cost_basis = 'billed' then estimated_cost end) as estimated_cost_of_billed_usage,
        sum(case when cost_basis = 'estimated' then estimated_cost end) as estimated_cost_unbilled,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(requests) as requests,
        bool_or(cost_basis = 'billed') as has_bill,
        bool_or(cost_basis = 'estimated' or estimated_cost is not null) as has_usage
    from fact
    group by charge_date, provider_name, project_id, model_id, billing_currency

),

classified as (

    select
        *,
        coalesce(estimated_cost_of_billed_usage, 0) + coalesce(estimated_cost_unbilled, 0) as estimated_cost,
        case
            when has_bill then billed_cost - coalesce(estimated_cost_of_billed_usage, 0)
        end as variance,
        case
            when not has_bill then 'usage_without_bill'
            when coalesce(estimated_cost_of_billed_usage, 0) = 0 then 'bill_without_usage'
            when
                abs(billed_cost - estimated_cost_of_billed_usage)
                <= abs(estimated_cost_of_billed_usage) * {{ tolerance_pct }} / 100.0
                then 'matched'
            when billed_cost > estimated_cost_of_billed_usage then 'billed_above_estimate'
            else 'billed_below_estimate'
        end as reconciliation_status
    from aggregated

),

final as (

    select
        -- ids
        cast({{ surrogate_key([
            'charge_date', 'provider_name', 'project_id', 'model_id', 'billing_currency',
        ]) }} as varchar) as reconciliation_id,
        cast(project_id as varchar) as project_id,
        cast(model_id as varchar) as model_id,

        -- strings
        cast(provider_name as varchar) as provider_name,
        cast(billing_currency as varchar) as billing_currency,
        cast(price_versions as varchar) as price_versions,
        cast(reconciliation_status as varchar) as reconciliation_status,

        -- numerics
        cast(billed_cost as decimal(38, 12)) as billed_cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(estimated_cost_of_billed_usage as decimal(38, 12)) as estimated_cost_of_billed_usage,
        cast(estimated_cost_unbilled as decimal(38, 12)) as estimated_cost_unbilled,
        cast(variance as decimal(38, 12)) as variance,
        {{ safe_divide('variance', 'estimated_cost_of_billed_usage') }} as variance_pct,
        cast(input_tokens as bigint) as input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(requests as bigint) as requests,

        -- booleans
        cast(has_bill as boolean) as has_bill,
        cast(has_usage as boolean) as has_usage,

        -- dates
        cast(charge_date as date) as charge_date

    from classified

)

select * from final
