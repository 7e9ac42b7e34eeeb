-- The Costs API has no model dimension: the model lives only inside the
-- line_item text, "<model>, <token type>[ (batch)]", e.g.
-- "gpt-4o-2024-08-06, cached input (batch)". Line items without a comma
-- (tool calls, storage) keep model_id null and token_type = the whole text.
with

source as (

    select * from {{ source('openai', 'costs') }}

),

parsed as (

    select
        *,
        trim(line_item) as line_item_clean,
        strpos(line_item, ',') > 0 as has_model
    from source

),

renamed as (

    select
        -- ids
        source_name || ':' || record_ref as cost_line_id,
        source_name,
        record_ref,
        organization_id,
        coalesce(project_id, 'no_project') as project_id,
        case
            when has_model then trim(split_part(line_item_clean, ',', 1))
        end as model_id,

        -- strings
        line_item,
        lower(trim(regexp_replace(
            case
                when has_model
                    then substr(line_item_clean, strpos(line_item_clean, ',') + 1)
                else line_item_clean
            end,
            '\s*\(batch\)\s*$', ''
        ))) as token_type,
        upper(currency) as currency,

        -- numerics
        cast(amount as decimal(38, 12)) as amount,

        -- booleans
        regexp_matches(line_item_clean, '\(batch\)\s*$') as is_batch,

        -- dates (UTC)
        cast(timezone('UTC', bucket_start_at) as date) as charge_date,

        -- timestamps (UTC)
        bucket_start_at,
        bucket_end_at

    from parsed

)

select * from renamed
