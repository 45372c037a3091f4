-- Employee-periods whose employee-level fields (which repeat on every indicator row) disagree
-- across the kept indicator rows: one row per employee-period x conflicting field. The name is
-- compared through its fingerprint (stg_assessments.employee_fields_hash) and, for the listing,
-- through raw.assessments by lineage, so it never leaves the raw schema.
-- One pass over min/max of the fingerprint finds the (few) conflicting employee-periods; only
-- their rows are read again, field by field, to list the values. (Counting distinct values
-- of 11 fields after joining 25M rows back to raw took 291 thread-s at 1M employees.)
{%- set fields = ['nama', 'kode_opd', 'nama_opd', 'unit_kerja', 'jabatan', 'jenis_jabatan',
                  'golongan', 'rating_hasil_kerja', 'rating_perilaku', 'predikat',
                  'penilai_key'] %}
with conflicting as (
    -- one pass over the kept rows: an employee-period whose fingerprint varies
    select employee_key, tahun, periode
    from {{ ref('stg_assessments') }}
    group by employee_key, tahun, periode
    having min(employee_fields_hash) <> max(employee_fields_hash)
),

conflicting_rows as (
    select
        a.employee_key,
        a.tahun,
        a.periode,
        a.source_file,
        a.source_row,
        a.kode_opd,
        a.nama_opd,
        a.unit_kerja,
        a.jabatan,
        a.jenis_jabatan,
        a.golongan,
        a.rating_hasil_kerja,
        a.rating_perilaku,
        a.predikat,
        a.penilai_key,
        r.nama
    from {{ ref('stg_assessments') }} as a
    inner join conflicting as c
        on a.employee_key = c.employee_key and a.tahun = c.tahun and a.periode = c.periode
    inner join {{ source('raw', 'assessments') }} as r
        on a.source_file = r.source_file and a.source_row = r.source_row
),

fields as (
    {%- for f in fields %}
    select
        employee_key,
        tahun,
        periode,
        '{{ f }}' as field_name,
        count(distinct coalesce({{ f }}, '<missing>')) as n_distinct_values,
        {%- if f == 'nama' %}
        cast(null as varchar) as distinct_values,
        {%- else %}
        string_agg(distinct coalesce({{ f }}, '<missing>'), ' | ' order by coalesce({{ f }}, '<missing>')) as distinct_values,
        {%- endif %}
        count(*) as n_indicator_rows,
        min(source_file) as source_file,
        min(source_row) as first_source_row
    from conflicting_rows
    group by employee_key, tahun, periode
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    employee_key,
    tahun,
    periode,
    field_name,
    cast(n_distinct_values as integer) as n_distinct_values,
    distinct_values,
    cast(n_indicator_rows as integer) as n_indicator_rows,
    source_file,
    first_source_row
from fields
where n_distinct_values > 1
