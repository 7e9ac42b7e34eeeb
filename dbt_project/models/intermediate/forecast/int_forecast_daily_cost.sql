-- The series the forecast trains on: daily effective cost per team and for
-- the whole org (team 'all'), on final days only (macro final_days_only), so
-- a trailing provisional day never bends a forecast. A series must have no
-- gaps, so the training window is the unbroken run of final days that ends at
-- the last final day: a provisional day in the middle of the history cuts the
-- window there. Days a team spent nothing are zero, not missing.
--
-- Known one-off events (events_calendar kind campaign or launch) must not bend
-- the model: no model of past spend foresees them, and a campaign's spike
-- inflates the fitted trend and variance for weeks. A standard holiday
-- adjustment: on an event day of the series (the event's team, every team when
-- the event names none; the org total 'all' matches every event) training_cost
-- is the cost of the same weekday in the latest earlier ordinary week, and
-- daily_cost stays the actual (month-to-date figures and the backtest's
-- scoring use it). An event in the first week has no baseline: it trains on
-- the actual. Model switches and price changes are lasting, so they are
-- trained on as they are.
--
-- One-time charges (FOCUS ChargeFrequency 'One-Time': the month's tax, a
-- credit, a purchase) are lumpy, not a daily rate: one on the last day reads
-- to a trend model as a new level and sends the forecast into the tens of
-- thousands. training_cost leaves them out (the run rate is forecast, not the
-- next tax bill); daily_cost keeps them, so actuals and scoring are the bill's.
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
        sum(fact.effective_cost_reporting) as daily_cost,
        sum(
            case when fact.charge_frequency = 'One-Time' then 0 else fact.effective_cost_reporting end
        ) as run_rate_cost
    from fact
    inner join training_days on fact.charge_date = training_days.cost_date
    group by fact.charge_date, fact.team

),

org_costs as (

    select
        cost_date,
        'all' as team,
        sum(daily_cost) as daily_cost,
        sum(run_rate_cost) as run_rate_cost
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

one_off_events as (

    select
        team,
        start_date,
        end_date
    from {{ ref('events_calendar') }}
    where kind in ('campaign', 'launch')

),

event_days as (

    select distinct
        series.team,
        training_days.cost_date
    from series
    cross join training_days
    inner join one_off_events
        on
            training_days.cost_date >= one_off_events.start_date
            and training_days.cost_date <= coalesce(one_off_events.end_date, training_days.cost_date)
            and (
                series.team = 'all'
                or one_off_events.team is null
                or series.team = one_off_events.team
            )

),

series_days as (

    select
        series.team,
        training_days.cost_date,
        coalesce(series_costs.daily_cost, 0) as daily_cost,
        coalesce(series_costs.run_rate_cost, 0) as run_rate_cost,
        event_days.team is not null as is_event_day
    from series
    cross join training_days
    left join series_costs
        on
            series.team = series_costs.team
            and training_days.cost_date = series_costs.cost_date
    left join event_days
        on
            series.team = event_days.team
            and training_days.cost_date = event_days.cost_date

),

with_baseline as (

    select
        *,
        last_value(case when not is_event_day then run_rate_cost end ignore nulls) over (
            partition by team, dayofweek(cost_date)
            order by cost_date
            rows between unbounded preceding and 1 preceding
        ) as ordinary_weekday_cost
    from series_days

),

final as (

    select
        -- strings
        cast(team as varchar) as team,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- numerics
        cast(daily_cost as decimal(38, 12)) as daily_cost,
        cast(
            case
                when is_event_day then coalesce(ordinary_weekday_cost, run_rate_cost)
                else run_rate_cost
            end as decimal(38, 12)
        ) as training_cost,

        -- booleans
        is_event_day,

        -- dates
        cost_date
    from with_baseline

)

select * from final
