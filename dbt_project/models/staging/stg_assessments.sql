-- Assessment rows that count: re-submissions resolved (macro assessment_rows_decided; the
-- decision of every row is in stg_assessment_rows). No NIP or name leaves staging:
-- employee_key is the pseudonymous identifier from here on, and employee_fields_hash a
-- fingerprint of the employee-level fields (name included) that audit_employee_field_conflicts
-- compares without reading the name again.
{{ quarter_incremental_config() }}

with decided as (
    {{ assessment_rows_decided() }}
)

select
    employee_key,
    is_pppk,
    -- NIP layout (Perka BKN 22/2007, docs/domain.md#nip; PPPK uses the same positions):
    -- birth date YYYYMMDD, appointment year YYYY, ..., gender digit at position 15.
    cast(strptime(substr(nip, 1, 8), '%Y%m%d') as date) as birth_date,
    cast(substr(nip, 1, 4) as integer) as birth_year,
    cast(substr(nip, 9, 4) as integer) as appointment_year,
    case substr(nip, 15, 1) when '1' then 'L' when '2' then 'P' end as gender,
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
    {{ employee_fields_hash() }} as employee_fields_hash,
    source_file,
    source_row,
    file_sha256,
    quarter
from decided
where source_file = winning_source_file and is_last_in_file
