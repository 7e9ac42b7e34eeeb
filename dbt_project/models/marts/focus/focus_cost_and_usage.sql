-- The fact in FOCUS 1.2 words, for FinOps tools that read FOCUS: one row per
-- fct_ai_cost row, FOCUS column names, our dimensions and AI measures as x_
-- extension columns. A table built with the fact in the same run, so it never
-- disagrees with it, and readers of the published file never reach landing.
--
-- The charge attributes (category, class, frequency) are the fact's own. The
-- FOCUS line's descriptive names (description, account, issuer, publisher,
-- region and resource names, pricing unit, tags) are only presentation: they
-- are looked up for cloud-line pools (macro focus_line_pool_id) and fall back
-- to the fact's ids and names elsewhere.
--
-- Invoice and issuer are the bill's, not the pool's: a GPU pool or any other row
-- that is not one FOCUS line takes them from the bill it sits on (billing
-- account x provider x billing period) when that bill names one issuer and one
-- invoice, so every row of one bill names its issuer alike. Rows that no
-- FOCUS bill carries (provider APIs, estimates) have no InvoiceId.

with

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

line_names as (

    select
        {{ focus_line_pool_id('focus_line_id', 'charge_date') }} as billing_pool_id,
        billing_account_name,
        sub_account_name,
        invoice_id,
        invoice_issuer_name,
        publisher_name,
        charge_description,
        pricing_unit,
        region_name,
        resource_name,
        tags_json
    from focus_lines

),

bills as (

    select
        billing_account_id,
        provider_name,
        billing_period_start,
        min(invoice_id) as invoice_id,
        min(invoice_issuer_name) as invoice_issuer_name
    from focus_lines
    group by 1, 2, 3
    having count(distinct invoice_id) <= 1 and count(distinct invoice_issuer_name) <= 1

),

enriched as (

    select
        fact.* replace (
            -- A FOCUS Tax or Credit line may name no service; FOCUS still needs one.
            coalesce(fact.service_name, fact.charge_category) as service_name,
            coalesce(fact.service_category, 'Other') as service_category
        ),
        line_names.charge_description as line_charge_description,
        line_names.billing_account_name,
        line_names.sub_account_name,
        coalesce(line_names.invoice_id, bills.invoice_id) as invoice_id,
        coalesce(line_names.invoice_issuer_name, bills.invoice_issuer_name) as invoice_issuer_name,
        line_names.publisher_name,
        line_names.pricing_unit as line_pricing_unit,
        line_names.region_name,
        line_names.resource_name,
        line_names.tags_json
    from fact
    left join line_names
        on fact.billing_pool_id = line_names.billing_pool_id
    left join bills
        on
            fact.billing_account_id = bills.billing_account_id
            and fact.provider_name = bills.provider_name
            and fact.billing_period_start = bills.billing_period_start

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
                when 'gpu'
                    then
                        coalesce(sku_id, 'GPU') || ' GPU node-hours'
                        || case when is_idle_cost then ', idle share' else '' end
                else service_name
            end,
            charge_category
        ) as "ChargeDescription",
        charge_frequency as "ChargeFrequency",
        -- Null where no bill names one (InvoiceId-C-005-C, documented for estimated rows).
        invoice_id as "InvoiceId",
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
