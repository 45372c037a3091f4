{#- Small generic tests written here because `dbt deps` (dbt_utils) has no network. -#}

{#- Fails on rows whose value lies outside [min_value, max_value]. NULLs pass unless
    allow_null is false, so one query covers what not_null + a range check would. -#}
{% test between(model, column_name, min_value=none, max_value=none, allow_null=true) %}
select *
from {{ model }}
where
    {% if allow_null %}{{ column_name }} is not null and{% endif %}
    (
        {% if not allow_null %}{{ column_name }} is null or{% endif %}
        false
        {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {% if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
    )
{% endtest %}

{#- Fails on every combination of the grain columns that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Fails on rows where the SQL boolean expression is false (NULL counts as passing). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}

{#- The column rules of one model in one pass: not_null, between (same meaning as the test
    above) and accepted_values (NULL passes, as in dbt's own) for many columns at once.
    Each rule was its own test before, i.e. its own scan and dbt node (444 of them: at 1M
    employees 30 scans of a 25M-row table, and most of dbt's fixed cost at every size).
    Fails with one row per broken rule: the rule and how many rows break it.
    Arguments: not_null: [column, ...]; between: {column: {min_value, max_value, allow_null}};
    accepted_values: {column: [value, ...]}. -#}
{% test column_rules(model, not_null=[], between={}, accepted_values={}) %}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append(('not_null(' ~ column ~ ')', column ~ ' is null')) -%}
{%- endfor -%}
{%- for column, bounds in between.items() -%}
    {%- set parts = [] -%}
    {%- if bounds.get('allow_null', true) is false -%}{%- do parts.append(column ~ ' is null') -%}{%- endif -%}
    {%- if bounds.get('min_value') is not none -%}{%- do parts.append(column ~ ' < ' ~ bounds['min_value']) -%}{%- endif -%}
    {%- if bounds.get('max_value') is not none -%}{%- do parts.append(column ~ ' > ' ~ bounds['max_value']) -%}{%- endif -%}
    {%- do checks.append((
        'between(' ~ column ~ ', ' ~ bounds.get('min_value') ~ ', ' ~ bounds.get('max_value')
        ~ (', not null' if bounds.get('allow_null', true) is false else '') ~ ')',
        '(' ~ (parts | join(' or ') if parts else 'false') ~ ')'
    )) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for v in values -%}{%- do quoted.append("'" ~ (v | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {%- do checks.append((
        'accepted_values(' ~ column ~ ')',
        'cast(' ~ column ~ ' as varchar) not in (' ~ quoted | join(', ') ~ ')'
    )) -%}
{%- endfor -%}
with counted as (
    select
    {%- for name, condition in checks %}
        count(*) filter (where {{ condition }}) as "{{ loop.index0 }}"{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
),

rules as (
    {%- for name, condition in checks %}
    select '{{ name | replace("'", "''") }}' as rule, "{{ loop.index0 }}" as n_failing_rows from counted
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from rules where n_failing_rows > 0
{% endtest %}
