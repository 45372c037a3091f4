{#- Quarter partitions (see pipelines/partitions.py): a Dagster run passes the window of
    quarters it rebuilds as vars quarter_start / quarter_end (end exclusive). -#}

{% macro in_quarter_window(column='quarter') -%}
    {{ column }} >= cast('{{ var("quarter_start") }}' as date)
    and {{ column }} < cast('{{ var("quarter_end") }}' as date)
{%- endmacro %}

{#- Quarters of a source whose quarantine share is above KINERJA_MAX_QUARANTINE_SHARE: their
    export is broken, so they stay out of staging (and every mart) until it is fixed. -#}
{% macro blocked_quarters(source_name) -%}
    select quarter
    from {{ source('raw', 'files') }}
    where source = '{{ source_name }}' and quarter is not null
    group by quarter
    having sum(n_rows_quarantined)
        > {{ env_var('KINERJA_MAX_QUARANTINE_SHARE', '0.2') }} * sum(n_rows_read)
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
