-- Leadership's view: per month and portfolio, spend, value, the value
-- credited to AI (the catalogue's value_method, shown beside it), ROI on the
-- credited value, growth of spend against the previous month, and the
-- feature whose spend moved most. Cost not attributed to a catalogue feature
-- (shared, idle to owner, unallocated) rolls up to portfolio 'unattributed',
-- so the months' spend adds up to the whole fact; ROI is a catalogue
-- feature's measure (feature_roi), so 'unattributed' has none.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

daily_value as (

    select * from {{ final_days_only(ref('int_feature_value_converted'), 'kpi_date') }}

),

features as (

    select * from {{ ref('feature_catalogue') }}

),

feature_months as (

    select
        cast(date_trunc('month', fact.charge_date) as date) as month_start,
        coalesce(features.portfolio, 'unattributed') as portfolio,
        coalesce(features.feature_id, 'unattributed') as feature_id,
        -- A DECIMAL sum: through a double, the order threads add rows in showed at the 12th decimal.
        sum(fact.effective_cost_reporting) as spend
    from fact
    left join features
        on fact.feature = features.feature_id
    group by 1, 2, 3

),

feature_value as (

    select
        cast(date_trunc('month', daily_value.kpi_date) as date) as month_start,
        features.portfolio,
        {{ exact_sum('daily_value.value') }} as value,
        {{ exact_sum('daily_value.credited_value') }} as credited_value,
        array_to_string(list_sort(list(distinct features.value_method)), ', ') as value_methods
    from daily_value
    inner join features
        on daily_value.feature_id = features.feature_id
    group by 1, 2

),

feature_moves as (

    select
        *,
        spend - coalesce(
            lag(spend) over (
                partition by portfolio, feature_id
                order by month_start
            ),
            0
        ) as spend_change
    from feature_months

),

top_movers as (

    select
        month_start,
        portfolio,
        feature_id as top_mover_feature_id,
        spend_change as top_mover_spend_change
    from (
        select
            *,
            row_number() over (
                partition by month_start, portfolio
                order by abs(spend_change) desc, feature_id asc
            ) as move_rank
        from feature_moves
    ) as ranked
    where move_rank = 1

),

portfolio_months as (

    select
        month_start,
        portfolio,
        sum(spend) as spend
    from feature_months
    group by 1, 2

),

joined as (

    select
        portfolio_months.month_start,
        portfolio_months.portfolio,
        portfolio_months.spend,
        coalesce(feature_value.value, 0) as value,
        coalesce(feature_value.credited_value, 0) as credited_value,
        feature_value.value_methods,
        lag(portfolio_months.spend) over (
            partition by portfolio_months.portfolio
            order by portfolio_months.month_start
        ) as previous_month_spend,
        top_movers.top_mover_feature_id,
        top_movers.top_mover_spend_change
    from portfolio_months
    left join feature_value
        on
            portfolio_months.month_start = feature_value.month_start
            and portfolio_months.portfolio = feature_value.portfolio
    left join top_movers
        on
            portfolio_months.month_start = top_movers.month_start
            and portfolio_months.portfolio = top_movers.portfolio

),

final as (

    select
        -- ids
        cast({{ surrogate_key(['month_start', 'portfolio']) }} as varchar) as roi_summary_id,
        cast(top_mover_feature_id as varchar) as top_mover_feature_id,

        -- strings
        cast(portfolio as varchar) as portfolio,
        cast(value_methods as varchar) as value_methods,
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,

        -- numerics
        cast(spend as decimal(38, 12)) as spend,
        cast(value as decimal(38, 12)) as value,
        cast(credited_value as decimal(38, 12)) as credited_value,
        {{ safe_divide('credited_value', 'value') }} as credited_share_of_value,
        case
            when portfolio != 'unattributed' then {{ metric_feature_roi('credited_value', 'spend') }}
        end as roi,
        cast(previous_month_spend as decimal(38, 12)) as previous_month_spend,
        {{ safe_divide('spend - previous_month_spend', 'previous_month_spend') }} as spend_growth,
        cast(top_mover_spend_change as decimal(38, 12)) as top_mover_spend_change,

        -- dates
        cast(month_start as date) as month_start

    from joined

)

select * from final
