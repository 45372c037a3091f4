-- Employees rated Butuh Perbaikan or worse (exported predikat) in a period of the year who
-- attended no training starting after that period's end (any later date counts).
with low_rated as (
    select employee_key, tahun, periode, period_end_date, predikat
    from {{ ref('int_employee_period') }}
    where predikat in (select predikat from {{ ref('predikat') }} where band = 'bottom')
),

untrained as (
    select l.*
    from low_rated as l
    where not exists (
        select 1
        from {{ ref('stg_training') }} as t
        where t.employee_key = l.employee_key and t.tanggal_mulai > l.period_end_date
    )
)

select
    u.employee_key,
    u.tahun,
    ay.kode_opd,
    cast(count(*) as integer) as n_low_rated_periods_untrained,
    max(u.period_end_date) as last_low_rated_period_end
from untrained as u
inner join {{ ref('int_employee_agency_year') }} as ay
    on u.employee_key = ay.employee_key and u.tahun = ay.tahun
group by u.employee_key, u.tahun, ay.kode_opd
