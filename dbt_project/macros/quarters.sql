{#- Quarter partitions (see pipelines/partitions.py, docs/domain.md#quarters): a Dagster run
    passes the window of quarters it rebuilds as vars quarter_start / quarter_end (end
    exclusive). -#}

{% macro in_quarter_window(column='quarter') -%}
    {{ column }} >= cast('{{ var("quarter_start") }}' as date)
    and {{ column }} < cast('{{ var("quarter_end") }}' as date)
{%- endmacro %}

{#- Quarters of a source whose export is broken: they stay out of staging (and every mart)
    until it is fixed. Ingestion decides which (pipelines/blocked.py, the only place the rule
    lives) and writes them to raw.blocked_quarters next to raw.files. A warehouse without
    that table (built by hand, or before it existed) has nothing blocked. -#}
{% macro blocked_quarters(source_name) -%}
    {%- set files = source('raw', 'files') -%}
    {%- set table = adapter.get_relation(
            database=files.database, schema=files.schema, identifier='blocked_quarters'
        ) if execute else none -%}
    {%- if table is not none -%}
    select quarter from {{ portable(table) }} where source = '{{ source_name }}'
    {%- else -%}
    select cast(null as date) as quarter where false
    {%- endif -%}
{%- endmacro %}

{#- Staging of a quarter-partitioned source: incremental, a run replaces its window. -#}
{% macro quarter_incremental_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ in_quarter_window() }}{% endif %}"
    ) }}
{%- endmacro %}

{#- Rows of a partitioned source this run builds: the window (all on a first or full-refresh
    build), minus blocked quarters. -#}
{% macro quarter_rows_filter(source_name, column='quarter') -%}
    {% if is_incremental() %}{{ in_quarter_window(column) }} and {% endif %}
    ({{ column }} not in ({{ blocked_quarters(source_name) }}))
{%- endmacro %}
