-- Every raw assessment row with the re-submission decision attached. The same employee-period
-- (nip, tahun, periode) may arrive in several files: the file whose path sorts latest wins the
-- whole employee-period; inside that file a repeated indicator keeps its highest source_row.
-- Measured at 1M employees (25M rows): a group-by and a join beat one window per
-- employee-period and a narrow decision recomputed by stg_assessments (both spilled for
-- minutes with the row's 30 columns in the window's or the join's payload). Repeats inside a
-- file are rare: a window over every row (partitioned by five columns, the wide row as its
-- payload) cost more than the rest of the model, so only the rows whose key hashes to a
-- repeated value are ranked; the hash only narrows, the window on the real key decides.
{{ quarter_incremental_config() }}

with source as (
    select * from {{ source('raw', 'assessments') }}
    where {{ quarter_rows_filter('assessments') }}
),

winning as (
    select nip, tahun, periode, max(source_file) as winning_source_file
    from source
    group by nip, tahun, periode
),

repeated_keys as (
    select hash(nip, tahun, periode, kode_indikator, source_file) as row_key
    from source
    group by row_key
    having count(*) > 1
),

repeats as (
    select
        source_file,
        source_row,
        row_number() over (
            partition by nip, tahun, periode, kode_indikator, source_file
            order by source_row desc
        ) as rank_in_file
    from source
    where hash(nip, tahun, periode, kode_indikator, source_file) in (
        select row_key from repeated_keys
    )
),

ranked as (
    select
        s.*,
        w.winning_source_file,
        coalesce(r.rank_in_file, 1) as rank_in_file
    from source as s
    inner join winning as w
        on s.nip = w.nip and s.tahun = w.tahun and s.periode = w.periode
    left join repeats as r
        on s.source_file = r.source_file and s.source_row = r.source_row
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
    quarter,
    winning_source_file,
    (source_file = winning_source_file and rank_in_file = 1) as is_kept,
    case
        when source_file <> winning_source_file
            then 'superseded by a later file for the same employee-period'
        when rank_in_file > 1
            then 'indicator repeated in the same file: the later row wins'
    end as drop_reason
from ranked
