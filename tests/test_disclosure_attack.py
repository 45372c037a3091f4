"""The attacker over what a run publishes: for every hidden group, every subtraction the
published counts allow (margin minus published children, total minus the other groups, an
agency's raters, chained) over the warehouse and both extracts together recovers nothing,
while the same attacker does recover groups from the tables as they were before
complementary suppression (so the test can fail)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.analysis import (
    audit,
    differencing,
    fairness,
    indicator_fairness,
    protection,
    raters,
    tables,
)
from pipelines.analysis.disclosure import Cell
from tests.conftest import PipelineRun

pytestmark = pytest.mark.xdist_group("pipeline")


def _truth(run: PipelineRun):
    with duckdb.connect(str(run.settings.warehouse), read_only=True) as con:
        inputs = tables.read_inputs(con)
    populations = protection.populations(inputs.employee_period, inputs.indicator_year)
    return inputs, differencing.truth_sizes(populations)


def test_no_hidden_group_is_recovered_from_the_warehouse_and_both_extracts(
    pipeline_run: PipelineRun,
) -> None:
    _, truth = _truth(pipeline_run)
    published = pipeline_run.settings.published_dir
    seen = differencing.Published()
    for path in (
        pipeline_run.settings.warehouse,
        published / "evaluators.duckdb",
        published / "planners.duckdb",
    ):
        with duckdb.connect(str(path), read_only=True) as con:
            differencing.read_published(con, seen)
    assert len(seen.hidden) > 20  # 120 employees: plenty of small groups to protect
    assert differencing.attack(seen, truth) == {}


def test_the_attacker_recovers_groups_that_only_primary_suppression_hides(
    pipeline_run: PipelineRun, tmp_path
) -> None:
    inputs, truth = _truth(pipeline_run)
    period = inputs.employee_period
    tables = {
        "fairness_group_rates": fairness.group_rates(period, 5),
        "self_gap_by_group": indicator_fairness.self_gap_by_group(period, 5),
        "indicator_fairness": indicator_fairness.indicator_fairness(
            inputs.indicator_year, period, 5
        ),
        "rater_effects": raters.rater_effects(period, 5),
    }
    tables["findings"] = audit.build_findings(
        inputs,
        5,
        rater_effects=tables["rater_effects"],
        indicator_table=tables["indicator_fairness"],
    )
    with duckdb.connect(str(tmp_path / "primary_only.duckdb")) as con:
        con.execute("create schema analysis")
        for name, frame in tables.items():
            con.register("frame", frame.to_arrow())
            con.execute(f"create table analysis.{name} as select * from frame")
        recovered = differencing.attack(differencing.read_published(con), truth)
    assert recovered
    # small groups themselves come back, at their true size
    assert any(0 < n < 5 for n in recovered.values())
    assert all(truth(cell) == n for cell, n in recovered.items())


def test_hidden_rows_carry_no_figure_and_small_groups_are_hidden(
    pipeline_run: PipelineRun,
) -> None:
    rates = pipeline_run.query("select * from analysis.fairness_group_rates")
    hidden = rates.filter(pl.col("suppressed"))
    figures = [c for c in rates.columns if c not in protection.KEYS["fairness_group_rates"]]
    figures = [c for c in figures if c not in ("suppressed", "significant")]
    assert hidden.height > 0
    assert hidden.select(pl.all_horizontal(pl.col(figures).is_null())).to_series().all()
    _, truth = _truth(pipeline_run)
    for row in rates.filter(~pl.col("suppressed")).iter_rows(named=True):
        cell = protection.group_cell(
            protection.EMPLOYEE_YEAR, row["tahun"], row["dimension"], row["group_value"]
        )
        assert isinstance(cell, Cell) and truth(cell) == row["n"] >= 5
