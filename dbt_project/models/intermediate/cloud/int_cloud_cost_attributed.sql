-- Every FOCUS line that is not part of a GPU node-day pool is its own billing
-- pool. A line whose Tags match a focus_tag rule (`key=value`) is direct
-- cost of that rule's team (lowest priority number wins). A line that is
-- tagged shared=true, matches no rule, or is a Tax or Credit charge is shared:
-- it is split over the teams with direct cost that day (cloud lines plus busy
-- GPU cost), per var shared_cost_strategy:
--     proportional  by each team's direct effective cost that day,
--     even          equally over those teams,
--     fixed         by the percentages of the shared_cost_split seed (every
--                   day, whoever had direct cost; they sum to 100, a test).
-- Under proportional and even, a shared line on a day with no direct cost
-- goes to 'unallocated'.
{%- set shared_strategy = var('shared_cost_strategy') %}
{%- if shared_strategy not in ['proportional', 'even', 'fixed'] %}
    {{ exceptions.raise_compiler_error("shared_cost_strategy must be proportional, even or fixed, got '" ~ shared_strategy ~ "'") }}
{%- endif %}
with

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

gpu_allocated as (

    select * from {{ ref('int_gpu_cost_allocated') }}

),

rules as (

    select * from {{ ref('attribution_rules') }}

),

shared_cost_split as (

    select * from {{ ref('shared_cost_split') }}

),

gpu_lines as (

    select distinct
        hostname,
        charge_date
    from gpu_allocated

),

cloud_lines as (

    select
        focus_lines.*,
        'focus:line:' || focus_lines.focus_line_id || ':'
        || cast(focus_lines.charge_date as varchar) as billing_pool_id
    from focus_lines
    where not exists (
        select 1 as is_match
        from gpu_lines
        where
            gpu_lines.hostname = focus_lines.resource_name
            and gpu_lines.charge_date = focus_lines.charge_date
            and focus_lines.charge_category not in ('Tax', 'Credit')
    )

),

tag_rules as (

    select
        *,
        split_part(match_value, '=', 1) as tag_key,
        substr(match_value, strpos(match_value, '=') + 1) as tag_value
    from rules
    where match_dimension = 'focus_tag'

),

candidates as (

    select
        cloud_lines.focus_line_id,
        tag_rules.rule_id,
        tag_rules.priority,
        tag_rules.team,
        tag_rules.feature,
        tag_rules.project,
        tag_rules.environment,
        row_number() over (
            partition by cloud_lines.focus_line_id
            order by tag_rules.priority asc, tag_rules.rule_id asc
        ) as rule_rank
    from cloud_lines
    inner join tag_rules
        on json_extract_string(cloud_lines.tags_json, '$."' || tag_rules.tag_key || '"') = tag_rules.tag_value

),

classified as (

    select
        cloud_lines.*,
        candidates.rule_id as attribution_rule_id,
        candidates.team,
        candidates.feature,
        candidates.project,
        candidates.environment,
        (
            cloud_lines.is_tagged_shared
            or candidates.rule_id is null
            or cloud_lines.charge_category in ('Tax', 'Credit')
        ) as is_shared_cost
    from cloud_lines
    left join candidates
        on
            cloud_lines.focus_line_id = candidates.focus_line_id
            and candidates.rule_rank = 1

),

{%- set line_columns = [
    'billing_pool_id', 'focus_line_id', 'source_name', 'provider_name', 'service_name',
    'service_category', 'sku_id', 'resource_id', 'region_id', 'billing_account_id',
    'sub_account_id', 'billing_currency', 'consumed_unit', 'charge_category', 'attribution_rule_id',
    'billed_cost', 'effective_cost', 'list_cost', 'consumed_quantity', 'is_shared_cost',
    'charge_date', 'billing_period_start',
] %}

