-- SIASN performance records (BKN rw-skp22 annual SKP and rw-kinerjaperiodik), every loaded
-- record; the ones that count (is_kept) are one per employee_key x tahun x periode. Ratings only: a SIASN record carries no indicator
-- rows. Agency and groups are the roster's (ingestion placed the record by reference/pegawai.csv).
-- The same employee-period in several records: the file whose path sorts latest wins, inside
-- it the highest source_row (as stg_assessment_rows does for exports); the others keep a
-- drop_reason and are listed in audit_superseded_submissions. No NIP leaves staging:
-- the NIP-derived fields are computed here as stg_assessment_rows does (docs/domain.md#nip).
{{ quarter_incremental_config() }}

with source as (
    select * from {{ source('raw', 'siasn') }}
    where {{ quarter_rows_filter('siasn') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by employee_key, tahun, periode
            order by source_file desc, source_row desc
        ) as rank_in_period,
        max(source_file) over (partition by employee_key, tahun, periode) as winning_source_file
    from source
)

select
    employee_key,
    -- PPPK marker '21' in the appointment-month slot (pipelines/rules/nip.py is_pppk)
    coalesce(length(nip) = 18 and substr(nip, 13, 2) = '21', false) as is_pppk,
    cast(try_strptime(substr(nip, 1, 8), '%Y%m%d') as date) as birth_date,
    try_cast(substr(nip, 1, 4) as integer) as birth_year,
    try_cast(substr(nip, 9, 4) as integer) as appointment_year,
    case substr(nip, 15, 1) when '1' then 'L' when '2' then 'P' end as gender,
    record_kind,
    cast(tahun as integer) as tahun,
    periode,
    kode_opd,
    unit_kerja,
    jabatan,
    jenis_jabatan,
    golongan,
    rating_hasil_kerja,
    rating_perilaku,
    predikat,
    penilai_key,
    status_penilai,
    source_file,
    source_row,
    file_sha256,
    quarter,
    winning_source_file,
    rank_in_period = 1 as is_kept,
    case
        when source_file <> winning_source_file
            then 'superseded by a later file for the same employee-period'
        when rank_in_period > 1
            then 'employee-period repeated in the same file: the later record wins'
    end as drop_reason
from ranked
