-- One row per employee x indicator x agency x year: the mean achievement over the periods of
-- the year. The unit of the indicator fairness test (an employee's periods are not
-- independent), and 5x fewer rows than int_indicator_achievement for the analysis to load.
select
    tahun,
    kode_opd,
    kode_indikator,
    employee_key,
    avg(achievement) as achievement,
    cast(count(*) as integer) as n_periods
from {{ ref('int_indicator_achievement') }}
where achievement is not null
group by tahun, kode_opd, kode_indikator, employee_key
