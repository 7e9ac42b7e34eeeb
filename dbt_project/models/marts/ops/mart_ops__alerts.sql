-- One row per alert: what crossed which rule, when, against what, and why
-- (the events of the calendar that match it). Read by reports/alerts.py, which
-- delivers each alert_id once to its routes.
--
-- Only final days count (ops_day_status): a provisional day is missing a
-- source, so its spend is low or lopsided and would raise or hide alerts.
-- Every team in the fact is watched, and the org total as team 'all' (its
-- budget is the sum of the team budgets).
--
-- Kinds (rules in the alert_rules seed, a team's rule replacing the global
-- rule of its kind):
--   budget_threshold  month-to-date spend reached threshold x the month's
--                     budget; once per rule, team and month (the first day).
--   spike             a day rose by threshold or more over the day before
--                     (2.0 = +200%), by at least money_floor; both days final.
--                     Watched for the team as a whole and for each of its
--                     features (a campaign can triple one feature without
--                     tripling its team); one alert per team and day, naming
--                     the features that spiked.
--   forecast_overrun  the month-end forecast (int_forecast_month_end_as_of, as
--                     of a final day) rose above threshold x the budget while
--                     the month-to-date spend was still under the budget; once
--                     per rule, team and month (the first such day): the
--                     warning that comes before the budget alert.
--   zscore            a day stood threshold or more standard deviations above
--                     the same weekday of the trailing four weeks (at least
--                     three of them final), by at least money_floor.
--
-- alert_id is stable across reruns and backfills: a hash of the rule, team and
-- period (the month for budget and forecast alerts, the day for spikes), so a restated bill
-- that moves a crossing day does not make it a new alert.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

final_days as (

    select distinct landing_date as cost_date
    from {{ ref('ops_day_status') }}
    where is_final_day

),

rules as (

    select * from {{ ref('int_alert_rules_validated') }}

),

routes as (

    select * from {{ ref('int_alert_routes_validated') }}

),

budgets as (

    select * from {{ ref('int_budgets_converted') }}

),

events as (

    select * from {{ ref('events_calendar') }}

),

month_end_forecasts as (

    select * from {{ ref('int_forecast_month_end_as_of') }}
    where forecast_status = 'ok'

),

teams as (

    select distinct team from fact
    union
    select 'all' as team

),

cost_by_team_day as (

    select
        charge_date as cost_date,
        team,
        sum(effective_cost_reporting) as cost
    from fact
    group by charge_date, team

    union all

    select
        charge_date as cost_date,
        'all' as team,
        sum(effective_cost_reporting) as cost
    from fact
    group by charge_date

),

-- Every final day for every team, 0 where a team spent nothing: a day without
-- spend is a fact, and the day after it must not compare to an older day.
daily as (

    select
        final_days.cost_date,
        teams.team,
        cast(date_trunc('month', final_days.cost_date) as date) as month_start,
        coalesce(cost_by_team_day.cost, 0) as cost
    from final_days
    cross join teams
    left join cost_by_team_day
        on
            final_days.cost_date = cost_by_team_day.cost_date
            and teams.team = cost_by_team_day.team

),

cost_by_feature_day as (

    select
        charge_date as cost_date,
        team,
        feature,
        sum(effective_cost_reporting) as cost
    from fact
    where feature is not null
    group by charge_date, team, feature

),

team_features as (

    select distinct
        team,
        feature
    from cost_by_feature_day

),

-- The team totals (feature null) and each team's features, every final day.
daily_by_scope as (

    select
        daily.cost_date,
        daily.team,
        cast(null as varchar) as feature,
        daily.month_start,
        daily.cost
    from daily

    union all

    select
        final_days.cost_date,
        features.team,
        features.feature,
        cast(date_trunc('month', final_days.cost_date) as date) as month_start,
        coalesce(cost_by_feature_day.cost, 0) as cost
    from final_days
    cross join team_features as features
    left join cost_by_feature_day
        on
            final_days.cost_date = cost_by_feature_day.cost_date
            and features.team = cost_by_feature_day.team
            and features.feature = cost_by_feature_day.feature

),

