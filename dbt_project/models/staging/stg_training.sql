-- Course attendances, dated by the course start (the 20 JP entitlement is per calendar year).
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
    file_sha256
from {{ source('raw', 'training') }}
