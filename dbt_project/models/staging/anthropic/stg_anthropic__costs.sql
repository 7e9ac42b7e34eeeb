-- Unlike OpenAI, the cost report grouped by description carries the model
-- and token type as their own fields. Costs without a model (tools, web
-- search) keep model_id null.
with

source as (

    select * from {{ source('anthropic', 'costs') }}

),

renamed as (

    select
        -- ids
        source_name || ':' || record_ref as cost_line_id,
        source_name,
        record_ref,
        coalesce(workspace_id, 'default_workspace') as workspace_id,
        model as model_id,

        -- strings
        description,
        cost_type as anthropic_cost_type,
        lower(token_type) as token_type,
        service_tier,
        context_window,
        upper(currency) as currency,

        -- numerics
        cast(amount as decimal(38, 12)) as amount,

        -- booleans
        coalesce(lower(service_tier) = 'batch', false) as is_batch,

        -- dates (UTC)
        cast(timezone('UTC', bucket_start_at) as date) as charge_date,

        -- timestamps (UTC)
        bucket_start_at,
        bucket_end_at

    from source

)

select * from renamed
