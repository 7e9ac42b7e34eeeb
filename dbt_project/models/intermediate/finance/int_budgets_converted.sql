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
            cast(budgets.budget_amount as double) * case
                when budgets.currency = '{{ var("reporting_currency") }}' then 1.0
                else cast(fx.rate as double)
            end as decimal(38, 12)
        ) as budget_amount,

        -- dates
        cast(budgets.budget_month as date) as budget_month

    from budgets
    left join fx
        on
            budgets.currency = fx.from_currency
            and fx.to_currency = '{{ var("reporting_currency") }}'
            and budgets.budget_month >= fx.valid_from
            and (fx.valid_to is null or budgets.budget_month < fx.valid_to)

)

select * from final
