-- Assessment rows that count: re-submissions resolved (see stg_assessment_rows). No NIP or name
-- leaves staging: employee_key is the pseudonymous identifier from here on, and
-- employee_fields_hash a fingerprint of the employee-level fields (name included) that
-- audit_employee_field_conflicts compares without reading the name again.
-- A view, not a table: a filtered copy of stg_assessment_rows cost a 25M-row write at 1M
-- employees (39 s) and was rebuilt on every quarter run. Its references leave out the
-- database, so the view also reads in a copy of the warehouse attached under another name
-- (the published warehouse, the extracts).
{{ config(materialized='view') }}

select
    employee_key,
    is_pppk,
    birth_date,
    birth_year,
    appointment_year,
    gender,
    kode_opd,
    nama_opd,
    unit_kerja,
    jabatan,
    jenis_jabatan,
    golongan,
    tahun,
    periode,
    kode_indikator,
    indikator,
    target,
    realisasi,
    satuan,
    aspek,
    arah,
    jenis_agregasi,
    nilai_mandiri,
    nilai_atasan,
    rating_hasil_kerja,
    rating_perilaku,
    predikat,
    penilai_key,
    employee_fields_hash,
    source_file,
    source_row,
    file_sha256,
    quarter
from {{ portable(ref('stg_assessment_rows')) }}
where is_kept and {{ quarter_rows_filter('assessments') }}
