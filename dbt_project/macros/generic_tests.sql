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
