-- SKM respondents with the calendar year and quarter of the survey date.
{{ quarter_incremental_config() }}

select
    id_responden,
    tanggal,
    cast(year(tanggal) as integer) as tahun,
    cast(quarter(tanggal) as integer) as triwulan,
    kode_opd,
    unit_layanan,
    jenis_layanan,
    jenis_kelamin,
    usia,
    pendidikan,
    pekerjaan,
    u1, u2, u3, u4, u5, u6, u7, u8, u9,
    n_invalid_answers,
    saran,
    source_file,
    source_row,
    file_sha256,
    quarter
from {{ source('raw', 'surveys') }}
where {{ quarter_rows_filter('surveys') }}
