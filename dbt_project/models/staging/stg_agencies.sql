select kode_opd, nama_opd, pemda
from {{ source('raw', 'agencies') }}