-- A team's own rule of a kind replaces the global one; the total keeps the global.
team_rules as (

    select
        teams.team,
        rules.rule_id,
        rules.kind,
        rules.threshold,
        rules.money_floor,
        rules.severity
    from teams
    inner join rules
        on
            teams.team = rules.team
            or (
                rules.team is null
                and not exists (
                    select 1 as found from rules as own
                    where own.team = teams.team and own.kind = rules.kind
                )
            )

),

team_budgets as (

    select
        budget_month as month_start,
        team,
        sum(budget_amount) as budget_amount
    from budgets
    group by budget_month, team

    union all

    select
        budget_month as month_start,
        'all' as team,
        sum(budget_amount) as budget_amount
    from budgets
    group by budget_month

),

month_to_date as (

    select
        daily.*,
        sum(daily.cost) over (
            partition by daily.team, daily.month_start
            order by daily.cost_date
            rows between unbounded preceding and current row
        ) as month_to_date_cost
    from daily

),

budget_crossings as (

    select
        team_rules.rule_id,
        team_rules.kind,
        team_rules.threshold,
        team_rules.severity,
        month_to_date.team,
        month_to_date.month_start,
        month_to_date.month_start as window_start,
        month_to_date.cost_date as alert_date,
        'month_to_date_cost' as metric,
        month_to_date.month_to_date_cost as observed,
        team_budgets.budget_amount as expected,
        true as team_spiked,
        cast(null as varchar) as feature
    from month_to_date
    inner join team_budgets
        on
            month_to_date.team = team_budgets.team
            and month_to_date.month_start = team_budgets.month_start
    inner join team_rules
        on
            month_to_date.team = team_rules.team
            and team_rules.kind = 'budget_threshold'
    where
        team_budgets.budget_amount > 0
        and month_to_date.month_to_date_cost >= team_rules.threshold * team_budgets.budget_amount
    qualify row_number() over (
        partition by team_rules.rule_id, month_to_date.team, month_to_date.month_start
        order by month_to_date.cost_date
    ) = 1

),

forecast_overruns as (

    select
        team_rules.rule_id,
        team_rules.kind,
        team_rules.threshold,
        team_rules.severity,
        month_end_forecasts.team,
        month_end_forecasts.month_start,
        month_end_forecasts.month_start as window_start,
        month_end_forecasts.as_of_date as alert_date,
        'forecast_month_end_cost' as metric,
        month_end_forecasts.forecast_month_end_cost as observed,
        team_budgets.budget_amount as expected,
        true as team_spiked,
        cast(null as varchar) as feature
    from month_end_forecasts
    inner join team_budgets
        on
            month_end_forecasts.team = team_budgets.team
            and month_end_forecasts.month_start = team_budgets.month_start
    inner join team_rules
        on
            month_end_forecasts.team = team_rules.team
            and team_rules.kind = 'forecast_overrun'
    where
        team_budgets.budget_amount > 0
        and month_end_forecasts.forecast_month_end_cost
        > team_rules.threshold * team_budgets.budget_amount
        -- Once the spend itself is over the budget, the budget alert says so.
        and month_end_forecasts.month_to_date_cost < team_budgets.budget_amount
    qualify row_number() over (
        partition by team_rules.rule_id, month_end_forecasts.team, month_end_forecasts.month_start
        order by month_end_forecasts.as_of_date
    ) = 1

),

with_day_before as (

    select
        daily_by_scope.*,
        lag(daily_by_scope.cost) over (
            partition by daily_by_scope.team, daily_by_scope.feature
            order by daily_by_scope.cost_date
        ) as prior_cost,
        lag(daily_by_scope.cost_date) over (
            partition by daily_by_scope.team, daily_by_scope.feature
            order by daily_by_scope.cost_date
        ) as prior_date
    from daily_by_scope

),

