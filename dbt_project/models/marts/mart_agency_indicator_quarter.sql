-- The planners' quarterly evaluation (the shape of Permendagri 86/2017's Form E.81 and its local
-- variants), docs/domain.md#quarterly-evaluation: per agency x indicator x year, as of each
-- quarter up to the agency-year's latest quarter with assessment rows, the annual target, the
-- realisation of quarters I-IV so far, the realisation to date, capaian against the annual
-- target and against the target of the quarters to date (direction-aware, with its band), and
-- the same quarter of the previous year. An agency's value of an indicator pools its holders:
-- jumlah indicators add up over employees and quarters, terakhir ones take the mean over the
-- employees of the latest quarter with rows up to the row's quarter (never a sum of
-- percentages). An employee's annual target is the TAHUNAN row's; before the year's TAHUNAN
-- export exists, four times the mean quarterly target (jumlah) or the latest quarter's
-- target (terakhir).
with rows as (
    select
        a.employee_key,
        a.kode_opd,
        a.tahun,
        a.kode_indikator,
        a.target,
        a.realisasi,
        a.jenis_agregasi,
        p.triwulan,
        p.kind as period_kind
    from {{ ref('int_indicator_achievement') }} as a
    inner join {{ ref('periods') }} as p on a.periode = p.periode
    where p.kind in ('quarterly', 'annual')
),

employee_annual as (
    select
        employee_key,
        kode_opd,
        tahun,
        kode_indikator,
        coalesce(
            max(target) filter (where period_kind = 'annual'),
            case
                when any_value(jenis_agregasi) = 'jumlah'
                    then 4 * avg(target) filter (where period_kind = 'quarterly')
                else arg_max(target, triwulan) filter (where period_kind = 'quarterly')
            end
        ) as annual_target
    from rows
    group by employee_key, kode_opd, tahun, kode_indikator
    -- holders are those with quarterly rows: the realisation comes from the quarters
    having count(*) filter (where period_kind = 'quarterly') > 0
),

quarterly as (
    select
        kode_opd,
        tahun,
        kode_indikator,
        triwulan,
        case when any_value(jenis_agregasi) = 'jumlah' then sum(realisasi) else avg(realisasi) end
            as realisasi,
        case when any_value(jenis_agregasi) = 'jumlah' then sum(target) else avg(target) end
            as target,
        count(distinct employee_key) as n_employees
    from rows
    where period_kind = 'quarterly'
    group by kode_opd, tahun, kode_indikator, triwulan
),

latest as (
    select kode_opd, tahun, max(triwulan) as last_q
    from rows
    where period_kind = 'quarterly'
    group by kode_opd, tahun
),

grid as (
    select i.kode_opd, i.tahun, i.kode_indikator, q.triwulan
    from (
        select distinct kode_opd, tahun, kode_indikator from quarterly
    ) as i
    inner join latest as l on i.kode_opd = l.kode_opd and i.tahun = l.tahun
    cross join (values (1), (2), (3), (4)) as q (triwulan)
    where q.triwulan <= l.last_q
),

as_of as (
    select
        g.kode_opd,
        g.tahun,
        g.kode_indikator,
        g.triwulan,
        {%- for k in range(1, 5) %}
        max(q.realisasi) filter (where q.triwulan = {{ k }} and {{ k }} <= g.triwulan)
            as realisasi_tw{{ k }},
        {%- endfor %}
        -- the smallest group behind a figure of the row: every quarter's figure, the sums and
        -- the latest value rest on that quarter's holders (publishing hides the row by it)
        min(q.n_employees) filter (where q.triwulan <= g.triwulan) as n_holders,
        sum(q.realisasi) filter (where q.triwulan <= g.triwulan) as realisasi_sum,
        sum(q.target) filter (where q.triwulan <= g.triwulan) as target_sum,
        arg_max(q.realisasi, q.triwulan) filter (where q.triwulan <= g.triwulan) as realisasi_now,
        arg_max(q.target, q.triwulan) filter (where q.triwulan <= g.triwulan) as target_now
    from grid as g
    left join quarterly as q
        on g.kode_opd = q.kode_opd
        and g.tahun = q.tahun
        and g.kode_indikator = q.kode_indikator
    group by g.kode_opd, g.tahun, g.kode_indikator, g.triwulan
),

