-- Course attendances, dated by the course start (the 20 JP entitlement is per calendar year).
{{ quarter_incremental_config() }}

select
    employee_key,
    nama_pelatihan,
    jenis,
    penyelenggara,
    tanggal_mulai,
    tanggal_selesai,
    cast(year(tanggal_mulai) as integer) as tahun,
    cast(quarter(tanggal_mulai) as integer) as triwulan,
    jp,
    sertifikat,
    source_file,
    source_row,
    file_sha256,
    quarter
from {{ source('raw', 'training') }}
where {{ quarter_rows_filter('training') }}
