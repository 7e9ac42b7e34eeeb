-- Team budgets per month in the reporting currency: the denominator of the
-- budget_burn metric. The same conversion as mart_finance__unit_cost's
-- budgets_converted (the mart keeps it inline; a shared intermediate model
-- would let both read one).
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
        cast({{ surrogate_key(['budgets.budget_month', 'budgets.cost_center', 'budgets.team']) }} as varchar)
            as team_budget_id,
        cast(budgets.team as varchar) as team,
        cast(budgets.cost_center as varchar) as cost_center,

        -- strings
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,

        -- numerics
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
