-- mart_ops__cost_drivers adds up: per row, volume + price + mix effects equal
-- the change exactly (DECIMAL, no tolerance); per period, the item rows add up
-- to their team rows and to the org row in change and in every effect; and the
-- org row's current and prior cost equal the fact's final days over the same
-- periods to the cent. Returns the rows that fail.
with

drivers as (

    select * from {{ ref('mart_ops__cost_drivers') }}

),

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

rows_that_do_not_add_up as (

    select
        'row' as failure,
        cost_driver_id,
        cost_change - (volume_effect + price_effect + mix_effect) as difference
    from drivers
    where volume_effect + price_effect + mix_effect != cost_change

),

item_rows as (

    select * from drivers
    where driver_level = 'item'

),

items_summed as (

    select
        period_grain,
        period_start,
        team,
        sum(cost_change) as cost_change,
        sum(volume_effect) as volume_effect,
        sum(price_effect) as price_effect,
        sum(mix_effect) as mix_effect
    from item_rows
    group by period_grain, period_start, team

    union all

    select
        period_grain,
        period_start,
        cast(null as varchar) as team,
        sum(cost_change) as cost_change,
        sum(volume_effect) as volume_effect,
        sum(price_effect) as price_effect,
        sum(mix_effect) as mix_effect
    from item_rows
    group by period_grain, period_start

),

totals_that_do_not_add_up as (

    select
        'total' as failure,
        drivers.cost_driver_id,
        drivers.cost_change - items_summed.cost_change as difference
    from drivers
    left join items_summed
        on
            drivers.period_grain = items_summed.period_grain
            and drivers.period_start = items_summed.period_start
            and (
                (drivers.driver_level = 'team' and drivers.team = items_summed.team)
                or (drivers.driver_level = 'org' and items_summed.team is null)
            )
    where
        drivers.driver_level != 'item'
        and (
            items_summed.period_start is null
            or drivers.cost_change != items_summed.cost_change
            or drivers.volume_effect != items_summed.volume_effect
            or drivers.price_effect != items_summed.price_effect
            or drivers.mix_effect != items_summed.mix_effect
        )

),

org_against_fact as (

    select
        'fact' as failure,
        drivers.cost_driver_id,
        drivers.current_cost + drivers.prior_cost - sum(fact.effective_cost_reporting) as difference
    from drivers
    inner join fact
        on
            drivers.prior_period_start <= fact.charge_date
            and drivers.period_end_date >= fact.charge_date
    where drivers.driver_level = 'org'
    group by drivers.cost_driver_id, drivers.current_cost, drivers.prior_cost
    having abs(drivers.current_cost + drivers.prior_cost - sum(fact.effective_cost_reporting)) >= 0.005

)

select * from rows_that_do_not_add_up
union all
select * from totals_that_do_not_add_up
union all
select * from org_against_fact
