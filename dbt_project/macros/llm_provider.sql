{% macro llm_provider(column) -%}
    {#- One spelling per provider across LiteLLM's custom_llm_provider and the
        OTel gen_ai.provider.name / gen_ai.system conventions, so a provider
        whose bill is pulled is recognised whichever log names it. -#}
    case lower(trim({{ column }}))
        when 'text-completion-openai' then 'openai'
        when 'aws.bedrock' then 'bedrock'
        when 'az.ai.openai' then 'azure'
        when 'azure.ai.openai' then 'azure'
        when 'azure.ai.inference' then 'azure_ai'
        when 'gcp.vertex_ai' then 'vertex_ai'
        when 'gcp.gemini' then 'gemini'
        when 'gcp.gen_ai' then 'vertex_ai'
        when 'hosted_vllm' then 'vllm'
        else coalesce(lower(trim({{ column }})), 'unknown')
    end
{%- endmacro %}
