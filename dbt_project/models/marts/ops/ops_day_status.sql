-- Is a day complete? One row per day × configured source: whether the source
-- landed the day (rows), recorded it as empty (a manifest with no rows), or
-- has not landed it at all (no manifest). A day is final when no configured
-- source is missing it; otherwise it is provisional: the fact keeps its
-- billing (conservation covers every landed dollar) but the role marts leave
-- it out (macro final_days_only), so a day billed without its drivers (usage,
-- GPU metrics, value) never shows as pure idle cost or as zero value.
--
-- Configured sources come from the orchestrator (var configured_datasets:
-- [{source, dataset}, ...] from the sources file, warehouse/build.py). Without
-- it (dbt run by hand), every source and dataset that ever landed is expected.
-- A source's active_from (sources file) exempts the days before it started.
{%- set configured = var('configured_datasets', []) %}
with

manifests as (

    select * from {{ ref('stg_landing__manifests') }}

),

expected as (

    {%- if configured %}
    {%- for item in configured %}
    select
        '{{ item.source | replace("'", "''") }}' as source_name,
        '{{ item.dataset | replace("'", "''") }}' as dataset_name,
        {%- if item.active_from %}
        cast('{{ item.active_from }}' as date) as active_from
        {%- else %}
        cast(null as date) as active_from
        {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    select distinct
        source_name,
        dataset_name,
        cast(null as date) as active_from
    from manifests
    {%- endif %}

),

days as (

    select distinct manifests.partition_date as landing_date
    from manifests
    inner join expected
        on
            manifests.source_name = expected.source_name
            and manifests.dataset_name = expected.dataset_name

),

datasets_by_day as (

    select
        days.landing_date,
        expected.source_name,
        expected.dataset_name,
        coalesce(manifests.rows_loaded, 0) as rows_loaded,
        coalesce(manifests.rows_quarantined, 0) as rows_quarantined,
        case
            when manifests.manifest_id is null then 'missing'
            when manifests.rows_loaded > 0 then 'landed'
            else 'empty'
        end as dataset_status
    from days
    inner join expected
        on expected.active_from is null or days.landing_date >= expected.active_from
    left join manifests
        on
            days.landing_date = manifests.partition_date
            and expected.source_name = manifests.source_name
            and expected.dataset_name = manifests.dataset_name

),

sources_by_day as (

    select
        landing_date,
        source_name,
        case
            when count(*) filter (where dataset_status = 'missing') > 0 then 'missing'
            when count(*) filter (where dataset_status = 'landed') > 0 then 'landed'
            else 'empty'
        end as source_status,
        {{ dbt.listagg(
            "case when dataset_status = 'missing' then dataset_name end",
            "', '",
            "order by dataset_name",
        ) }} as missing_datasets,
        count(*) as datasets_expected,
        count(*) filter (where dataset_status = 'missing') as datasets_missing,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined
    from datasets_by_day
    group by landing_date, source_name

),

final as (

    select
        -- ids
        {{ surrogate_key(['landing_date', 'source_name']) }} as day_status_id,
        source_name,

        -- strings
        source_status,
        case
            when bool_or(source_status = 'missing') over (partition by landing_date)
                then 'provisional'
            else 'final'
        end as day_status,
        missing_datasets,

        -- numerics
        cast(datasets_expected as bigint) as datasets_expected,
        cast(datasets_missing as bigint) as datasets_missing,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined,

        -- booleans
        not bool_or(source_status = 'missing') over (partition by landing_date) as is_final_day,

        -- dates
        landing_date

    from sources_by_day

)

select * from final
