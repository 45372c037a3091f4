-- Training per agency x quarter: JP of courses starting in the quarter and the share of the
-- agency's employees that year whose year-to-date JP at the quarter's end reaches 20
-- (docs/domain.md#training-hours). Every agency-year with employees gets all four quarters.
with employee_quarter as (
    select
        ay.kode_opd,
        ay.tahun,
        q.triwulan,
        case q.triwulan
            {%- for q in range(1, 5) %} when {{ q }} then t.jp_q{{ q }}{% endfor %}
        end as jp,
        case q.triwulan
            {%- for q in range(1, 5) %} when {{ q }} then t.jp_ytd_q{{ q }}{% endfor %}
        end as jp_ytd
    from {{ ref('int_employee_agency_year') }} as ay
    cross join (values (1), (2), (3), (4)) as q (triwulan)
    left join {{ ref('int_training_employee_year') }} as t
        on ay.employee_key = t.employee_key and ay.tahun = t.tahun
),

counted as (
    select
        kode_opd,
        tahun,
        triwulan,
        count(*) as n_employees,
        coalesce(sum(jp), 0) as jp_total,
        count(*) filter (where jp_ytd >= 20) as n_reached_20jp
    from employee_quarter
    group by kode_opd, tahun, triwulan
)

select
    kode_opd,
    tahun,
    cast(triwulan as integer) as triwulan,
    cast(n_employees as integer) as n_employees,
    jp_total,
    cast(n_reached_20jp as integer) as n_reached_20jp,
    jp_total / nullif(n_employees, 0) as jp_per_employee,
    {{ share('n_reached_20jp', 'n_employees') }} as share_20jp
from counted
