-- Training per agency x year: JP of courses starting in the year by the agency's employees
-- (int_employee_agency_year), how many reached 20 JP (docs/domain.md#training-hours), and how
-- many low-rated employees got no training afterwards (int_training_need).
with counted as (
    select
        ay.kode_opd,
        ay.tahun,
        count(*) as n_employees,
        coalesce(sum(t.jp_total), 0) as jp_total,
        count(*) filter (where t.reached_20jp) as n_reached_20jp,
        count(tn.employee_key) as n_training_need
    from {{ ref('int_employee_agency_year') }} as ay
    left join {{ ref('int_training_employee_year') }} as t
        on ay.employee_key = t.employee_key and ay.tahun = t.tahun
    -- one row per employee-year, in the agency int_employee_agency_year gives it
    left join {{ ref('int_training_need') }} as tn
        on ay.employee_key = tn.employee_key and ay.tahun = tn.tahun
    group by ay.kode_opd, ay.tahun
)

select
    kode_opd,
    tahun,
    cast(n_employees as integer) as n_employees,
    jp_total,
    cast(n_reached_20jp as integer) as n_reached_20jp,
    jp_total / nullif(n_employees, 0) as jp_per_employee,
    {{ share('n_reached_20jp', 'n_employees') }} as share_20jp,
    cast(n_training_need as integer) as n_training_need
from counted
