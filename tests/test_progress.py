"""`kinerja run`'s progress per stage (pipelines/cli/progress.py), fed with Dagster's events
by hand: which stage a step belongs to, dbt's units counted from its events, rows/s from the
ingest step's metadata, and what is printed with and without a terminal."""

from __future__ import annotations

import io
from unittest import mock

import pytest

from pipelines.cli import progress
from pipelines.cli.progress import RunProgress, Stage, stage_of


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        ("raw__agencies", "references"),
        ("ingest_assessments", "ingest assessments"),
        ("ingest_siasn", "ingest siasn"),
        ("kinerja_dbt_assets", "dbt build"),
        ("fairness_tables", "analyses"),
        ("analysis__trend_tests_every_agency_has_trend_tests", "analyses"),
        ("reports__trends_html_trends_html_is_offline", "reports"),
        ("published__warehouse", "publish"),
    ],
)
def test_each_step_has_its_stage(step: str, stage: str) -> None:
    assert stage_of(step) == stage


def test_the_job_has_every_stage_with_dbt_counted_in_models_and_tests() -> None:
    from pipelines.definitions import build_defs
    from pipelines.settings import Settings

    job = build_defs(Settings.from_env()).resolve_job_def("materialize_all")
    stages = progress.stages_of(job)
    assert list(stages) == list(progress.STAGES)
    assert sum(stage.steps for stage in stages.values()) == len(job.nodes)
    dbt = stages["dbt build"]
    assert dbt.steps == 1
    # 41 models + 9 seeds materialize, 161 data tests are checks (dbt's own count: 219 with
    # 8 unit tests, which are not Dagster checks)
    assert dbt.units == 211


def _clock(*times: float) -> mock._patch:
    return mock.patch.object(progress.time, "monotonic", side_effect=list(times))


def test_plain_lines_one_per_finished_stage() -> None:
    out = io.StringIO()
    stages = {
        "ingest surveys": Stage("ingest surveys", steps=1, units=1),
        "dbt build": Stage("dbt build", steps=1, units=3),
    }
    with RunProgress(stages, out, live=False) as run:
        with _clock(10.0):
            run.event("ingest_surveys", "STEP_START", {})
        # rows_read is the whole run's (repeated on every partition's materialization)
        run.event("ingest_surveys", "ASSET_MATERIALIZATION", {"rows_read": 39_288})
        run.event("ingest_surveys", "ASSET_MATERIALIZATION", {"rows_read": 39_288})
        assert out.getvalue() == ""
        with _clock(14.0, 14.0, 14.0):
            run.event("ingest_surveys", "STEP_SUCCESS", {})
        with _clock(20.0):
            run.event("kinerja_dbt_assets", "STEP_START", {})
        for event in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "ASSET_CHECK_EVALUATION"):
            run.event("kinerja_dbt_assets", event, {})
        assert stages["dbt build"].done_units == 3
        with _clock(50.5, 50.5, 50.5):
            run.event("kinerja_dbt_assets", "STEP_SUCCESS", {})
    lines = out.getvalue().splitlines()
    # 39,288 rows in 4.0 s
    assert lines == [
        "ingest surveys                        4.0 s  39,288 rows read, 9,822 rows/s",
        "dbt build                    3/3     30.5 s",
    ]


def test_a_failed_or_unfinished_stage_says_so() -> None:
    out = io.StringIO()
    stages = {
        "analyses": Stage("analyses", steps=2, units=2),
        "reports": Stage("reports", steps=2, units=2),
    }
    with RunProgress(stages, out, live=False) as run:
        run.event("fairness_tables", "STEP_START", {})
        run.event("fairness_tables", "STEP_FAILURE", {})
        run.event("analysis__trend_tests", "STEP_SKIPPED", {})
        run.event("reports__trends_html", "STEP_START", {})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("analyses") and lines[0].endswith("FAILED")
    assert lines[1].startswith("reports") and lines[1].endswith("(not finished)")
    assert stages["reports"].done_units == 0


def test_live_bars_end_with_every_stage_done() -> None:
    """On a terminal rich draws bars; its last frame shows each stage's count and rows/s."""
    out = io.StringIO()
    stages = {
        "references": Stage("references", steps=2, units=2),
        "ingest training": Stage("ingest training", steps=1, units=1),
    }
    with RunProgress(stages, out, live=True) as run:
        for step in ("raw__agencies", "raw__pegawai"):
            run.event(step, "STEP_START", {})
            run.event(step, "STEP_SUCCESS", {})
        run.event("ingest_training", "STEP_START", {})
        run.event("ingest_training", "ASSET_MATERIALIZATION", {"rows_read": 1041})
        run.event("ingest_training", "STEP_SUCCESS", {})
    text = out.getvalue()
    assert "references" in text and "2/2" in text
    assert "1,041 rows read" in text
