"""End to end: generated dirty exports -> warehouse, checked against the generator's truth file
and against an independent polars computation of the marts."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.cli.summary import render
from pipelines.generate.truth import KINDS
from pipelines.partitions import range_tags
from pipelines.settings import SOURCES
from tests.checksums import table_checksums
from tests.conftest import PipelineRun

pytestmark = pytest.mark.xdist_group("pipeline")

QUARTER_PERIODS = {"TW I": 1, "TW II": 2, "TW III": 3, "TW IV": 4}


def _query(run: PipelineRun, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(run.settings.warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def _scalar(run: PipelineRun, sql: str) -> int:
    return int(_query(run, sql).item())


# The sources the truth file counts under 'sources' (SIASN records, when generated, are
# not among them).
GENERATED = [s for s in SOURCES if s in KINDS]


@pytest.mark.parametrize("source", GENERATED)
def test_every_row_is_loaded_or_quarantined(pipeline_run: PipelineRun, source: str) -> None:
    truth = pipeline_run.truth["sources"][source]
    loaded = _scalar(pipeline_run, f"select count(*) from raw.{source}")
    rejected = _scalar(
        pipeline_run,
        f"select count(*) from (select distinct source_file, source_row from quarantine.{source})",
    )
    assert rejected == truth["rejected_rows"]
    assert loaded == truth["loaded_rows"]
    assert loaded + rejected == truth["rows_written"]


def test_superseded_and_staged_rows_match_truth(pipeline_run: PipelineRun) -> None:
    truth = pipeline_run.truth["sources"]["assessments"]
    superseded = _scalar(pipeline_run, "select count(*) from audit.audit_superseded_submissions")
    staged = _scalar(pipeline_run, "select count(*) from staging.stg_assessments")
    assert superseded == truth["superseded_rows"]
    assert staged == truth["staged_rows"] == truth["loaded_rows"] - superseded


def test_views_read_in_copies_of_the_warehouse(pipeline_run: PipelineRun) -> None:
    """stg_assessments and int_indicator_achievement are views: they must read wherever the
    file is attached under another name (an analyst's ATTACH, the evaluators' extract)."""
    staged = _scalar(pipeline_run, "select count(*) from staging.stg_assessments")
    kinds = _query(
        pipeline_run,
        "select table_name, table_type from information_schema.tables "
        "where table_name in ('stg_assessments', 'int_indicator_achievement') order by 1",
    )
    assert kinds.rows() == [("int_indicator_achievement", "VIEW"), ("stg_assessments", "VIEW")]
    with duckdb.connect() as con:
        con.execute(f"attach '{pipeline_run.settings.warehouse}' as other_name (read_only)")
        counts = con.execute(
            "select (select count(*) from other_name.staging.stg_assessments), "
            "(select count(*) from other_name.intermediate.int_indicator_achievement)"
        ).fetchone()
    extract = pipeline_run.settings.published_dir / "evaluators.duckdb"
    with duckdb.connect(str(extract), read_only=True) as con:
        copied = con.execute(
            "select count(*) from intermediate.int_indicator_achievement"
        ).fetchone()[0]
    # Every staged row has an indicator rule (int_indicator_rule covers every kode_indikator).
    assert counts == (staged, staged)
    assert copied == staged


def test_training_rows_are_staged_or_listed_as_duplicates(pipeline_run: PipelineRun) -> None:
    raw = _scalar(pipeline_run, "select count(*) from raw.training")
    staged = _scalar(pipeline_run, "select count(*) from staging.stg_training")
    dropped = _scalar(pipeline_run, "select count(*) from audit.audit_training_duplicates")
    assert staged + dropped == raw


def test_audit_findings_match_truth(pipeline_run: PipelineRun) -> None:
    truth = pipeline_run.truth["sources"]
    mismatch = _query(
        pipeline_run,
        "select count(*) as n_rows, "
        "count(distinct (employee_key, tahun, periode)) as n_periods "
        "from audit.audit_predikat_mismatch",
    ).row(0, named=True)
    assert mismatch["n_rows"] == truth["assessments"]["predikat_mismatch_rows"]
    assert mismatch["n_periods"] == truth["assessments"]["predikat_mismatch_employee_periods"]
    conflicts = _scalar(
        pipeline_run,
        "select count(distinct (employee_key, tahun, periode)) "
        "from audit.audit_employee_field_conflicts",
    )
    assert conflicts == truth["assessments"]["employee_field_conflict_employee_periods"]
    invalid_answers = _scalar(pipeline_run, "select sum(n_invalid_answers) from raw.surveys")
    assert invalid_answers == truth["surveys"]["survey_invalid_answers"]


@pytest.mark.parametrize(
    ("source", "kind", "pattern"),
    [
        ("assessments", "nip_scientific", "scientific notation"),
        ("assessments", "nip_truncated", "15 significant digits"),
        ("assessments", "unknown_agency", "not a known agency"),
        ("surveys", "impossible_date", "not a real calendar date"),
        ("training", "end_before_start", "is before tanggal_mulai"),
    ],
)
def test_quarantine_reasons_name_the_planted_defect(
    pipeline_run: PipelineRun, source: str, kind: str, pattern: str
) -> None:
    found = _scalar(
        pipeline_run,
        f"select count(distinct (source_file, source_row)) from quarantine.{source} "
        f"where reason like '%{pattern}%'",
    )
    assert found == pipeline_run.truth["sources"][source]["bad_rows"][kind]


def test_summary_prints_the_counts(pipeline_run: PipelineRun) -> None:
    truth = pipeline_run.truth["sources"]["assessments"]
    line = next(
        x
        for x in render(pipeline_run.settings.warehouse).splitlines()
        if x.startswith("assessments")
    )
    assert line.split()[2:] == [
        "0",
        str(truth["rows_written"]),
        str(truth["staged_rows"]),
        str(truth["rejected_rows"]),
        str(truth["superseded_rows"]),
    ]


def _oracle_employee_periods(run: PipelineRun) -> pl.DataFrame:
    """Re-submission rule and employee-period facts, recomputed in polars from raw rows; the
    capaian by the direction truth.json gives each indicator (PermenPANRB 8/2021)."""
    rows = _query(run, "select * from raw.assessments")
    winner = rows.group_by("nip", "tahun", "periode").agg(pl.col("source_file").max().alias("w"))
    kept = (
        rows.join(winner, on=["nip", "tahun", "periode"])
        .filter(pl.col("source_file") == pl.col("w"))
        .sort("source_row")
        .unique(["nip", "tahun", "periode", "kode_indikator"], keep="last")
        .sort("source_row")
    )
    # the direction the generator gave each indicator (truth), however it was declared
    lower = [k for k, v in run.truth["indicators"].items() if v["arah"] == "turun"]
    ratio = pl.col("realisasi") / pl.col("target")
    capaian = (
        pl.when(pl.col("kode_indikator").is_in(lower)).then((2 - ratio).clip(0)).otherwise(ratio)
    )
    return kept.group_by("nip", "tahun", "periode").agg(
        pl.col("kode_opd").first(),
        pl.col("predikat").first(),
        capaian.mean().alias("achievement"),
    )


def _oracle_quarter_assessment(run: PipelineRun) -> pl.DataFrame:
    periods = _oracle_employee_periods(run).filter(pl.col("periode").is_in(QUARTER_PERIODS))
    return (
        periods.with_columns(pl.col("periode").replace_strict(QUARTER_PERIODS).alias("triwulan"))
        .group_by("kode_opd", "tahun", "triwulan")
        .agg(
            pl.len().alias("n_assessed"),
            (pl.col("predikat") == "Sangat Baik").mean().alias("share_sangat_baik"),
            pl.col("achievement").mean().alias("mean_achievement"),
        )
    )


def _oracle_quarter_ikm(run: PipelineRun) -> pl.DataFrame:
    surveys = _query(run, "select * from raw.surveys").with_columns(
        pl.col("tanggal").dt.year().cast(pl.Int32).alias("tahun"),
        pl.col("tanggal").dt.quarter().cast(pl.Int32).alias("triwulan"),
    )
    answers = [f"u{i}" for i in range(1, 10)]
    return (
        surveys.group_by("kode_opd", "tahun", "triwulan")
        .agg(pl.len().alias("n_responden"), *(pl.col(u).mean() for u in answers))
        .with_columns((pl.mean_horizontal(answers) * 25).round(2).alias("ikm"))
        .select("kode_opd", "tahun", "triwulan", "n_responden", "ikm")
    )


def _oracle_quarter_training(run: PipelineRun) -> pl.DataFrame:
    order = {"TW I": 1, "TW II": 2, "TW III": 3, "TW IV": 4, "TAHUNAN": 5}
    staff = (
        _oracle_employee_periods(run)
        .with_columns(pl.col("periode").replace_strict(order, default=0).alias("o"))
        .sort("o")
        .group_by("nip", "tahun")
        .agg(pl.col("kode_opd").last())
    )
    # A repeated attendance (nip, course ignoring case and spacing, start) counts once: the
    # record of the latest file and row.
    course = pl.col("nama_pelatihan").str.replace_all(r"\s+", " ").str.strip_chars()
    training = (
        _query(run, "select * from raw.training")
        .sort("source_file", "source_row")
        .with_columns(course.str.to_lowercase().alias("course"))
        .unique(["nip", "course", "tanggal_mulai"], keep="last")
        .with_columns(
            pl.col("tanggal_mulai").dt.year().cast(pl.Int32).alias("tahun"),
            pl.col("tanggal_mulai").dt.quarter().alias("q"),
        )
    )
    frames = []
    for quarter in range(1, 5):
        ytd = (
            training.filter(pl.col("q") <= quarter)
            .group_by("nip", "tahun")
            .agg(pl.col("jp").sum().alias("jp_ytd"))
        )
        frames.append(
            staff.join(ytd, on=["nip", "tahun"], how="left")
            .group_by("kode_opd", "tahun")
            .agg((pl.col("jp_ytd").fill_null(0) >= 20).mean().alias("share_20jp"))
            .with_columns(pl.lit(quarter, pl.Int32).alias("triwulan"))
        )
    return pl.concat(frames)


def test_quarter_mart_matches_independent_polars_computation(pipeline_run: PipelineRun) -> None:
    mart = _query(pipeline_run, "select * from marts.mart_agency_quarter")
    keys = ["kode_opd", "tahun", "triwulan"]
    expected = (
        _oracle_quarter_assessment(pipeline_run)
        .join(_oracle_quarter_ikm(pipeline_run), on=keys, how="full", coalesce=True)
        .join(_oracle_quarter_training(pipeline_run), on=keys, how="full", coalesce=True)
        .with_columns(pl.col("tahun").cast(pl.Int32), pl.col("triwulan").cast(pl.Int32))
    )
    compared = expected.join(mart, on=keys, how="left", suffix="_mart")
    assert compared.height == expected.height > 100
    for column in ("n_assessed", "n_responden"):
        assert compared[column].to_list() == compared[f"{column}_mart"].to_list(), column
    for column in ("share_sangat_baik", "mean_achievement", "ikm", "share_20jp"):
        diff = (compared[column] - compared[f"{column}_mart"]).abs().max()
        assert diff is not None and diff < 1e-9, column
    # Every mart row is backed by data the oracle saw, and no row is duplicated.
    assert mart.height == mart.select(keys).unique().height == expected.height


def test_rematerializing_quarters_gives_identical_tables(pipeline_run: PipelineRun) -> None:
    """Re-running two quarters (incremental dbt staging, unchanged files not read) changes
    nothing: a quarter run writes what the full run wrote. (A full re-run after an
    incremental one is compared in test_quarters.)"""
    before = table_checksums(pipeline_run.settings.warehouse)
    result = pipeline_run.materialize(range_tags("2024-04", "2024-07"))
    metadata = result.asset_materializations_for_node("ingest_assessments")[0].metadata
    assert metadata["quarters"].value == "2024-Q2..2024-Q3"
    after = table_checksums(pipeline_run.settings.warehouse)
    assert len(before) > 30
    assert before == after
