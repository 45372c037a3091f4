-- One row per kept indicator row: its capaian (direction-aware achievement, the indicator's arah
-- from int_indicator_rule, docs/domain.md#indicator-direction) and self-vs-supervisor gap.
-- A view (see stg_assessments): its two readers aggregate it at once, and a 25M-row table of
-- it cost 48 s at 1M employees on every run, a quarter run included.
{{ config(materialized='view') }}
select
    a.employee_key,
    a.tahun,
    a.periode,
    a.kode_indikator,
    a.kode_opd,
    a.penilai_key,
    a.target,
    a.realisasi,
    r.arah,
    r.jenis_agregasi,
    {{ capaian('a.realisasi', 'a.target', 'r.arah') }} as achievement,
    {{ self_supervisor_gap('a.nilai_mandiri', 'a.nilai_atasan') }} as self_supervisor_gap,
    a.source_file,
    a.source_row
from {{ portable(ref('stg_assessments')) }} as a
inner join {{ portable(ref('int_indicator_rule')) }} as r on a.kode_indikator = r.kode_indikator
