{#- A relation without its database, so a view reads the same in any copy of the warehouse
    (the published copy, an extract attached under another name). In the lake (target
    `lake`) dbt's own default catalog is an in-memory one, so tables there name the lake;
    a view in the lake still binds its names in the lake, whatever the reader calls it. -#}
{% macro portable(relation) -%}
    {%- if target.name == 'lake' -%}{{ relation }}{%- else -%}{{ relation.include(database=False) }}{%- endif -%}
{%- endmacro %}
