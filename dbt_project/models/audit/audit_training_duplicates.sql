-- Training rows left out because they repeat a kept attendance (see stg_training_rows), next
-- to the kept row: both places in the exports and both JP, so a differing JP can be checked.
select
    d.employee_key,
    d.tahun,
    d.tanggal_mulai,
    d.nama_pelatihan,
    k.nama_pelatihan as kept_nama_pelatihan,
    d.jp,
    k.jp as kept_jp,
    d.jp <> k.jp as jp_differs,
    d.source_file,
    d.source_row,
    d.kept_source_file,
    d.kept_source_row,
    d.drop_reason
from {{ ref('stg_training_rows') }} as d
inner join {{ ref('stg_training_rows') }} as k
    on d.kept_source_file = k.source_file and d.kept_source_row = k.source_row
where not d.is_kept
