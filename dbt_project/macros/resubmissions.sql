{#- Raw assessment rows of the run's quarters with the re-submission decision
    (docs/domain.md#re-submissions): the same employee-period (nip, tahun, periode) may arrive
    in several files; the file whose path sorts latest wins the whole employee-period, and
    inside that file a repeated indicator keeps its last row (highest source_row).
    Adds winning_source_file and is_last_in_file (false only for a repeated indicator's
    earlier rows in the winning file). No window runs over all rows: at 1M employees (25M
    rows) a window partitioned by employee-period, carrying the row's 30 columns, spilled
    for 5 minutes. Instead: the latest file per employee-period by a group-by joined back
    (a 5M-row build side), and repeats - rare - found by a 64-bit key over the winning
    file's rows, then ranked exactly on the few rows whose key repeats (a hash collision can
    only add rows to that exact check, never decide one). Used by stg_assessment_rows (the
    decision of every row) and stg_assessments (the kept rows, whole). -#}
{% macro assessment_rows_decided() -%}
    {%- set rows -%}
        (select * from {{ source('raw', 'assessments') }} where {{ quarter_rows_filter('assessments') }})
    {%- endset -%}
    with winning as (
        select nip, tahun, periode, max(source_file) as winning_source_file
        from {{ rows }}
        group by nip, tahun, periode
    ),

    winning_rows as (
        select s.nip, s.tahun, s.periode, s.kode_indikator, s.source_file, s.source_row
        from {{ rows }} as s
        inner join winning as w
            on s.nip = w.nip and s.tahun = w.tahun and s.periode = w.periode
            and s.source_file = w.winning_source_file
    ),

    repeated_keys as (
        select hash(nip, tahun, periode, kode_indikator) as row_key
        from winning_rows
        group by row_key
        having count(*) > 1
    ),

    repeated as (
        select
            source_file,
            source_row,
            row_number() over (
                partition by nip, tahun, periode, kode_indikator order by source_row desc
            ) > 1 as is_earlier_repeat
        from winning_rows
        where hash(nip, tahun, periode, kode_indikator) in (select row_key from repeated_keys)
    )

    select
        s.*,
        w.winning_source_file,
        not coalesce(r.is_earlier_repeat, false) as is_last_in_file
    from {{ rows }} as s
    inner join winning as w
        on s.nip = w.nip and s.tahun = w.tahun and s.periode = w.periode
    left join repeated as r
        on s.source_file = r.source_file and s.source_row = r.source_row
{%- endmacro %}

{#- The employee-level fields an assessment export repeats on every indicator row (the name
    included), as one 64-bit hash: equal on every row of an employee-period unless a field
    differs. Two different value sets share a hash with probability ~2^-64 per pair, so a
    conflict is missed with negligible probability; the conflicting values themselves are
    listed from the fields, not the hash. -#}
{% macro employee_fields_hash() -%}
    hash(
        nama, kode_opd, nama_opd, unit_kerja, jabatan, jenis_jabatan, golongan,
        rating_hasil_kerja, rating_perilaku, predikat, penilai_key
    )
{%- endmacro %}
