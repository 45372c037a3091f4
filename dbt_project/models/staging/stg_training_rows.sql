-- Every raw training row with the duplicate decision attached. One attendance is one employee,
-- course (name compared ignoring case and spacing) and start date, whatever the JP: entered
-- twice it would count its JP twice toward the 20-JP rule. The row from the file whose path
-- sorts latest, then the latest row, is kept (as for assessment re-submissions: the later entry
-- is taken as the correction); the others are listed in audit_training_duplicates.
{{ quarter_incremental_config() }}

with source as (
    select
        *,
        -- \p{Z}: spreadsheets also leave non-breaking spaces
        lower(trim(regexp_replace(nama_pelatihan, '[\s\p{Z}]+', ' ', 'g'))) as course_key
    from {{ source('raw', 'training') }}
    where {{ quarter_rows_filter('training') }}
),

ranked as (
    select
        *,
        row_number() over attendance as attendance_rank,
        first_value(source_file) over attendance as kept_source_file,
        first_value(source_row) over attendance as kept_source_row
    from source
    window attendance as (
        partition by employee_key, course_key, tanggal_mulai
        order by source_file desc, source_row desc
    )
)

select
    employee_key,
    nama_pelatihan,
    course_key,
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
    quarter,
    attendance_rank = 1 as is_kept,
    kept_source_file,
    kept_source_row,
    case
        when attendance_rank > 1
            then 'same employee, course and start date as a later record'
    end as drop_reason
from ranked
