with

source as (

    select * from {{ source('focus', 'cost_and_usage') }}

),

renamed as (

    select
        -- ids
        source_name || ':' || record_ref as focus_line_id,
        source_name,
        record_ref,
        billing_account_id,
        sub_account_id,
        sku_id,
        sku_price_id,
        region_id,
        resource_id,
        commitment_discount_id,
        -- FOCUS InvoiceId, null where the export has none (the FOCUS 1.0 sample)
        invoice_id,

        -- strings
        focus_version,
        export_version,
        billing_account_name,
        sub_account_name,
        invoice_issuer_name,
        provider_name,
        publisher_name,
        upper(billing_currency) as billing_currency,
        charge_category,
        charge_class,
        charge_description,
        -- FOCUS enumerates ChargeFrequency, but exports spell it in other cases
        -- ('Usage-based' in the FinOps Foundation's own FOCUS 1.0 sample). Any
        -- other value passes through and fails the accepted_values test.
        case lower(charge_frequency)
            when 'usage-based' then 'Usage-Based'
            when 'one-time' then 'One-Time'
            when 'recurring' then 'Recurring'
            else charge_frequency
        end as charge_frequency,
        service_category,
        service_name,
        region_name,
        availability_zone,
        resource_name,
        resource_type,
        pricing_category,
        pricing_unit,
        consumed_unit,
        commitment_discount_type,
        tags as tags_json,
        sku_meter,
        -- SkuPriceDetails is JSON in FOCUS 1.2+; text that is not JSON is kept, never parsed
        case when json_valid(sku_price_details) then sku_price_details end
            as sku_price_details_json,

        -- numerics
        cast(pricing_quantity as double) as pricing_quantity,
        cast(consumed_quantity as double) as consumed_quantity,
        cast(list_unit_price as decimal(38, 12)) as list_unit_price,
        cast(contracted_unit_price as decimal(38, 12)) as contracted_unit_price,
        cast(billed_cost as decimal(38, 12)) as billed_cost,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(list_cost as decimal(38, 12)) as list_cost,
        cast(contracted_cost as decimal(38, 12)) as contracted_cost,

        -- booleans
        coalesce(
            lower(json_extract_string(tags, '$.shared')) = 'true', false
        ) as is_tagged_shared,

        -- dates (UTC)
        cast(timezone('UTC', charge_period_start) as date) as charge_date,
        cast(timezone('UTC', billing_period_start) as date) as billing_period_start,

        -- timestamps (UTC)
        charge_period_start as charge_period_start_at,
        charge_period_end as charge_period_end_at,
        billing_period_start as billing_period_start_at,
        billing_period_end as billing_period_end_at

    from source

),

token_lines as (

    -- A token line (Bedrock, Azure OpenAI, Vertex on a FOCUS bill) is a Usage charge whose
    -- ConsumedUnit is 'Tokens', as in the FOCUS 1.3 AI billing examples. Its model and token
    -- class come from SkuPriceDetails (ModelId, ModelFamily, TokenDirection or TokenType,
    -- TokenCacheAction), else the class from SkuMeter ("Cache Read Input Tokens").
    select
        *,
        charge_category = 'Usage' and lower(trim(consumed_unit)) = 'tokens' as is_token_line,
        lower(coalesce(
            json_extract_string(sku_price_details_json, '$.TokenDirection'),
            json_extract_string(sku_price_details_json, '$.TokenType')
        )) as token_direction,
        lower(json_extract_string(sku_price_details_json, '$.TokenCacheAction')) as cache_action
    from renamed

),

final as (

    select
        * exclude (is_token_line, token_direction, cache_action),
        case when is_token_line then json_extract_string(sku_price_details_json, '$.ModelId') end
            as token_model_id,
        case when is_token_line then json_extract_string(sku_price_details_json, '$.ModelFamily') end
            as token_model_family,
        case
            when not is_token_line then null
            when token_direction = 'output' or lower(sku_meter) like '%output%' then 'output'
            when cache_action = 'read' or lower(sku_meter) like '%cache read%' then 'cached_input'
            when cache_action = 'write' or lower(sku_meter) like '%cache write%'
                then 'cache_write_input'
            else 'input'
        end as token_class
    from token_lines

)

select * from final
