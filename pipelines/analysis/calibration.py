"""How often would each findings family accuse someone when nothing is there? Re-run every
family on inputs whose labels are shuffled so that no effect can exist, and count the runs
with at least one ``finding`` (the family-wise false-finding rate; BH promises a false
*discovery* rate, so this is the stricter number an accused person cares about).

The count is per family *and year*, the unit Benjamini-Hochberg controls (verdicts are
adjusted per family and year, so that a new year never changes an old verdict); the share
of runs with a false finding in any year is reported beside it and grows with the years.

What is shuffled, per run (one seeded generator):
- group labels: each employee-year's (gender, age band, position type) among the employees
  of the same agency x golongan x year, so grade and agency mix stay real;
- rater assignment: each ratee's rater of the year among the ratees of the same
  agency-year (the ratee's scores stay, only who rated them moves);
- indicator codes among the indicators of the same employee-year (indicator difficulty);
- the order of every trend series' values.
Golongan and agency comparisons are not shuffled (they are the strata), so their rows are
left out of the count; the distribution curve is a rule on counts, not a test, and has no
false-finding rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from statsmodels.stats.proportion import proportion_confint

from pipelines.analysis import audit, fairness, findings
from pipelines.analysis.trends import SERIES_KEYS

NULL_DIMENSIONS = (
    "gender",
    "age_band",
    "jenis_jabatan",
    "gender x golongan",
    "gender x jenis_jabatan",
)
CALIBRATED_FAMILIES = (
    "group_disparity",
    "rater",
    "indicator",
    "indicator_difficulty",
    "conditional_rating",
    "trend",
)
GROUP_LABELS = ("gender", "age_band", "jenis_jabatan")

CALIBRATION_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(),
    "runs": pl.Int64(),
    "units": pl.Int64(),  # (run, year) pairs; one per run for multi-year trend rows
    "units_with_false_finding": pl.Int64(),
    "rate": pl.Float64(),
    "rate_ci_low": pl.Float64(),
    "rate_ci_high": pl.Float64(),
    "runs_with_false_finding": pl.Int64(),
    "rate_any_year": pl.Float64(),
    "tests_per_run": pl.Float64(),
    "false_findings_per_run": pl.Float64(),
}


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _donors(frame: pl.DataFrame, keys: list[str], seed: int) -> pl.DataFrame:
    """frame with `_i` (row index) and `_donor`: the index of a row of the same keys, a
    uniform random permutation within each key group (independent across groups)."""
    group = frame.select(pl.struct(keys).rank("dense")).to_series().to_numpy()
    index = np.arange(frame.height)
    shuffled = np.random.default_rng(seed).random(frame.height)
    donor = np.empty(frame.height, dtype=np.int64)
    donor[np.lexsort((index, group))] = np.lexsort((shuffled, group))
    return frame.with_row_index("_i").with_columns(pl.Series("_donor", donor, dtype=pl.UInt32))


def shuffle_group_labels(period: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Employee-years trade (gender, age_band, jenis_jabatan) within agency x golongan x year."""
    years = fairness.year_outcomes(period).select(
        "employee_key", "tahun", "kode_opd", "golongan", *GROUP_LABELS
    )
    donors = _donors(years, ["tahun", "kode_opd", "golongan"], seed)
    labels = donors.select("_i", *GROUP_LABELS)
    moved = donors.select("employee_key", "tahun", "_donor").join(
        labels, left_on="_donor", right_on="_i"
    )
    return (
        period.drop(GROUP_LABELS)
        .join(moved.drop("_donor"), on=["employee_key", "tahun"], how="left")
        .select(period.columns)
    )


