-- The series the forecast trains on: daily effective cost per team and for
-- the whole org (team 'all'), on final days only (macro final_days_only), so
-- a trailing provisional day never bends a forecast. A series must have no
-- gaps, so the training window is the unbroken run of final days that ends at
-- the last final day: a provisional day in the middle of the history cuts the
-- window there. Days a team spent nothing are zero, not missing.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

day_status as (

    select
        landing_date,
        bool_and(is_final_day) as is_final_day
    from {{ ref('ops_day_status') }}
    group by landing_date

),

last_final_day as (

    select max(landing_date) as last_final_date
    from day_status
    where is_final_day

),

last_provisional_day as (

    select max(day_status.landing_date) as last_provisional_date
    from day_status
    cross join last_final_day
    where
        not day_status.is_final_day
        and day_status.landing_date < last_final_day.last_final_date

),

training_window as (

    select
        min(day_status.landing_date) as first_training_date,
        max(day_status.landing_date) as last_final_date
    from day_status
    cross join last_provisional_day
    where
        day_status.is_final_day
        and (
            last_provisional_day.last_provisional_date is null
            or day_status.landing_date > last_provisional_day.last_provisional_date
        )
    having count(*) > 0

),

training_days as (

    select cast(generated.generate_series as date) as cost_date
    from training_window
    cross join
        generate_series(
            cast(training_window.first_training_date as date),
            training_window.last_final_date,
            interval 1 day
        ) as generated

),

team_costs as (

    select
        fact.charge_date as cost_date,
        fact.team,
        sum(fact.effective_cost_reporting) as daily_cost
    from fact
    inner join training_days on fact.charge_date = training_days.cost_date
    group by fact.charge_date, fact.team

),

org_costs as (

    select
        cost_date,
        'all' as team,
        sum(daily_cost) as daily_cost
    from team_costs
    group by cost_date

),

series_costs as (

    select * from team_costs
    union all
    select * from org_costs

),

series as (

    select distinct team from series_costs

),

final as (

    select
        -- strings
        cast(series.team as varchar) as team,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- numerics
        cast(coalesce(series_costs.daily_cost, 0) as decimal(38, 12)) as daily_cost,

        -- dates
        training_days.cost_date
    from series
    cross join training_days
    left join series_costs
        on
            series.team = series_costs.team
            and training_days.cost_date = series_costs.cost_date

)

select * from final
