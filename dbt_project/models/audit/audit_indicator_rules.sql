-- Indicators whose direction or aggregation nobody declared (the default naik / terakhir was
-- assumed: fill reference/indikator.csv in) or whose declarations disagree (rows of the
-- exports among themselves, or the exports with the reference), docs/domain.md#indicator-direction.
select
    kode_indikator,
    indikator,
    n_rows,
    arah,
    arah_source,
    jenis_agregasi,
    jenis_agregasi_source,
    case
        when export_disagrees then 'conflict'
        when export_contradicts_reference then 'conflict'
        else 'undeclared'
    end as issue,
    case
        when export_disagrees
            then 'exports disagree: arah ' || coalesce(export_arah_values, '-')
                || '; jenis_agregasi ' || coalesce(export_jenis_values, '-')
        when export_contradicts_reference
            then 'exports say arah ' || coalesce(export_arah_values, '-') || ', jenis_agregasi '
                || coalesce(export_jenis_values, '-') || '; reference says arah '
                || coalesce(reference_arah, '-') || ', jenis_agregasi '
                || coalesce(reference_jenis, '-') || ' (the exports win)'
        else 'not declared: assumed '
            || case when arah_source = 'default' then 'arah naik' else '' end
            || case when arah_source = 'default' and jenis_agregasi_source = 'default' then ', ' else '' end
            || case when jenis_agregasi_source = 'default' then 'jenis_agregasi terakhir' else '' end
            || '; declare it in reference/indikator.csv'
    end as detail
from {{ ref('int_indicator_rule') }}
where export_disagrees
    or export_contradicts_reference
    or arah_source = 'default'
    or jenis_agregasi_source = 'default'
