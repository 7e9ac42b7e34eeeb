-- Finance's view: cost per cost centre, team, provider and service, by day and
-- by month (period_grain), with unit costs, month-to-date and a straight-line
-- run-rate projection to month end. The team_* budget columns are at team
-- level and repeat on every row of the team: do not sum them over providers.
-- "As of" is the last charge date in the fact, never the wall clock.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

budgets as (

    select * from {{ ref('int_budgets_converted') }}

),

as_of as (

    select max(charge_date) as last_charge_date from fact

),

daily as (

    select
        charge_date,
        cast(date_trunc('month', charge_date) as date) as month_start,
        cost_center,
        team,
        provider_name,
        service_name,
        max(reporting_currency) as reporting_currency,
        sum(billed_cost_reporting) as billed_cost,
        sum(effective_cost_reporting) as effective_cost,
        sum(case when not is_shared_cost and not is_idle_cost then effective_cost_reporting else 0 end) as direct_cost,
        sum(case when is_shared_cost then effective_cost_reporting else 0 end) as shared_cost,
        sum(case when is_idle_cost then effective_cost_reporting else 0 end) as idle_cost,
        sum(case when cost_type = 'tokens' then effective_cost_reporting else 0 end) as token_cost,
        sum(case when cost_type = 'gpu' then effective_cost_reporting else 0 end) as gpu_cost,
        sum(estimated_cost) as estimated_cost,
        sum(input_tokens + output_tokens) as tokens,
        sum(requests) as requests,
        {{ exact_sum('gpu_hours_busy + gpu_hours_idle') }} as gpu_hours
    from fact
    group by charge_date, month_start, cost_center, team, provider_name, service_name

),

{%- set measures = ['billed_cost', 'effective_cost', 'direct_cost', 'shared_cost', 'idle_cost',
                    'token_cost', 'gpu_cost', 'estimated_cost', 'tokens', 'requests', 'gpu_hours'] %}

periods as (

    select
        'day' as period_grain,
        charge_date as period_start,
        month_start,
        extract(day from charge_date) as days_elapsed,
        cost_center, team, provider_name, service_name, reporting_currency,
        {{ measures | join(', ') }},
        sum(effective_cost) over (
            partition by month_start, cost_center, team, provider_name, service_name
            order by charge_date
            rows between unbounded preceding and current row
        ) as month_to_date_cost
    from daily

    union all

    select
        'month' as period_grain,
        daily.month_start as period_start,
        daily.month_start,
        extract(day from least(
            max(as_of.last_charge_date),
            cast(daily.month_start + interval 1 month - interval 1 day as date)
        )) as days_elapsed,
        daily.cost_center, daily.team, daily.provider_name, daily.service_name,
        max(daily.reporting_currency) as reporting_currency,
        {%- for m in measures %}
        sum(daily.{{ m }}) as {{ m }},
        {%- endfor %}
        sum(daily.effective_cost) as month_to_date_cost
    from daily
    cross join as_of
    group by daily.month_start, daily.cost_center, daily.team, daily.provider_name, daily.service_name

),

team_days as (

    select
        month_start,
        charge_date,
        cost_center,
        team,
        sum(sum(effective_cost)) over (
            partition by month_start, cost_center, team
            order by charge_date
            rows between unbounded preceding and current row
        ) as team_month_to_date_cost
    from daily
    group by month_start, charge_date, cost_center, team

),

team_months as (

    select
        month_start,
        cost_center,
        team,
        max(team_month_to_date_cost) as team_month_to_date_cost
    from team_days
    group by month_start, cost_center, team

),

joined as (

    select
        periods.*,
        cast(extract(day from periods.month_start + interval 1 month - interval 1 day) as integer) as days_in_month,
        coalesce(team_days.team_month_to_date_cost, team_months.team_month_to_date_cost) as team_month_to_date_cost,
        budgets.budget_amount as team_month_budget
    from periods
    left join team_days
        on
            periods.period_grain = 'day'
            and periods.period_start = team_days.charge_date
            and periods.cost_center is not distinct from team_days.cost_center
            and periods.team = team_days.team
    left join team_months
        on
            periods.period_grain = 'month'
            and periods.month_start = team_months.month_start
            and periods.cost_center is not distinct from team_months.cost_center
            and periods.team = team_months.team
    left join budgets
        on
            periods.month_start = budgets.budget_month
            and periods.cost_center = budgets.cost_center
            and periods.team = budgets.team

),

final as (

    select
        -- ids
        cast({{ surrogate_key([
            'period_grain', 'period_start', 'cost_center', 'team', 'provider_name', 'service_name',
        ]) }} as varchar) as unit_cost_id,
        cast(cost_center as varchar) as cost_center,
        cast(team as varchar) as team,

        -- strings
        cast(period_grain as varchar) as period_grain,
        cast(provider_name as varchar) as provider_name,
        cast(service_name as varchar) as service_name,
        cast(reporting_currency as varchar) as reporting_currency,

        -- numerics
        cast(billed_cost as decimal(38, 12)) as billed_cost,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(direct_cost as decimal(38, 12)) as direct_cost,
        cast(shared_cost as decimal(38, 12)) as shared_cost,
        cast(idle_cost as decimal(38, 12)) as idle_cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(tokens as bigint) as tokens,
        cast(requests as bigint) as requests,
        cast(gpu_hours as double) as gpu_hours,
        {{ metric_cost_per_1k_tokens('token_cost', 'tokens') }} as cost_per_1k_tokens,
        -- The same metric per 1M tokens, the unit price lists use.
        {{ metric_cost_per_1k_tokens('token_cost', 'tokens') }} * 1000 as cost_per_1m_tokens,
        {{ metric_cost_per_request('token_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('gpu_cost', 'gpu_hours') }} as cost_per_gpu_hour,
        cast(month_to_date_cost as decimal(38, 12)) as month_to_date_cost,
        cast(
            {{ safe_divide('month_to_date_cost', 'days_elapsed') }} * days_in_month as decimal(38, 12)
        ) as run_rate_month_cost,
        cast(days_elapsed as integer) as days_elapsed,
        cast(days_in_month as integer) as days_in_month,
        cast(team_month_budget as decimal(38, 12)) as team_month_budget,
        cast(team_month_to_date_cost as decimal(38, 12)) as team_month_to_date_cost,
        {{ metric_budget_burn('team_month_to_date_cost', 'team_month_budget') }} as team_budget_burn,
        cast(team_month_budget * days_elapsed / days_in_month as decimal(38, 12)) as team_budget_to_date,
        cast(
            team_month_to_date_cost - team_month_budget * days_elapsed / days_in_month as decimal(38, 12)
        ) as team_budget_variance,
        cast(
            {{ safe_divide('team_month_to_date_cost', 'days_elapsed') }} * days_in_month
            - team_month_budget as decimal(38, 12)
        ) as team_projected_variance,

        -- dates
        cast(period_start as date) as period_start,
        cast(month_start as date) as month_start

    from joined

)

select * from final
