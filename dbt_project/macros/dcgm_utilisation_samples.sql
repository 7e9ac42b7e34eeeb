{% macro dcgm_utilisation_samples() -%}
    {#- The DCGM samples that say how busy a GPU was (DCGM_FI_DEV_GPU_UTIL, percent):
        the node inventory counts GPUs from them and the GPU hours weigh them. -#}
    (
        select * from {{ ref('stg_dcgm__gpu_samples') }}
        where metric_name = 'DCGM_FI_DEV_GPU_UTIL'
    )
{%- endmacro %}