spiked_scopes as (

    select
        team_rules.rule_id,
        team_rules.kind,
        team_rules.threshold,
        team_rules.severity,
        with_day_before.team,
        with_day_before.feature,
        with_day_before.month_start,
        with_day_before.cost_date,
        with_day_before.cost,
        with_day_before.prior_cost
    from with_day_before
    inner join team_rules
        on
            with_day_before.team = team_rules.team
            and team_rules.kind = 'spike'
    where
        -- The day before must itself be final: a provisional day is not a baseline.
        with_day_before.prior_date = with_day_before.cost_date - 1
        and with_day_before.prior_cost > 0
        and with_day_before.cost / with_day_before.prior_cost - 1 >= team_rules.threshold
        and with_day_before.cost - with_day_before.prior_cost >= team_rules.money_floor

),

-- One alert per rule, team and day: the team's own numbers when the team as a
-- whole spiked, else the sum of its features that did; features lists them.
spikes as (

    select
        rule_id,
        kind,
        threshold,
        severity,
        team,
        month_start,
        cost_date as window_start,
        cost_date as alert_date,
        'daily_cost' as metric,
        coalesce(
            max(cost) filter (where feature is null),
            sum(cost) filter (where feature is not null)
        ) as observed,
        coalesce(
            max(prior_cost) filter (where feature is null),
            sum(prior_cost) filter (where feature is not null)
        ) as expected,
        bool_or(feature is null) as team_spiked,
        string_agg(
            feature, ', '
            order by feature
        ) as feature
    from spiked_scopes
    group by rule_id, kind, threshold, severity, team, month_start, cost_date

),

same_weekday_history as (

    select
        daily.team,
        daily.cost_date,
        daily.month_start,
        daily.cost,
        avg(history.cost) as mean_cost,
        stddev_samp(history.cost) as stddev_cost
    from daily
    inner join daily as history
        on
            daily.team = history.team
            and date_diff('day', history.cost_date, daily.cost_date) in (7, 14, 21, 28)
    group by daily.team, daily.cost_date, daily.month_start, daily.cost
    having count(*) >= 3

),

zscores as (

    select
        team_rules.rule_id,
        team_rules.kind,
        team_rules.threshold,
        team_rules.severity,
        same_weekday_history.team,
        same_weekday_history.month_start,
        same_weekday_history.cost_date as window_start,
        same_weekday_history.cost_date as alert_date,
        'daily_cost' as metric,
        same_weekday_history.cost as observed,
        same_weekday_history.mean_cost as expected,
        true as team_spiked,
        cast(null as varchar) as feature
    from same_weekday_history
    inner join team_rules
        on
            same_weekday_history.team = team_rules.team
            and team_rules.kind = 'zscore'
    where
        -- A flat history has no spread to measure against; the spike rule covers it.
        same_weekday_history.stddev_cost > 0
        and (same_weekday_history.cost - same_weekday_history.mean_cost)
        / same_weekday_history.stddev_cost >= team_rules.threshold
        and same_weekday_history.cost - same_weekday_history.mean_cost >= team_rules.money_floor

),

raised as (

    select * from budget_crossings
    union all
    select * from forecast_overruns
    union all
    select * from spikes
    union all
    select * from zscores

),

-- What each team (and the total) spent on, by day: an event about a feature
-- or a model (a campaign, a price change, a switch) only explains the spend of
-- whoever used it.
spend_days as (

    select distinct
        charge_date as cost_date,
        team,
        feature,
        model_id
    from fact

    union

    select distinct
        charge_date as cost_date,
        'all' as team,
        feature,
        model_id
    from fact

),

-- An event matches an alert when it touches the alert's window (the month to
-- date for budget alerts, the day for spikes), is the alert team's (or
-- org-wide), and, when it names a feature or a model, the team spent on them
-- within the window. An event with no end date is a change on its start date.
matched_events as (

    select
        raised.rule_id,
        raised.team,
        raised.alert_date,
        string_agg(
            distinct events.event_name, '; '
            order by events.event_name
        ) as events
    from raised
    inner join events
        on
            raised.alert_date >= events.start_date
            and coalesce(events.end_date, events.start_date) >= raised.window_start
            and (events.team is null or raised.team = events.team or raised.team = 'all')
    where
        (events.feature is null and events.model_id is null)
        or exists (
            select 1 as found from spend_days
            where
                spend_days.team = raised.team
                and (events.feature is null or spend_days.feature = events.feature)
                and (events.model_id is null or spend_days.model_id = events.model_id)
                and spend_days.cost_date
                between greatest(raised.window_start, events.start_date)
                and least(raised.alert_date, coalesce(events.end_date, events.start_date))
        )
    group by raised.rule_id, raised.team, raised.alert_date

),