direct_rows as (

    select
        {%- for column in line_columns %}
        {{ column }},
        {%- endfor %}
        team,
        feature,
        project,
        environment,
        'rule' as allocation_method,
        1.0 as pool_share
    from classified
    where not is_shared_cost

),

team_day_weights as (

    select
        charge_date,
        team,
        sum(greatest(cast(effective_cost as double), 0)) as direct_cost
    from (
        select
            charge_date,
            team,
            effective_cost
        from direct_rows
        union all
        select
            charge_date,
            team,
            effective_cost
        from gpu_allocated
        where not is_idle_cost and team != 'unallocated'
    ) as direct_costs
    group by charge_date, team

),

day_totals as (

    select
        charge_date,
        sum(direct_cost) as total_direct_cost,
        count(*) as n_teams
    from team_day_weights
    group by charge_date

),

shared_lines as (

    select
        {%- for column in line_columns %}
        {{ column }},
        {%- endfor %}
        is_tagged_shared
    from classified
    where is_shared_cost

),

{%- if shared_strategy == 'fixed' %}
shared_rows as (

    select
        {%- for column in line_columns %}
        shared_lines.{{ column }},
        {%- endfor %}
        shared_cost_split.team,
        cast(null as varchar) as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        'fixed' as allocation_method,
        cast(shared_cost_split.split_pct as double) / 100.0 as pool_share
    from shared_lines
    cross join shared_cost_split

),

shared_unallocated as (

    -- Nothing is left over: the split's percentages sum to 100.
    select
        {%- for column in line_columns %}
        {{ column }},
        {%- endfor %}
        'unallocated' as team,
        'unallocated' as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        'unallocated' as allocation_method,
        1.0 as pool_share
    from shared_lines
    where not exists (select 1 as is_match from shared_cost_split)

),
{%- else %}
shared_rows as (

    select
        {%- for column in line_columns %}
        shared_lines.{{ column }},
        {%- endfor %}
        team_day_weights.team,
        cast(null as varchar) as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        '{{ shared_strategy }}' as allocation_method,
        {%- if shared_strategy == 'even' %}
        1.0 / day_totals.n_teams as pool_share
        {%- else %}
        team_day_weights.direct_cost / day_totals.total_direct_cost as pool_share
        {%- endif %}
    from shared_lines
    inner join day_totals
        on shared_lines.charge_date = day_totals.charge_date
    inner join team_day_weights
        on shared_lines.charge_date = team_day_weights.charge_date
    where day_totals.total_direct_cost > 0

),

shared_unallocated as (

    select
        {%- for column in line_columns %}
        shared_lines.{{ column }},
        {%- endfor %}
        'unallocated' as team,
        'unallocated' as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        'unallocated' as allocation_method,
        1.0 as pool_share
    from shared_lines
    left join day_totals
        on shared_lines.charge_date = day_totals.charge_date
    where coalesce(day_totals.total_direct_cost, 0) <= 0

),
{%- endif %}

unioned as (

    select * from direct_rows
    union all
    select * from shared_rows
    union all
    select * from shared_unallocated

),

final as (

    select
        billing_pool_id,
        focus_line_id,
        source_name,
        provider_name,
        service_name,
        service_category,
        sku_id,
        resource_id,
        region_id,
        billing_account_id,
        sub_account_id,
        billing_currency,
        consumed_unit,
        charge_category,
        attribution_rule_id,
        team,
        feature,
        project,
        environment,
        allocation_method,
        case when charge_category = 'Usage' then 'infra' else 'other' end as cost_type,
        pool_share,
        cast(billed_cost * pool_share as decimal(38, 12)) as billed_cost,
        cast(effective_cost * pool_share as decimal(38, 12)) as effective_cost,
        cast(list_cost * pool_share as decimal(38, 12)) as list_cost,
        consumed_quantity * pool_share as consumed_quantity,
        is_shared_cost,
        false as is_idle_cost,
        charge_date,
        billing_period_start
    from unioned

)

select * from final
