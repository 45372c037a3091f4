select kode_opd, cast(tahun as integer) as tahun, predikat as predikat_organisasi
from {{ source('raw', 'predikat_organisasi') }}
