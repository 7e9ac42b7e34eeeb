-- Team budgets per month in the reporting currency, at the fx rate in force on
-- the first day of the budget month. Read by the finance mart (budget and
-- variance) and by the semantic layer (budget_burn), so both see one number.
with

budgets as (

    select * from {{ ref('budgets') }}

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

final as (

    select
        -- ids
        budgets.cost_center,
        budgets.team,

        -- strings
        budgets.currency as budget_currency,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- numerics
        cast(budgets.budget_amount as decimal(38, 12)) as budget_amount_original,
        cast(
            cast(budgets.budget_amount as double) * {{ rate_to_reporting('budgets.currency') }}
            as decimal(38, 12)
        ) as budget_amount,

        -- dates
        cast(budgets.budget_month as date) as budget_month

    from budgets
    {{ join_rate_to_reporting('budgets.currency', 'budgets.budget_month') }}

)

select * from final
