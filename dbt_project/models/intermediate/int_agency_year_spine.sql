-- Every agency x tahun observed in any source (assessments of any period, surveys, training).
with years as (
    select tahun from {{ ref('int_employee_period') }}
    union
    select tahun from {{ ref('stg_surveys') }}
    union
    select tahun from {{ ref('stg_training') }}
)

select a.kode_opd, y.tahun
from {{ ref('stg_agencies') }} as a
cross join years as y
