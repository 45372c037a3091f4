-- reference/indikator.csv (optional): what the planners declared per indicator code.
select
    cast(kode_indikator as varchar) as kode_indikator,
    cast(aspek as varchar) as aspek,
    cast(arah as varchar) as arah,
    cast(jenis_agregasi as varchar) as jenis_agregasi
from {{ source('raw', 'indikator') }}
