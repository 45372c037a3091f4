select kode_opd, unit_layanan, cast(tahun as integer) as tahun, cast(populasi as integer) as populasi
from {{ source('raw', 'service_population') }}