-- Each alert goes to its team's route and to the catch-all '*' route.
alert_routes as (

    select
        teams.team,
        string_agg(
            distinct routes.email, ', '
            order by routes.email
        ) as email,
        string_agg(
            distinct routes.webhook_conn_id, ', '
            order by routes.webhook_conn_id)
            as webhook_conn_id
    from teams
    inner join routes
        on teams.team = routes.team or routes.team = '*'
    group by teams.team

),

described as (

    select
        raised.*,
        matched_events.events,
        alert_routes.email,
        alert_routes.webhook_conn_id,
        case raised.kind
            when 'budget_threshold'
                then
                    raised.team || ' spent ' || format('{:,.2f}', raised.observed)
                    || ' {{ var("reporting_currency") }} by ' || strftime(raised.alert_date, '%Y-%m-%d')
                    || ': ' || format('{:.0f}', 100 * raised.observed / raised.expected)
                    || '% of its ' || strftime(raised.month_start, '%B %Y') || ' budget of '
                    || format('{:,.2f}', raised.expected) || ' {{ var("reporting_currency") }}'
            when 'forecast_overrun'
                then
                    raised.team || ' is on course to spend ' || format('{:,.2f}', raised.observed)
                    || ' {{ var("reporting_currency") }} in ' || strftime(raised.month_start, '%B %Y')
                    || ', over its budget of ' || format('{:,.2f}', raised.expected)
                    || ' {{ var("reporting_currency") }} (forecast as of '
                    || strftime(raised.alert_date, '%Y-%m-%d') || ')'
            when 'spike'
                then
                    raised.team
                    || case when raised.team_spiked then '' else ' (' || raised.feature || ')' end
                    || ' spent ' || format('{:,.2f}', raised.observed)
                    || ' {{ var("reporting_currency") }} on ' || strftime(raised.alert_date, '%Y-%m-%d')
                    || ', +' || format('{:.0f}', 100 * (raised.observed / raised.expected - 1))
                    || '% over the day before (' || format('{:,.2f}', raised.expected) || ')'
                    || case
                        when raised.team_spiked and raised.feature is not null
                            then '; features that spiked: ' || raised.feature
                        else ''
                    end
            when 'zscore' then
                raised.team || ' spent ' || format('{:,.2f}', raised.observed)
                || ' {{ var("reporting_currency") }} on ' || strftime(raised.alert_date, '%A %Y-%m-%d')
                || ', against ' || format('{:,.2f}', raised.expected)
                || ' on the same weekday of the four weeks before'
        end
        || coalesce(' [' || matched_events.events || ']', '') as message
    from raised
    left join matched_events
        on
            raised.rule_id = matched_events.rule_id
            and raised.team = matched_events.team
            and raised.alert_date = matched_events.alert_date
    left join alert_routes
        on raised.team = alert_routes.team

),

final as (

    select
        -- ids
        cast(
            {{ surrogate_key([
                'rule_id', 'team',
                "case when kind = 'spike' or kind = 'zscore' then alert_date else month_start end",
            ]) }}
            as varchar
        ) as alert_id,
        cast(rule_id as varchar) as rule_id,

        -- strings
        cast(team as varchar) as team,
        cast(feature as varchar) as feature,
        cast(null as varchar) as model_id,
        cast(kind as varchar) as alert_kind,
        cast(metric as varchar) as metric,
        cast(severity as varchar) as severity,
        cast(events as varchar) as events,
        cast(message as varchar) as message,
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,
        cast(email as varchar) as email,
        cast(webhook_conn_id as varchar) as webhook_conn_id,

        -- numerics
        cast(observed as double) as observed,
        cast(expected as double) as expected,
        cast(threshold as double) as threshold,

        -- dates
        cast(alert_date as date) as alert_date,
        cast(month_start as date) as month_start

    from described

)

select * from final
