-- Distribution-curve compliance per agency-year with an organisation predikat: compliant when
-- every rule of its predikat passes (NULL when a rule cannot be judged: nobody assessed in
-- TAHUNAN), and the broken rules as one sentence.
select
    kode_opd,
    tahun,
    any_value(predikat_organisasi) as predikat_organisasi,
    case when count(passed) = count(*) then bool_and(passed) end as curve_compliant,
    string_agg(violation, '; ' order by rule_id) filter (where not passed) as curve_broken_rules
from {{ ref('int_agency_year_curve_rule') }}
group by kode_opd, tahun
