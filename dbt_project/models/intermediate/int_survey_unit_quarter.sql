-- SKM per service unit x quarter: respondents, answers and score sums per element (so higher
-- levels can pool respondents exactly) and NRR = mean score over respondents who answered.
select
    kode_opd,
    unit_layanan,
    tahun,
    triwulan,
    cast(count(*) as integer) as n_responden,
    {%- for i in range(1, 10) %}
    cast(count(u{{ i }}) as integer) as n_answered_u{{ i }},
    cast(coalesce(sum(u{{ i }}), 0) as integer) as score_sum_u{{ i }},
    avg(u{{ i }}) as nrr_u{{ i }},
    {%- endfor %}
    cast(sum(n_invalid_answers) as integer) as n_invalid_answers
from {{ ref('stg_surveys') }}
group by kode_opd, unit_layanan, tahun, triwulan
