-- Every agency x (tahun, triwulan) observed in any source (quarterly assessments, surveys,
-- training), so an agency with no activity in an observed quarter still gets a row.
with quarters as (
    select e.tahun, p.triwulan
    from {{ ref('int_employee_period') }} as e
    inner join {{ ref('periods') }} as p on e.periode = p.periode
    where p.kind = 'quarterly'
    union
    select tahun, triwulan from {{ ref('stg_surveys') }}
    union
    select tahun, triwulan from {{ ref('stg_training') }}
)

select a.kode_opd, q.tahun, q.triwulan
from {{ ref('stg_agencies') }} as a
cross join quarters as q