def shuffle_raters(period: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Each ratee takes the year's rater of another ratee of the same agency-year."""
    years = fairness.year_outcomes(period).select(
        "employee_key", "tahun", "kode_opd", "penilai_key"
    )
    donors = _donors(years, ["tahun", "kode_opd"], seed)
    raters = donors.select("_i", "penilai_key")
    moved = donors.select("employee_key", "tahun", "_donor").join(
        raters, left_on="_donor", right_on="_i"
    )
    return (
        period.drop("penilai_key")
        .join(moved.drop("_donor"), on=["employee_key", "tahun"], how="left")
        .select(period.columns)
    )


def _shuffle_column(frame: pl.DataFrame, column: str, keys: list[str], seed: int) -> pl.DataFrame:
    donors = _donors(frame, keys, seed)
    moved = frame[column].gather(donors["_donor"])
    return frame.with_columns(moved.alias(column))


def shuffle_indicators(indicator_year: pl.DataFrame, seed: int) -> pl.DataFrame:
    keys = ["tahun", "kode_opd", "employee_key"]
    return _shuffle_column(indicator_year, "kode_indikator", keys, seed)


def shuffle_series(series: pl.DataFrame, seed: int) -> pl.DataFrame:
    return _shuffle_column(series, "value", SERIES_KEYS, seed)


def permuted(inputs: audit.FindingInputs, rng: np.random.Generator) -> audit.FindingInputs:
    """One null copy of the inputs (see the module docstring)."""
    period = shuffle_raters(shuffle_group_labels(inputs.employee_period, _seed(rng)), _seed(rng))
    series = inputs.trend_series
    return inputs.with_(
        employee_period=period,
        indicator_year=shuffle_indicators(inputs.indicator_year, _seed(rng)),
        trend_series=None if series is None else shuffle_series(series, _seed(rng)),
        trend_tests=None,  # re-tested on the shuffled series
    )


def null_rows(judged: pl.DataFrame) -> pl.DataFrame:
    """The rows a permutation turned into true nulls."""
    return judged.filter(
        pl.col("family").is_in(CALIBRATED_FAMILIES)
        & ((pl.col("family") != "group_disparity") | pl.col("dimension").is_in(NULL_DIMENSIONS))
    )


@dataclass(frozen=True)
class RunCount:
    family: str
    tahun: int | None
    tests: int
    findings: int


def one_run(
    inputs: audit.FindingInputs, min_group_size: int, rng: np.random.Generator
) -> list[RunCount]:
    """Tests and false findings per (family, tahun) of one permuted copy."""
    judged = findings.judge(audit.candidates(permuted(inputs, rng), min_group_size))
    rows = null_rows(judged)
    out = []
    for family in CALIBRATED_FAMILIES:
        part = rows.filter(pl.col("family") == family)
        years = sorted(set(part["tahun"].to_list()), key=lambda t: (t is None, t)) or [None]
        for tahun in years:
            unit = part.filter(pl.col("tahun").eq_missing(tahun))
            tested = unit["verdict"].is_in([findings.FINDING, findings.NO_FINDING]).sum()
            found = int((unit["verdict"] == findings.FINDING).sum())
            out.append(RunCount(family, tahun, int(tested), found))
    return out


def calibrate(
    inputs: audit.FindingInputs,
    runs: int,
    min_group_size: int = 5,
    seed: int = 0,
    progress: Callable[[], object] | None = None,
) -> pl.DataFrame:
    """Per family: the share of (run, year) units with any finding - the unit BH controls,
    as verdicts are adjusted per family and year - with its Wilson 95% interval, and the
    share of runs with a finding in any year (which grows with the number of years)."""
    rng = np.random.default_rng(seed)
    counts: list[tuple[int, RunCount]] = []
    for run in range(runs):
        counts += [(run, c) for c in one_run(inputs, min_group_size, rng)]
        if progress is not None:
            progress()
    records = []
    for family in CALIBRATED_FAMILIES:
        units = [(run, c) for run, c in counts if c.family == family and c.tests > 0]
        hit = sum(c.findings > 0 for _, c in units)
        low, high = proportion_confint(hit, len(units), method="wilson") if units else (0, 1)
        runs_hit = len({run for run, c in units if c.findings > 0})
        records.append(
            {
                "family": family,
                "runs": runs,
                "units": len(units),
                "units_with_false_finding": hit,
                "rate": hit / len(units) if units else None,
                "rate_ci_low": float(low),
                "rate_ci_high": float(high),
                "runs_with_false_finding": runs_hit,
                "rate_any_year": runs_hit / runs if runs else None,
                "tests_per_run": sum(c.tests for _, c in units) / runs if runs else 0.0,
                "false_findings_per_run": sum(c.findings for _, c in units) / runs if runs else 0.0,
            }
        )
    return pl.DataFrame(records, schema=CALIBRATION_SCHEMA)


def markdown(table: pl.DataFrame) -> str:
    """The calibration table as the README shows it."""
    lines = [
        "| family | runs | family-years with a false finding | rate per family-year (95% CI)"
        " | runs with one in any year | tests per run |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for r in table.iter_rows(named=True):
        if not r["units"]:
            lines.append(f"| {r['family']} | {r['runs']} | no test on this data | | | 0 |")
            continue
        lines.append(
            f"| {r['family']} | {r['runs']} | {r['units_with_false_finding']} / {r['units']} |"
            f" {100 * r['rate']:.1f}% ({100 * r['rate_ci_low']:.1f}–{100 * r['rate_ci_high']:.1f}%)"
            f" | {100 * r['rate_any_year']:.1f}% | {r['tests_per_run']:.0f} |"
        )
    return "\n".join(lines)
