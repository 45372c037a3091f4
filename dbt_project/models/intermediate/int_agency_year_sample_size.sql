-- Service units of an agency-year whose respondents fall short of the Krejcie & Morgan sample
-- for their service population (docs/domain.md#skm-sample-size).
select
    kode_opd,
    tahun,
    cast(count(*) as integer) as n_units,
    cast(count(adequate) as integer) as n_units_judged,
    -- NULL when no unit could be judged (no population given): not assessable, not 0
    cast(
        case when count(adequate) > 0 then count(*) filter (where adequate = false) end
        as integer
    ) as n_units_undersampled
from {{ ref('int_survey_sample_size') }}
group by kode_opd, tahun
