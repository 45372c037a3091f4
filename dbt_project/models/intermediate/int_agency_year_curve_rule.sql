-- One row per agency-year with an organisation predikat x distribution-curve rule of that
-- predikat (PermenPANRB 6/2022, SE MenPANRB 3/2023; bounds in the distribution_curve_rules
-- seed; docs/domain.md#distribution-curve). Shares are over employees assessed in the annual
-- period (TAHUNAN) in that agency, by exported predikat.
with org as (
    select o.kode_opd, o.tahun, o.predikat_organisasi
    from {{ ref('stg_predikat_organisasi') }} as o
    inner join {{ ref('stg_agencies') }} as a on o.kode_opd = a.kode_opd
),

annual as (
    select kode_opd, tahun, employee_key, predikat
    from {{ ref('int_employee_period') }}
    where periode = 'TAHUNAN'
),

counted as (
    select
        o.kode_opd,
        o.tahun,
        o.predikat_organisasi,
        r.rule_id,
        r.predikat_group,
        r.operator,
        r.bound,
        r.description,
        r.violation_template,
        count(a.employee_key) as n_assessed,
        count(a.employee_key) filter (
            where list_contains(string_split(r.predikat_group, '+'), a.predikat)
        ) as n_in_group
    from org as o
    inner join {{ ref('distribution_curve_rules') }} as r
        on o.predikat_organisasi = r.predikat_organisasi
    left join annual as a on o.kode_opd = a.kode_opd and o.tahun = a.tahun
    group by all
),

evaluated as (
    select
        *,
        {{ share('n_in_group', 'n_assessed') }} as observed_share
    from counted
),

judged as (
    select
        *,
        {{ curve_rule_passed('observed_share', 'operator', 'bound') }} as passed
    from evaluated
)

select
    kode_opd,
    tahun,
    predikat_organisasi,
    rule_id,
    description,
    predikat_group,
    operator,
    bound,
    cast(n_assessed as integer) as n_assessed,
    cast(n_in_group as integer) as n_in_group,
    observed_share,
    passed,
    case
        when not passed
            then replace(violation_template, '{observed}', printf('%.1f%%', observed_share * 100))
    end as violation
from judged
