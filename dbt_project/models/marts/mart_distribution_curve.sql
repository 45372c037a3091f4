-- Agency-year (with an organisation predikat) x distribution-curve rule: observed share vs
-- bound, as evaluated in int_agency_year_curve_rule (docs/domain.md#distribution-curve).
select
    cast(kode_opd as varchar) as kode_opd,
    cast(tahun as integer) as tahun,
    cast(predikat_organisasi as varchar) as predikat_organisasi,
    cast(rule_id as varchar) as rule_id,
    cast(description as varchar) as description,
    cast(predikat_group as varchar) as predikat_group,
    cast(operator as varchar) as operator,
    cast(bound as double) as bound,
    cast(n_assessed as integer) as n_assessed,
    cast(n_in_group as integer) as n_in_group,
    cast(observed_share as double) as observed_share,
    cast(passed as boolean) as passed,
    cast(violation as varchar) as violation
from {{ ref('int_agency_year_curve_rule') }}
