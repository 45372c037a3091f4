{#- Building blocks of the agency marts (mart_agency_quarter, mart_agency_year) and of the
    intermediate facts they join. Each mart joins one row of prepared facts per source to its
    spine; the column macros below turn those rows into the mart contract (NULL facts -> 0 for
    counts, NULL for shares, means and indices) so both marts publish them the same way. -#}

{#- Employee predikat (PermenPANRB 6/2022, docs/domain.md#rating-matrix) in the order the
    marts publish them, with the column-name slug of each. -#}
{% macro predikat_levels() -%}
    {{ return([
        {'label': 'Sangat Baik', 'slug': 'sangat_baik'},
        {'label': 'Baik', 'slug': 'baik'},
        {'label': 'Butuh Perbaikan', 'slug': 'butuh_perbaikan'},
        {'label': 'Kurang/Misconduct', 'slug': 'kurang_misconduct'},
        {'label': 'Sangat Kurang', 'slug': 'sangat_kurang'},
    ]) }}
{%- endmacro %}

{#- Body of int_agency_quarter_survey / int_agency_year_survey: the SKM of every agency at
    `grain` (a list of columns of int_survey_unit_quarter). Respondents are pooled through the
    score sums and answer counts (NRR = sum of scores / answers, so an agency's NRR is the mean
    over all its respondents, not a mean of unit or quarter NRRs), then the published index
    (skm_index, docs/domain.md#skm-index) and its grade band from the ikm_grades seed. -#}
{% macro agency_survey(grain) -%}
with pooled as (
    select
        {{ grain | join(', ') }},
        cast(sum(n_responden) as integer) as n_responden,
        {%- for i in range(1, 10) %}
        sum(score_sum_u{{ i }}) / nullif(sum(n_answered_u{{ i }}), 0) as nrr_u{{ i }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_survey_unit_quarter') }}
    group by {{ grain | join(', ') }}
),

indexed as (
    select *, {{ skm_index('nrr_') }} as ikm
    from pooled
)

select
    i.*,
    g.grade as ikm_grade,
    g.label as ikm_grade_label
from indexed as i
-- the bands are inclusive 2-decimal ranges: compare the index as published (2 decimals)
left join {{ ref('ikm_grades') }} as g
    on cast(i.ikm as decimal(5, 2)) between g.min_index and g.max_index
{%- endmacro %}

{#- Assessment columns of a mart row from an int_agency_period_assessment row `a` (all NULL
    when nobody was assessed in the period): counts 0, shares and means NULL. -#}
{% macro agency_assessment_columns(a) -%}
    cast(coalesce({{ a }}.n_assessed, 0) as integer) as n_assessed,
    cast(coalesce({{ a }}.n_indicator_rows, 0) as integer) as n_indicator_rows,
    cast(coalesce({{ a }}.n_with_indicators, 0) as integer) as n_with_indicators,
    {%- for p in predikat_levels() %}
    cast(coalesce({{ a }}.n_{{ p.slug }}, 0) as integer) as n_{{ p.slug }},
    {%- endfor %}
    {%- for p in predikat_levels() %}
    cast({{ a }}.share_{{ p.slug }} as double) as share_{{ p.slug }},
    {%- endfor %}
    cast({{ a }}.mean_achievement as double) as mean_achievement,
    cast({{ capaian_band(a ~ '.mean_achievement') }} as varchar) as capaian_band,
    cast({{ a }}.mean_self_supervisor_gap as double) as mean_self_supervisor_gap,
    cast(coalesce({{ a }}.n_predikat_mismatch, 0) as integer) as n_predikat_mismatch
{%- endmacro %}

{#- SKM columns of a mart row from an int_agency_*_survey row `sv` (NULL: no respondent). -#}
{% macro agency_survey_columns(sv) -%}
    cast({{ sv }}.ikm as double) as ikm,
    cast({{ sv }}.ikm_grade as varchar) as ikm_grade,
    cast({{ sv }}.ikm_grade_label as varchar) as ikm_grade_label,
    cast(coalesce({{ sv }}.n_responden, 0) as integer) as n_responden,
    {%- for i in range(1, 10) %}
    cast({{ sv }}.nrr_u{{ i }} as double) as nrr_u{{ i }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Training columns of a mart row from an int_agency_*_training row `tr` (NULL: the agency
    had no employee that year). -#}
{% macro agency_training_columns(tr) -%}
    cast(coalesce({{ tr }}.jp_total, 0) as double) as jp_total,
    cast(coalesce({{ tr }}.n_employees, 0) as integer) as n_employees,
    cast({{ tr }}.jp_per_employee as double) as jp_per_employee,
    cast({{ tr }}.share_20jp as double) as share_20jp
{%- endmacro %}

{#- Change of the headline measures between a mart row `current` and the row of the previous
    period `previous` (NULL when that period is not in the mart). -#}
{% macro agency_change_columns(current, previous) -%}
    cast({{ current }}.n_assessed - {{ previous }}.n_assessed as integer) as n_assessed_change,
    cast({{ current }}.mean_achievement - {{ previous }}.mean_achievement as double)
        as mean_achievement_change,
    cast({{ current }}.share_sangat_baik - {{ previous }}.share_sangat_baik as double)
        as share_sangat_baik_change,
    cast({{ current }}.ikm - {{ previous }}.ikm as double) as ikm_change,
    cast({{ current }}.share_20jp - {{ previous }}.share_20jp as double) as share_20jp_change
{%- endmacro %}
