-- The fact in FOCUS 1.2 words, for FinOps tools that read FOCUS: one row per
-- fct_ai_cost row, FOCUS column names, our dimensions and AI measures as x_
-- extension columns. A view, so it never disagrees with the fact.
--
-- The fact keeps no FOCUS charge attributes (category, class, frequency,
-- description, account and invoice issuer names): for FOCUS lines they are
-- read back from staging through the row's billing pool
-- ('focus:line:<focus_line_id>:<date>'); GPU node-day pools hold only usage
-- lines (Tax and Credit are excluded from them), and LLM pools are usage.
{{ config(materialized='view') }}

with

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

line_pools as (

    select
        'focus:line:' || focus_line_id || ':' || cast(charge_date as varchar) as billing_pool_id,
        billing_account_name,
        sub_account_name,
        invoice_issuer_name,
        publisher_name,
        charge_category,
        charge_class,
        charge_description,
        charge_frequency,
        pricing_unit,
        region_name,
        resource_name,
        tags_json
    from focus_lines

),

enriched as (

    select
        fact.* replace (
            -- A FOCUS Tax or Credit line may name no service; FOCUS still needs one.
            coalesce(fact.service_name, line_pools.charge_category) as service_name,
            coalesce(fact.service_category, 'Other') as service_category
        ),
        coalesce(line_pools.charge_category, 'Usage') as charge_category,
        line_pools.charge_class,
        line_pools.charge_description as line_charge_description,
        line_pools.charge_frequency as line_charge_frequency,
        line_pools.billing_account_name,
        line_pools.sub_account_name,
        line_pools.invoice_issuer_name,
        line_pools.publisher_name,
        line_pools.pricing_unit as line_pricing_unit,
        line_pools.region_name,
        line_pools.resource_name,
        line_pools.tags_json
    from fact
    left join line_pools
        on fact.billing_pool_id = line_pools.billing_pool_id

),

final as (

    select
        -- FOCUS 1.2: billing account and sub account. A provider API source is
        -- one organisation's admin key, so the source names the account when
        -- the bill carries none.
        coalesce(billing_account_id, source_system) as "BillingAccountId",
        coalesce(billing_account_name, billing_account_id, source_system) as "BillingAccountName",
        sub_account_id as "SubAccountId",
        case when sub_account_id is not null then coalesce(sub_account_name, sub_account_id) end
            as "SubAccountName",
        coalesce(invoice_issuer_name, provider_name) as "InvoiceIssuerName",
        provider_name as "ProviderName",
        coalesce(publisher_name, provider_name) as "PublisherName",

        -- FOCUS 1.2: the charge
        charge_category as "ChargeCategory",
        charge_class as "ChargeClass",
        coalesce(
            line_charge_description,
            case cost_type
                when 'tokens' then model_id || ' tokens'
                when 'gpu' then coalesce(sku_id, 'GPU') || case
                    when is_idle_cost then ' GPU node-hours, idle share' else ' GPU node-hours' end
                else service_name
            end,
            charge_category
        ) as "ChargeDescription",
        -- Enumerated: some exports spell it in another case ('Usage-based' in the
        -- FinOps Foundation's own FOCUS 1.0 sample); anything else passes through
        -- and fails the accepted_values test.
        case lower(line_charge_frequency)
            when 'usage-based' then 'Usage-Based'
            when 'one-time' then 'One-Time'
            when 'recurring' then 'Recurring'
            else coalesce(
                line_charge_frequency,
                case when charge_category = 'Usage' then 'Usage-Based' else 'One-Time' end
            )
        end as "ChargeFrequency",
        -- The fact keeps no invoice ids; FOCUS wants null when none is known.
        cast(null as varchar) as "InvoiceId",
        timezone('UTC', cast(billing_period_start as timestamp)) as "BillingPeriodStart",
        timezone('UTC', cast(billing_period_start + interval 1 month as timestamp)) as "BillingPeriodEnd",
        timezone('UTC', cast(charge_date as timestamp)) as "ChargePeriodStart",
        timezone('UTC', cast(charge_date + interval 1 day as timestamp)) as "ChargePeriodEnd",

        -- FOCUS 1.2: money, all in the billing currency
        billing_currency as "BillingCurrency",
        billed_cost as "BilledCost",
        effective_cost as "EffectiveCost",
        list_cost as "ListCost",
        -- No negotiated or commitment pricing is modelled: contracted = effective.
        effective_cost as "ContractedCost",

        -- FOCUS 1.2: pricing and usage quantities (null where FOCUS wants null:
        -- no pricing on Tax, no consumption outside Usage)
        case when charge_category in ('Usage', 'Purchase') then 'Standard' end as "PricingCategory",
        case
            when charge_category = 'Tax' then null
            when cost_type = 'tokens' then consumed_quantity / 1000000
            else consumed_quantity
        end as "PricingQuantity",
        case
            when charge_category = 'Tax' or consumed_quantity is null then null
            when cost_type = 'tokens' then '1000000 Tokens'
            else coalesce(line_pricing_unit, consumed_unit)
        end as "PricingUnit",
        case when charge_category = 'Usage' then consumed_quantity end as "ConsumedQuantity",
        case
            when charge_category = 'Usage' and consumed_quantity is not null then
                case when cost_type = 'tokens' then 'Tokens' else consumed_unit end
        end as "ConsumedUnit",

        -- FOCUS 1.2: what was charged
        service_category as "ServiceCategory",
        case
            when cost_type = 'tokens' then 'Generative AI'
            else 'Other (' || service_category || ')'
        end as "ServiceSubcategory",
        service_name as "ServiceName",
        sku_id as "SkuId",
        resource_id as "ResourceId",
        case when resource_id is not null then coalesce(resource_name, resource_id) end
            as "ResourceName",
        region_id as "RegionId",
        case when region_id is not null then coalesce(region_name, region_id) end as "RegionName",
        tags_json as "Tags",

        -- costbridge extensions: attribution
        ai_cost_id as "x_AiCostId",
        billing_pool_id as "x_BillingPoolId",
        source_system as "x_SourceSystem",
        team as "x_Team",
        cost_center as "x_CostCenter",
        feature as "x_Feature",
        project as "x_Project",
        environment as "x_Environment",
        allocation_method as "x_AllocationMethod",
        is_shared_cost as "x_IsSharedCost",
        is_idle_cost as "x_IsIdleCost",

        -- costbridge extensions: AI dimensions and measures (null where they do
        -- not apply: FOCUS forbids 0 as a placeholder)
        cost_type as "x_CostType",
        cost_basis as "x_CostBasis",
        model_id as "x_ModelId",
        model_family as "x_ModelFamily",
        workload_type as "x_WorkloadType",
        price_version as "x_PriceVersion",
        estimated_cost as "x_EstimatedCost",
        case when cost_type = 'tokens' then input_tokens end as "x_InputTokens",
        case when cost_type = 'tokens' then cached_input_tokens end as "x_CachedInputTokens",
        case when cost_type = 'tokens' then output_tokens end as "x_OutputTokens",
        case when cost_type = 'tokens' then requests end as "x_Requests",
        case when cost_type = 'gpu' then gpu_hours_allocated end as "x_GpuHoursAllocated",
        case when cost_type = 'gpu' then gpu_hours_busy end as "x_GpuHoursBusy",
        case when cost_type = 'gpu' then gpu_hours_idle end as "x_GpuHoursIdle",
        reporting_currency as "x_ReportingCurrency",
        effective_cost_reporting as "x_EffectiveCostReporting"

    from enriched

)

select * from final
