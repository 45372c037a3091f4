-- Which agency an employee belongs to in a year: the kode_opd of the latest period assessed
-- that year (period order from the periods seed). Denominator for training coverage.
select
    e.employee_key,
    e.tahun,
    arg_max(e.kode_opd, p.sort_order) as kode_opd,
    cast(count(*) as integer) as n_periods_assessed
from {{ ref('int_employee_period') }} as e
inner join {{ ref('periods') }} as p on e.periode = p.periode
group by e.employee_key, e.tahun
