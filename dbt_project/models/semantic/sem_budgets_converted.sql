-- Team budgets per month in the reporting currency: the denominator of the
-- budget_burn metric. The conversion is int_budgets_converted's, the same the
-- finance mart reads; this model only gives the semantic layer its key.
with

budgets as (

    select * from {{ ref('int_budgets_converted') }}

),

final as (

    select
        -- ids
        cast({{ surrogate_key(['budget_month', 'cost_center', 'team']) }} as varchar) as team_budget_id,
        cast(team as varchar) as team,
        cast(cost_center as varchar) as cost_center,

        -- strings
        cast(reporting_currency as varchar) as reporting_currency,

        -- numerics
        budget_amount,

        -- dates
        budget_month

    from budgets

)

select * from final
