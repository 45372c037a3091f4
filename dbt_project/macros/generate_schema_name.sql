{#- A model's custom schema is used verbatim (staging, intermediate, marts, audit, reference):
    downstream readers (Dagster, notebooks) address tables as marts.x, not main_marts.x. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
