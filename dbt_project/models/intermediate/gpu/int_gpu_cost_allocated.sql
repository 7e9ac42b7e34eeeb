-- Splits each GPU node-day billing pool (the FOCUS lines that bill a GPU node,
-- int_gpu_node_billing_lines, grouped per node and charge day) over the
-- workloads (namespace x pod; the host itself on nvidia-smi nodes):
--   busy share of a namespace = its busy GPU-hours / node capacity;
--   idle = capacity - busy, as separate rows with is_idle_cost = true, spread
--   per var gpu_idle_strategy:
--     proportional  over that day's workloads by busy hours (OpenCost shareIdle),
--     even          equally over that day's workloads (namespace x pod),
--     to_owner      to the platform owner team (teams.is_platform_owner).
-- A node-day without any namespace usage is all idle, charged to the owner.
{%- set idle_strategy = strategy_var('gpu_idle_strategy', ['proportional', 'even', 'to_owner']) %}
with

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

node_lines as (

    select * from {{ ref('int_gpu_node_billing_lines') }}

),

gpu_hours as (

    select * from {{ ref('int_gpu_hours_by_namespace') }}

),

gpu_nodes as (

    select * from {{ ref('int_gpu_nodes') }}

),

rules as (

    select * from {{ ref('attribution_rules') }}

),

teams as (

    select * from {{ ref('teams') }}

),

platform_owner as (

    select min(team) as team
    from teams
    where is_platform_owner

),

pools as (

    select
        {{ gpu_node_pool_id('node_lines.hostname', 'focus_lines.charge_date') }} as billing_pool_id,
        node_lines.hostname,
        focus_lines.charge_date,
        gpu_nodes.node_gpus * 24.0 as node_capacity_gpu_hours,
        max(focus_lines.billing_period_start) as billing_period_start,
        max(focus_lines.source_name) as source_name,
        max(focus_lines.provider_name) as provider_name,
        max(focus_lines.service_name) as service_name,
        max(focus_lines.service_category) as service_category,
        max(focus_lines.sku_id) as sku_id,
        max(focus_lines.resource_id) as resource_id,
        max(focus_lines.region_id) as region_id,
        max(focus_lines.billing_account_id) as billing_account_id,
        max(focus_lines.sub_account_id) as sub_account_id,
        max(focus_lines.billing_currency) as billing_currency,
        max(focus_lines.consumed_unit) as consumed_unit,
        sum(focus_lines.consumed_quantity) as consumed_quantity,
        sum(focus_lines.billed_cost) as pool_billed_cost,
        sum(focus_lines.effective_cost) as pool_effective_cost,
        sum(focus_lines.list_cost) as pool_list_cost
    from focus_lines
    inner join node_lines
        on focus_lines.focus_line_id = node_lines.focus_line_id
    inner join gpu_nodes
        on node_lines.hostname = gpu_nodes.hostname
    group by node_lines.hostname, focus_lines.charge_date, gpu_nodes.node_gpus

),

candidates as (

    -- A GPU workload matches a rule on its namespace, its pod (the DCGM pod
    -- label; match_value is a glob such as 'llama-*') or its host.
    select
        gpu_hours.gpu_usage_id,
        {{ attribution_rule_columns('rules') }}
    from gpu_hours
    inner join rules
        on
            (rules.match_dimension = 'k8s_namespace' and gpu_hours.k8s_namespace = rules.match_value)
            or (
                -- The glob as a like pattern: portable beyond DuckDB (sqlfluff
                -- parses no `glob` either); pod names hold no % or _.
                rules.match_dimension = 'k8s_pod'
                and gpu_hours.k8s_pod like replace(replace(rules.match_value, '*', '%'), '?', '_')
            )
            or (rules.match_dimension = 'gpu_host' and gpu_hours.hostname = rules.match_value)

),

resolved as (

    {{ resolve_attribution('candidates', 'gpu_usage_id') }}

),

usage as (

    select
        gpu_hours.*,
        {{ attributed_columns('resolved') }},
        sum(gpu_hours.gpu_hours_busy) over (
            partition by gpu_hours.hostname, gpu_hours.usage_date
        ) as node_busy_hours,
        sum(gpu_hours.gpu_hours_allocated) over (
            partition by gpu_hours.hostname, gpu_hours.usage_date
        ) as node_allocated_hours,
        count(*) over (
            partition by gpu_hours.hostname, gpu_hours.usage_date
        ) as node_namespaces
    from gpu_hours
    left join resolved
        on gpu_hours.gpu_usage_id = resolved.gpu_usage_id

),

pool_usage as (

    select
        pools.*,
        usage.k8s_namespace,
        usage.k8s_pod,
        usage.attribution_rule_id,
        usage.team,
        usage.feature,
        usage.project,
        usage.environment,
        usage.is_attributed,
        usage.gpu_hours_busy,
        usage.gpu_hours_allocated,
        usage.node_busy_hours,
        usage.node_namespaces,
        -- Busy hours above capacity (bad samples) must not create negative idle.
        greatest(pools.node_capacity_gpu_hours, usage.node_busy_hours) as share_base_hours,
        case
            when usage.node_busy_hours > 0
                then usage.gpu_hours_busy / usage.node_busy_hours
            when usage.node_allocated_hours > 0
                then usage.gpu_hours_allocated / usage.node_allocated_hours
            else 1.0 / usage.node_namespaces
        end as idle_proportional_share
    from pools
    inner join usage
        on
            pools.hostname = usage.hostname
            and pools.charge_date = usage.usage_date

),

