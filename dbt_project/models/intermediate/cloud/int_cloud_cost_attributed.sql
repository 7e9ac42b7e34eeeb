-- Every FOCUS line that is not part of a GPU node-day pool is its own billing
-- pool. A line whose Tags match focus_tag rules (`key=value`) is direct
-- cost of the team those rules give (each attribute from the best-ranked
-- matching rule that sets it, macro resolve_attribution). A line that is
-- tagged shared=true, gets no team from a rule, or is a Tax or Credit charge is shared:
-- it is split over the teams with direct cost that day (cloud lines plus busy
-- GPU cost), per var shared_cost_strategy:
--     proportional  by each team's direct effective cost that day,
--     even          equally over those teams,
--     fixed         by the percentages of the shared_cost_split seed (every
--                   day, whoever had direct cost; they sum to 100, a test).
-- Under proportional and even, a shared line on a day with no direct cost
-- goes to 'unallocated'.
-- A token line (stg_focus__cost_and_usage.token_class set: Bedrock, Azure OpenAI,
-- Vertex per-token charges) is attributed the same way and becomes cost_type
-- 'tokens' with its model and token class; its money stays the line's.
{%- set shared_strategy = strategy_var('shared_cost_strategy', ['proportional', 'even', 'fixed']) %}
with

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

gpu_allocated as (

    select * from {{ ref('int_gpu_cost_allocated') }}

),

gpu_node_lines as (

    -- Lines in a GPU node-day pool (int_gpu_cost_allocated splits them).
    select * from {{ ref('int_gpu_node_billing_lines') }}

),

rules as (

    select * from {{ ref('attribution_rules') }}

),

-- Read only under the fixed strategy, but always referenced so dbt knows the
-- dependency whatever the var says.
shared_cost_split as (  -- noqa: ST03

    select * from {{ ref('shared_cost_split') }}

),

cloud_lines as (

    select
        focus_lines.*,
        {{ focus_line_pool_id('focus_lines.focus_line_id', 'focus_lines.charge_date') }} as billing_pool_id
    from focus_lines
    where not exists (
        select 1 as is_match
        from gpu_node_lines
        where gpu_node_lines.focus_line_id = focus_lines.focus_line_id
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
        {{ attribution_rule_columns('tag_rules') }}
    from cloud_lines
    inner join tag_rules
        on json_extract_string(cloud_lines.tags_json, '$."' || tag_rules.tag_key || '"') = tag_rules.tag_value

),

resolved as (

    {{ resolve_attribution('candidates', 'focus_line_id') }}

),

classified as (

    select
        cloud_lines.*,
        resolved.attribution_rule_id,
        resolved.team,
        resolved.feature,
        resolved.project,
        resolved.environment,
        (
            cloud_lines.is_tagged_shared
            or resolved.team is null
            or cloud_lines.charge_category in ('Tax', 'Credit')
        ) as is_shared_cost
    from cloud_lines
    left join resolved
        on cloud_lines.focus_line_id = resolved.focus_line_id

),

{%- set line_columns = [
    'billing_pool_id', 'focus_line_id', 'source_name', 'provider_name', 'service_name',
    'service_category', 'sku_id', 'resource_id', 'region_id', 'billing_account_id',
    'sub_account_id', 'billing_currency', 'consumed_unit', 'charge_category', 'charge_class',
    'charge_frequency', 'attribution_rule_id', 'billed_cost', 'effective_cost', 'list_cost',
    'consumed_quantity', 'is_shared_cost', 'charge_date', 'billing_period_start',
    'token_model_id', 'token_model_family', 'token_class',
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
        -- Summed as a DECIMAL (exact, whatever order the threads add rows in), not a double.
        sum(greatest(cast(effective_cost as decimal(38, 12)), 0)) as direct_cost
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

    select * from classified
    where is_shared_cost

),

{% if shared_strategy == 'fixed' -%}
team_shares as (

    -- Every day with a shared line, whoever had direct cost.
    select
        shared_days.charge_date,
        shared_cost_split.team,
        cast(shared_cost_split.split_pct as double) / 100.0 as pool_share
    from (select distinct charge_date from shared_lines) as shared_days
    cross join shared_cost_split

),
{%- else -%}
team_shares as (

    -- Only days with direct cost: with none there is nothing to split by.
    select
        team_day_weights.charge_date,
        team_day_weights.team,
        {%- if shared_strategy == 'even' %}
        1.0 / day_totals.n_teams as pool_share
        {%- else %}
        team_day_weights.direct_cost / day_totals.total_direct_cost as pool_share
        {%- endif %}
    from team_day_weights
    inner join day_totals
        on team_day_weights.charge_date = day_totals.charge_date
    where day_totals.total_direct_cost > 0

),
{%- endif %}

shared_rows as (

    select
        {%- for column in line_columns %}
        shared_lines.{{ column }},
        {%- endfor %}
        team_shares.team,
        cast(null as varchar) as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        '{{ shared_strategy }}' as allocation_method,
        team_shares.pool_share
    from shared_lines
    inner join team_shares
        on shared_lines.charge_date = team_shares.charge_date

),

shared_unallocated as (

    -- A shared line on a day without team shares stays whole and visible.
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
    where not exists (
        select 1 as is_match
        from team_shares
        where team_shares.charge_date = shared_lines.charge_date
    )

),

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
        charge_class,
        charge_frequency,
        attribution_rule_id,
        team,
        feature,
        project,
        environment,
        allocation_method,
        case
            when token_class is not null then 'tokens'
            when charge_category = 'Usage' then 'infra'
            else 'other'
        end as cost_type,
        token_model_id,
        token_model_family,
        token_class,
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