annual as (
    select
        e.kode_opd,
        e.tahun,
        e.kode_indikator,
        case when r.jenis_agregasi = 'jumlah' then sum(e.annual_target) else avg(e.annual_target) end
            as annual_target
    from employee_annual as e
    inner join {{ ref('int_indicator_rule') }} as r on e.kode_indikator = r.kode_indikator
    group by e.kode_opd, e.tahun, e.kode_indikator, r.jenis_agregasi
),

evaluated as (
    select
        o.kode_opd,
        o.tahun,
        o.triwulan,
        o.kode_indikator,
        r.indikator,
        r.satuan,
        r.arah,
        r.jenis_agregasi,
        o.n_holders,
        a.annual_target,
        {%- for k in range(1, 5) %}
        o.realisasi_tw{{ k }},
        {%- endfor %}
        case when r.jenis_agregasi = 'jumlah' then o.realisasi_sum else o.realisasi_now end
            as realisasi_to_date,
        case when r.jenis_agregasi = 'jumlah' then o.target_sum else o.target_now end
            as target_to_date
    from as_of as o
    inner join {{ ref('int_indicator_rule') }} as r on o.kode_indikator = r.kode_indikator
    left join annual as a
        on o.kode_opd = a.kode_opd and o.tahun = a.tahun and o.kode_indikator = a.kode_indikator
    where o.n_holders is not null  -- an indicator appears from its first quarter with rows
),

measured as (
    select
        *,
        {{ capaian('realisasi_to_date', 'annual_target', 'arah') }} as capaian_annual,
        {{ capaian('realisasi_to_date', 'target_to_date', 'arah') }} as capaian_to_date
    from evaluated
)

select
    cast(m.kode_opd as varchar) as kode_opd,
    cast(ag.nama_opd as varchar) as nama_opd,
    cast(ag.pemda as varchar) as pemda,
    cast(m.tahun as integer) as tahun,
    cast(m.triwulan as integer) as triwulan,
    cast(m.kode_indikator as varchar) as kode_indikator,
    cast(m.indikator as varchar) as indikator,
    cast(m.satuan as varchar) as satuan,
    cast(m.arah as varchar) as arah,
    cast(m.jenis_agregasi as varchar) as jenis_agregasi,
    cast(coalesce(m.n_holders, 0) as integer) as n_holders,
    cast(m.annual_target as double) as annual_target,
    {%- for k in range(1, 5) %}
    cast(m.realisasi_tw{{ k }} as double) as realisasi_tw{{ k }},
    {%- endfor %}
    cast(m.realisasi_to_date as double) as realisasi_to_date,
    cast(m.target_to_date as double) as target_to_date,
    cast(m.capaian_annual as double) as capaian_annual,
    cast({{ capaian_band('m.capaian_annual') }} as varchar) as capaian_annual_band,
    cast(m.capaian_to_date as double) as capaian_to_date,
    cast({{ capaian_band('m.capaian_to_date') }} as varchar) as capaian_to_date_band,
    cast(coalesce(p.n_holders, 0) as integer) as n_holders_prev_year,
    cast(p.capaian_to_date as double) as capaian_to_date_prev_year,
    cast(m.capaian_to_date - p.capaian_to_date as double) as capaian_to_date_change
from measured as m
inner join {{ ref('stg_agencies') }} as ag on m.kode_opd = ag.kode_opd
left join measured as p
    on m.kode_opd = p.kode_opd
    and m.kode_indikator = p.kode_indikator
    and m.tahun - 1 = p.tahun
    and m.triwulan = p.triwulan
