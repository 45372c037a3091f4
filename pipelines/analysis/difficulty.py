"""Indicator difficulty: is one indicator (IKI) of a position type in an agency met far
more, or far less, often than the other indicators held by the same people?

An indicator everyone meets is a soft target (or a padded realisation); one nobody meets
is unrealistic. Both distort predikat, since hasil kerja follows from the indicators.
Comparing an indicator's share meeting target with the agency's overall share would
confuse a hard indicator with weak holders, so the comparison is PAIRED, inside the same
people: per (tahun, kode_opd, jenis_jabatan, kode_indikator), for each employee i holding
this indicator and at least one other of that jabatan and agency,

    d_i = met_i(this) - mean(met_i on their other indicators),  met = achievement >= 1.0

(achievement: the employee's mean realisasi / target on the indicator over the year's
periods). effect = mean(d) in share points (effect_measure "share_points": > 0 easier,
< 0 harder than the rest), with the 95% t interval and the p-value of a one-sample t-test
of d against 0 (``scipy.stats.ttest_1samp``).

Why a t-test and not Wilcoxon's signed-rank test: the estimand is the MEAN difference in
share meeting target, which is what the t-test tests and what its interval covers;
Wilcoxon tests a pseudo-median, which for these heavily tied values (d is mostly 0 or a
few fractions) is neither the reported effect nor well handled (zeros are dropped or split,
ties need a correction). d is bounded in [-1, 1], so its mean is close to normal already
at small n: in null simulations (tests) about 5% of tests have p < 0.05, and about 5% of
simulated data sets give any finding after Benjamini-Hochberg and the practical band.
When d has no spread at all (every holder gives the same d) the t statistic is undefined:
then the exact sign test of the non-zero d (``scipy.stats.binomtest``) gives p and the
interval is NULL (p = 1 when every d is 0).

Reading a finding: the comparison is relative, so one much easier indicator also makes
each other indicator of its cell look harder, by about its own effect / (number of other
indicators); the practical band (15 share points) keeps that echo from being flagged
unless the cell has very few indicators.

Rows (FINDINGS_SCHEMA, family "indicator"): kode_opd set, dimension NULL, subject =
kode_indikator, reference = "indikator lain jabatan <jenis_jabatan>", outcome
"share_meeting_target", n = employees with a paired difference; n_reference NULL (the
reference is the same employees' other indicators). Suppressed (verdict and reason, every
figure NULL) when fewer than ``min_group_size`` employees hold the indicator or have a
paired difference; not assessable when the jabatan has only one indicator in that agency
and year. Rows without achievement, indicator, employee or jenis_jabatan are left out (an
unknown position could pair unrelated people's indicators).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis import findings

FAMILY = "indicator"
OUTCOME = "share_meeting_target"
TARGET = 1.0
ALPHA = 0.05
REQUIRED_COLUMNS = (
    "tahun",
    "kode_opd",
    "kode_indikator",
    "employee_key",
    "achievement",
    "jenis_jabatan",
)
CELL = ["tahun", "kode_opd", "jenis_jabatan"]


def paired_differences(indicator_year: pl.DataFrame) -> pl.DataFrame:
    """One row per (cell, kode_indikator, employee_key): met (0/1) and d (NULL when the
    employee holds no other indicator of that jabatan and agency)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in indicator_year.columns]
    if missing:
        raise ValueError(f"indicator_year lacks columns {missing}")
    held = (
        indicator_year.select(
            pl.col("tahun").cast(pl.Int32),
            *(pl.col(c).cast(pl.String) for c in REQUIRED_COLUMNS[1:4]),
            pl.col("achievement").cast(pl.Float64),
            pl.col("jenis_jabatan").cast(pl.String),
        )
        .drop_nulls()
        .filter(pl.col("achievement").is_finite())
        # one row per employee and indicator even if the input repeats one
        .group_by(*CELL, "kode_indikator", "employee_key")
        .agg(pl.col("achievement").mean())
        .with_columns(met=(pl.col("achievement") >= TARGET).cast(pl.Float64))
    )
    person = [*CELL, "employee_key"]
    total, count = pl.col("met").sum().over(person), pl.len().over(person)
    return held.with_columns(
        d=pl.when(count > 1).then(pl.col("met") - (total - pl.col("met")) / (count - 1))
    )


def _test(d: np.ndarray) -> tuple[float, float | None, float | None]:
    """(p, ci_low, ci_high) for mean(d) = 0; see the module doc for the no-spread case."""
    if np.ptp(d) == 0:
        nonzero = d[d != 0]
        if nonzero.size == 0:
            return 1.0, None, None
        p = stats.binomtest(int((nonzero > 0).sum()), nonzero.size, 0.5).pvalue
        return float(p), None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_1samp(d, 0.0)
    interval = result.confidence_interval(confidence_level=1 - ALPHA)
    return float(result.pvalue), float(interval.low), float(interval.high)


def indicator_difficulty(indicator_year: pl.DataFrame, min_group_size: int = 5) -> pl.DataFrame:
    """Candidate ``indicator`` rows: per (tahun, kode_opd, jenis_jabatan, kode_indikator)
    the paired difference in share meeting target against the same employees' other
    indicators (see the module docstring). Verdicts are left to ``findings.judge``."""
    pairs = paired_differences(indicator_year)
    cells = pairs.group_by(*CELL, "kode_indikator").agg(
        holders=pl.len(),
        d=pl.col("d").drop_nulls(),
    )
    indicators = pairs.group_by(CELL).agg(n_indicators=pl.col("kode_indikator").n_unique())
    cells = cells.join(indicators, on=CELL).sort(*CELL, "kode_indikator")
    records: list[dict[str, object]] = []
    for cell in cells.iter_rows(named=True):
        row: dict[str, object] = {
            "family": FAMILY,
            "tahun": cell["tahun"],
            "kode_opd": cell["kode_opd"],
            "subject": cell["kode_indikator"],
            "reference": f"indikator lain jabatan {cell['jenis_jabatan']}",
            "outcome": OUTCOME,
        }
        d = np.asarray(cell["d"], dtype=float)
        if cell["holders"] < min_group_size:
            reason = f"Kurang dari {min_group_size} pegawai pemegang indikator"
            records.append(row | {"verdict": findings.SUPPRESSED, "reason": reason})
            continue
        if cell["n_indicators"] < 2:
            reason = "Jabatan hanya memiliki satu indikator di instansi ini"
            records.append(
                row | {"n": cell["holders"], "verdict": findings.NOT_ASSESSABLE, "reason": reason}
            )
            continue
        if d.size < min_group_size:
            reason = (
                f"Kurang dari {min_group_size} pegawai yang memegang indikator ini "
                "dan indikator lain jabatannya"
            )
            records.append(row | {"verdict": findings.SUPPRESSED, "reason": reason})
            continue
        p, low, high = _test(d)
        records.append(
            row
            | {
                "n": int(d.size),
                "effect": float(d.mean()),
                "effect_ci_low": low,
                "effect_ci_high": high,
                "effect_measure": "share_points",
                "p_value": p if math.isfinite(p) else None,
            }
        )
    return findings.candidates(records) if records else findings.empty()
