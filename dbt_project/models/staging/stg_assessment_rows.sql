-- Every raw assessment row's re-submission decision (macro assessment_rows_decided): the
-- winning file of its employee-period, kept or not, and why. Narrow on purpose - the row's
-- values are in raw.assessments and, when kept, in stg_assessments; copying 30 columns of
-- 25M rows (1M employees) twice was the largest cost of the dbt build.
{{ quarter_incremental_config() }}

with decided as (
    {{ assessment_rows_decided() }}
)

select
    employee_key,
    kode_opd,
    tahun,
    periode,
    kode_indikator,
    source_file,
    source_row,
    quarter,
    winning_source_file,
    (source_file = winning_source_file and is_last_in_file) as is_kept,
    case
        when source_file <> winning_source_file
            then 'superseded by a later file for the same employee-period'
        when not is_last_in_file
            then 'indicator repeated in the same file: the later row wins'
    end as drop_reason
from decided
