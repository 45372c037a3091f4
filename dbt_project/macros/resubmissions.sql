{#- Raw assessment rows of the run's quarters with the re-submission decision
    (docs/domain.md#re-submissions): the same employee-period (nip, tahun, periode) may arrive
    in several files; the file whose path sorts latest wins the whole employee-period, and
    inside that file a repeated indicator keeps its last row (highest source_row).
    One window partitioned by employee-period gives both: the latest file, and whether a row
    is the last of its (indicator, file) - the row after it, in that order, belongs to
    another indicator or file. (A group-by, a join back and a second window over 25M rows at
    1M employees cost 3x as much.) Used by stg_assessment_rows (the decision of every row)
    and stg_assessments (the kept rows, whole): each computes it, since joining the two
    back together costs more than sorting twice. -#}
{% macro assessment_rows_decided() -%}
    select
        *,
        max(source_file) over employee_period as winning_source_file,
        (
            lead(kode_indikator) over in_order is distinct from kode_indikator
            or lead(source_file) over in_order is distinct from source_file
        ) as is_last_in_file
    from {{ source('raw', 'assessments') }}
    where {{ quarter_rows_filter('assessments') }}
    window
        in_order as (
            partition by nip, tahun, periode order by kode_indikator, source_file, source_row
        ),
        employee_period as (
            partition by nip, tahun, periode order by kode_indikator, source_file, source_row
            rows between unbounded preceding and unbounded following
        )
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
