-- One row per kode_indikator of the assessment rows: its direction (arah) and how its quarters
-- add up (jenis_agregasi), docs/domain.md#indicator-direction. Each comes from the first
-- source that says it: the export's own column (when its rows agree on one value), then
-- reference/indikator.csv, then (for arah) the aspek - waktu and biaya are lower-is-better -
-- and otherwise the default (naik, terakhir). *_source says which; audit_indicator_rules
-- lists the defaulted indicators and the declarations that disagree.
with declared as (
    select
        kode_indikator,
        any_value(indikator) as indikator,
        any_value(satuan) as satuan,
        count(*) as n_rows,
        count(distinct arah) as n_arah,
        count(distinct aspek) as n_aspek,
        count(distinct jenis_agregasi) as n_jenis,
        min(arah) as arah,
        min(aspek) as aspek,
        min(jenis_agregasi) as jenis_agregasi,
        string_agg(distinct arah, ', ' order by arah) as export_arah_values,
        string_agg(distinct jenis_agregasi, ', ' order by jenis_agregasi) as export_jenis_values
    from {{ ref('stg_assessments') }}
    group by kode_indikator
),

sources as (
    select
        d.kode_indikator,
        d.indikator,
        d.satuan,
        d.n_rows,
        case when d.n_arah = 1 then d.arah end as export_arah,
        case when d.n_aspek = 1 then d.aspek end as export_aspek,
        case when d.n_jenis = 1 then d.jenis_agregasi end as export_jenis,
        d.n_arah > 1 or d.n_aspek > 1 or d.n_jenis > 1 as export_disagrees,
        d.export_arah_values,
        d.export_jenis_values,
        r.arah as reference_arah,
        r.aspek as reference_aspek,
        r.jenis_agregasi as reference_jenis
    from declared as d
    left join {{ ref('stg_indicator_reference') }} as r on d.kode_indikator = r.kode_indikator
),

resolved as (
    select
        *,
        coalesce(export_aspek, reference_aspek) as aspek,
        case
            when export_arah is not null then 'export'
            when reference_arah is not null then 'reference'
            when coalesce(export_aspek, reference_aspek) in ('waktu', 'biaya') then 'aspek'
            else 'default'
        end as arah_source,
        case
            when export_jenis is not null then 'export'
            when reference_jenis is not null then 'reference'
            else 'default'
        end as jenis_agregasi_source
    from sources
)

select
    kode_indikator,
    indikator,
    satuan,
    cast(n_rows as bigint) as n_rows,
    aspek,
    case arah_source
        when 'export' then export_arah
        when 'reference' then reference_arah
        when 'aspek' then 'turun'
        else 'naik'
    end as arah,
    arah_source,
    case jenis_agregasi_source
        when 'export' then export_jenis
        when 'reference' then reference_jenis
        else 'terakhir'
    end as jenis_agregasi,
    jenis_agregasi_source,
    export_disagrees,
    export_arah_values,
    export_jenis_values,
    reference_arah,
    reference_jenis,
    (export_arah is not null and reference_arah is not null and export_arah <> reference_arah)
    or (export_jenis is not null and reference_jenis is not null and export_jenis <> reference_jenis)
        as export_contradicts_reference
from resolved