busy_rows as (

    select
        *,
        false as is_idle_cost,
        case when is_attributed then 'proportional' else 'unallocated' end as allocation_method,
        gpu_hours_busy / share_base_hours as pool_share,
        gpu_hours_busy as row_gpu_hours_busy,
        gpu_hours_allocated as row_gpu_hours_allocated,
        0.0 as row_gpu_hours_idle
    from pool_usage

),

idle_base as (

    select
        *,
        (share_base_hours - node_busy_hours) / share_base_hours as idle_fraction,
        share_base_hours - node_busy_hours as idle_hours
    from pool_usage

),

{%- set pool_columns = [
    'billing_pool_id', 'hostname', 'charge_date', 'node_capacity_gpu_hours', 'billing_period_start',
    'source_name', 'provider_name', 'service_name', 'service_category', 'sku_id', 'resource_id',
    'region_id', 'billing_account_id', 'sub_account_id', 'billing_currency', 'consumed_unit',
    'consumed_quantity', 'pool_billed_cost', 'pool_effective_cost', 'pool_list_cost',
] %}
{#- Who a row is charged to: the workload and the rule that matched it. #}
{%- set attribution_columns = [
    'k8s_namespace', 'k8s_pod', 'attribution_rule_id', 'team', 'feature', 'project', 'environment',
] %}
{#- Idle charged to the platform owner: no workload, no rule, the owner's team. #}
{%- set owner_idle_attribution %}
        cast(null as varchar) as k8s_namespace,
        cast(null as varchar) as k8s_pod,
        cast(null as varchar) as attribution_rule_id,
        platform_owner.team,
        cast(null as varchar) as feature,
        cast(null as varchar) as project,
        cast(null as varchar) as environment,
        true as is_idle_cost,
        'idle' as allocation_method,
{%- endset %}

{% if idle_strategy == 'to_owner' -%}
idle_rows as (

    -- One idle row per pool, charged to the platform owner.
    select distinct
        {%- for column in pool_columns %}
        idle_base.{{ column }},
        {%- endfor %}
        {{- owner_idle_attribution }}
        idle_base.idle_fraction as pool_share,
        0.0 as row_gpu_hours_busy,
        0.0 as row_gpu_hours_allocated,
        idle_base.idle_hours as row_gpu_hours_idle
    from idle_base
    cross join platform_owner

),
{%- else -%}
idle_rows as (

    select
        {%- for column in pool_columns %}
        {{ column }},
        {%- endfor %}
        {%- for column in attribution_columns %}
        {{ column }},
        {%- endfor %}
        true as is_idle_cost,
        'idle' as allocation_method,
        {%- if idle_strategy == 'even' %}
        idle_fraction / node_namespaces as pool_share,
        idle_hours / node_namespaces as row_gpu_hours_idle,
        {%- else %}
        idle_fraction * idle_proportional_share as pool_share,
        idle_hours * idle_proportional_share as row_gpu_hours_idle,
        {%- endif %}
        0.0 as row_gpu_hours_busy,
        0.0 as row_gpu_hours_allocated
    from idle_base

),
{%- endif %}

pools_without_usage as (

    select
        pools.*,
        {{- owner_idle_attribution }}
        1.0 as pool_share,
        0.0 as row_gpu_hours_busy,
        0.0 as row_gpu_hours_allocated,
        pools.node_capacity_gpu_hours as row_gpu_hours_idle
    from pools
    cross join platform_owner
    where not exists (
        select 1 as is_match
        from usage
        where
            usage.hostname = pools.hostname
            and usage.usage_date = pools.charge_date
    )

),

{%- set output_columns = [
    'billing_pool_id', 'charge_date', 'billing_period_start', 'source_name', 'provider_name',
    'service_name', 'service_category', 'sku_id', 'resource_id', 'region_id',
    'billing_account_id', 'sub_account_id', 'billing_currency', 'consumed_unit', 'hostname',
] + attribution_columns + [
    'allocation_method', 'is_idle_cost', 'pool_share', 'consumed_quantity',
    'pool_billed_cost', 'pool_effective_cost', 'pool_list_cost',
    'row_gpu_hours_busy', 'row_gpu_hours_allocated', 'row_gpu_hours_idle',
] %}

unioned as (

    select {{ output_columns | join(', ') }} from busy_rows
    union all
    select {{ output_columns | join(', ') }} from idle_rows
    union all
    select {{ output_columns | join(', ') }} from pools_without_usage

),

final as (

    select
        billing_pool_id,
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
        hostname,
        {%- for column in attribution_columns %}
        {{ column }},
        {%- endfor %}
        allocation_method,
        'gpu' as cost_type,
        -- A node-day pool holds the node's lines other than Tax and Credit:
        -- charged as usage, whatever mix of lines the bill split it into.
        'Usage' as charge_category,
        cast(null as varchar) as charge_class,
        'Usage-Based' as charge_frequency,
        pool_share,
        cast(pool_billed_cost * pool_share as decimal(38, 12)) as billed_cost,
        cast(pool_effective_cost * pool_share as decimal(38, 12)) as effective_cost,
        cast(pool_list_cost * pool_share as decimal(38, 12)) as list_cost,
        consumed_quantity * pool_share as consumed_quantity,
        row_gpu_hours_busy as gpu_hours_busy,
        row_gpu_hours_allocated as gpu_hours_allocated,
        row_gpu_hours_idle as gpu_hours_idle,
        false as is_shared_cost,
        is_idle_cost,
        charge_date,
        billing_period_start
    from unioned

)

select * from final
