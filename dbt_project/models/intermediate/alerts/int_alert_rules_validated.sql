-- The alert_rules seed, checked: a rule naming an unknown team, with a
-- negative threshold or money floor, an unknown kind or severity, or that
-- overlaps another rule (the same kind and team twice; for budget_threshold,
-- the same threshold twice) stops the build here with an error naming the
-- seed row, instead of alerting on a rule nobody meant.
with

rules as (

    select * from {{ ref('alert_rules') }}

),

teams as (

    select team from {{ ref('teams') }}

),

checked as (

    select
        rules.*,
        case
            when rules.team is not null and rules.team not in (select teams.team from teams)
                then 'unknown team ' || rules.team || ' (not in the teams seed)'
            when rules.kind not in ('budget_threshold', 'forecast_overrun', 'spike', 'zscore')
                then 'unknown kind ' || coalesce(rules.kind, '<empty>')
            when rules.threshold is null or rules.threshold < 0
                then
                    'threshold ' || coalesce(cast(rules.threshold as varchar), '<empty>')
                    || ' must be a number of 0 or more'
            when rules.money_floor < 0
                then 'money_floor ' || cast(rules.money_floor as varchar) || ' must not be negative'
            when coalesce(rules.severity, '') not in ('info', 'warning', 'critical')
                then
                    'severity ' || coalesce(rules.severity, '<empty>')
                    || ' must be info, warning or critical'
            when
                count(*) over (
                    partition by
                        rules.kind,
                        coalesce(rules.team, '*'),
                        case when rules.kind = 'budget_threshold' then rules.threshold end
                ) > 1
                then
                    'overlaps another ' || rules.kind || ' rule for '
                    || coalesce('team ' || rules.team, 'every team')
        end as problem
    from rules

),

final as (

    select
        rule_id,
        team,
        kind,
        cast(threshold as double) as threshold,
        cast(coalesce(money_floor, 0) as double) as money_floor,
        severity,
        description,
        -- error() fails the query, and so the build, on the first bad row.
        case
            when problem is not null
                then error('alert_rules seed, row rule_id=' || rule_id || ': ' || problem)
        end as rule_problem
    from checked

)

select * exclude (rule_problem) from final
where rule_problem is null
