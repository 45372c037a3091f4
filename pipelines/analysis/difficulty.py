"""Indicator difficulty: is one indicator (IKI) of a position type in an agency met far
more, or far less, often than the other indicators held by the same people?

An indicator everyone meets is a soft target (or a padded realisation); one nobody meets
is unrealistic. Both distort predikat, since hasil kerja follows from the indicators.
Comparing an indicator's share meeting target with the agency's overall share would
confuse a hard indicator with weak holders, so the comparison is PAIRED, inside the same
people: per (tahun, kode_opd, jenis_jabatan, kode_indikator) — an indicator row of the
cell (tahun, kode_opd, jenis_jabatan) — for each employee i holding this indicator and at
least one other indicator of the cell that is in its reference,

    d_i = met_i(this) - mean(met_i on their other reference indicators),  met = achievement >= 1.0

(achievement: the employee's mean realisasi / target on the indicator over the year's
periods). effect = mean(d) in share points (effect_measure "share_points": > 0 easier,
< 0 harder than the rest), with a 95% interval and the p-value of the PERMUTATION test of
"no indicator is systematically easier": the indicator labels of an employee are
exchangeable (calibration.shuffle_indicators draws exactly this null).

The test, from sums. Employee i has k_i = 1 + |reference| values (0/1), m_i of them met,
share p_i = m_i / k_i. Under the null this indicator's value is a random one of the k_i,
so d_i = (k_i met_i(this) - m_i) / (k_i - 1) = w_i (met_i(this) - p_i), w_i = k_i/(k_i - 1),
is a scaled Bernoulli(p_i) centred at 0: mean 0, variance w_i^2 p_i (1 - p_i) (the
population variance of the employee's own values, not the observed spread of d), third
central moment w_i^3 p_i (1 - p_i) (1 - 2 p_i), independent across employees. An employee
who met all or none of them (p_i in {0, 1}) has d_i = 0 and cannot move. With T = sum(d_i),
V and K3 the sums of the variances and third moments: z = T / sqrt(V), and p = 2 min(F(z),
1 - F(z)) with F the Pearson type III law of mean 0, sd 1 and skewness K3 / V^1.5 (as
inference.permutation_test_from_sums), floored at the smallest p attainable on the observed
side: 2 prod(p_i) above 0 (every mover's draw met), 2 prod(1 - p_i) below. The interval
inverts the same law: [(T - q_hi sqrt(V)) / n, (T - q_lo sqrt(V)) / n], q the law's 2.5%
and 97.5% points, clipped to [-1, 1] (the range of d), so it excludes 0 exactly when p <
0.05 (bar the floor). No mover at all: every d is 0, effect 0, p = 1, interval NULL.

Why not the paired t-test of d (as before): d is made of 0/1 values, heavily tied and, when
an employee meets few of their indicators, skewed (one met of five: d = +1 with chance 1/5,
-1/4 otherwise); the t statistic's own variance estimate then gave too many small p-values
(1.5 times too many below 0.001, 2.5 times below 0.0001, in null simulations of 6
indicators and 40 employees), which is where Benjamini-Hochberg decides. On the sample
warehouse with indicator codes shuffled (calibration.shuffle_indicators, seeds 0-199: 600
family-years) the difficulty rows gave a false finding in 27 family-years (4.5%), now in
11 (1.8%, Wilson 95% interval 1.0-3.3%); in null simulations (tests) with achievement below
target (about a fifth met; 12 employees, 5 indicators) in 49 of 500 data sets, now 2.
Why Pearson III and not the normal law: by exact enumeration of the permutation law (5-40
employees, 4, 5 or 2-6 values each, a tenth to half of them met), the normal p falls below
0.001 or 0.0001 up to three times too often when the shares are skewed; Pearson III with
the exact skewness at most at the nominal rate, at every level from 0.05 down (it tracks
the permutation mid-p: see the Monte-Carlo check in the tests); the floor catches the
extreme outcomes, where its bounded support would give p = 0. Why not Wilcoxon's
signed-rank test: the estimand is the MEAN difference in share meeting target; Wilcoxon
tests a pseudo-median, which for these tied values is neither the reported effect nor well
handled.
In null simulations about 5% of tests have p < 0.05 and data sets with any finding after
Benjamini-Hochberg and the practical band stay at or below 5%: 4 cells of 4 indicators and
15 employees, 19 of 1000 (t-test: 53); of 6 indicators and 40 employees, 50 of 1000
(t-test: 59; BH's own family-wise rate for some 24 near-independent tests is 5%). Without
a round-0 finding nothing leaves a reference, so the rounds below add no false finding to
a data set without one.

Deviant indicators leave the reference, iteratively (the pattern of raters.py). Why: the
comparison is relative, so one clearly easier indicator pulls up the reference of each of
its siblings, by about its own effect / (number of other indicators), and the siblings
looked "harder": with one easy indicator (lift +0.25 achievement, met by ~95% against
~50%) among 4 indicators and 40 employees, a sibling was flagged in 41 of 100 simulated
data sets; among 6, in 11 of 100. Now:

- Round 0 compares every indicator with all the employee's other indicators of the cell.
- A row is a finding of the round when its BH-adjusted p < 0.05 AND its effect is outside
  findings.PRACTICAL["share_points"] (more than 15 share points). BH here runs per tahun
  over the difficulty rows, as findings.judge does for the family "indicator_difficulty"
  (a family of its own: its many real differences must not loosen BH for the
  women-vs-men rows of "indicator").
- Per cell, the single most extreme new finding (largest |z|) joins the excluded set E,
  and every indicator is retested against the employee's other indicators not in E (an
  excluded indicator against all the non-excluded ones; itself never in its own
  reference). Stop when nothing joins E, or after max_rounds (10).
- Guard: E only grows while every reference keeps at least ``min_reference`` (2) published
  indicators of the cell, i.e. at least three published indicators stay out of E. With
  three indicators the cell keeps the round-0 comparison, echo included (one easy among
  3, 40 employees: a sibling flagged in 72 of 100 simulated data sets; min_reference=1
  allows the exclusion and gives 2 of 100): after it the other two would be compared only
  with each other, where which of them deviates is undecidable. The guard counts
  indicators of the cell; an employee holding few of them may still have a smaller
  reference, or none (then no d for that employee and row).
- Suppressed indicators (too few holders) are neither tested nor excluded but stay in
  every reference, as in round 0.

Every figure is of the final round. In the same simulations a sibling is now flagged in 2
(4 indicators) and 1 (6) of 100 data sets, each time a sibling that happened to differ
(already flagged, and more so, in round 0), and the easy indicator found in all 100. A
round is a few vector operations over the (employee, indicator) rows (sums per employee
and per indicator row), not a loop per employee: 4.5M such rows (1M employees) take
about 7 s in all.

Rows (FINDINGS_SCHEMA, family "indicator_difficulty"): kode_opd set, dimension NULL, subject =
kode_indikator, reference = "indikator lain jabatan <jenis_jabatan>", followed by
", kecuali <kode_indikator, ...>" when other indicators of the cell are in E, outcome
"share_meeting_target", n = employees with a paired difference; n_reference NULL (the
reference is the same employees' other indicators). Suppressed (verdict and reason, every
figure NULL) when fewer than ``min_group_size`` employees hold the indicator or have a
paired difference (in the final round); not assessable when the jabatan has only one
indicator in that agency and year. Rows without achievement, indicator, employee or
jenis_jabatan are left out (an unknown position could pair unrelated people's indicators).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis import findings
from pipelines.rules import indicator

FAMILY = "indicator_difficulty"
OUTCOME = "share_meeting_target"
MEASURE = "share_points"
BAND = findings.PRACTICAL[MEASURE]
TARGET, TARGET_TOLERANCE = indicator.MET_CAPAIAN, indicator.MET_TOLERANCE
ALPHA = 0.05
MAX_ROUNDS = 10
MIN_REFERENCE = 2  # non-excluded published indicators every reference keeps
REQUIRED_COLUMNS = (
    "tahun",
    "kode_opd",
    "kode_indikator",
    "employee_key",
    "achievement",
    "jenis_jabatan",
)
CELL = ["tahun", "kode_opd", "jenis_jabatan"]
REFERENCE_PREFIX = "indikator lain jabatan "


def jabatan_of(reference: str) -> str:
    """The position type a candidate row's reference names ("indikator lain jabatan X[, ...]")."""
    return reference.removeprefix(REFERENCE_PREFIX).split(",")[0]


PERSON = [*CELL, "employee_key"]


def _held(indicator_year: pl.DataFrame) -> pl.DataFrame:
    """One row per (cell, kode_indikator, employee_key) with the mean achievement and met."""
    missing = [c for c in REQUIRED_COLUMNS if c not in indicator_year.columns]
    if missing:
        raise ValueError(f"indicator_year lacks columns {missing}")
    return (
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
        .with_columns(met=(pl.col("achievement") >= TARGET - TARGET_TOLERANCE).cast(pl.Float64))
    )


def paired_differences(indicator_year: pl.DataFrame) -> pl.DataFrame:
    """Round 0: one row per (cell, kode_indikator, employee_key): met (0/1) and d (NULL
    when the employee holds no other indicator of that jabatan and agency)."""
    held = _held(indicator_year)
    total, count = pl.col("met").sum().over(PERSON), pl.len().over(PERSON)
    return held.with_columns(
        d=pl.when(count > 1).then(pl.col("met") - (total - pl.col("met")) / (count - 1))
    )


def _tests(
    k: np.ndarray,
    person: np.ndarray,
    met: np.ndarray,
    excluded: np.ndarray,
    starts: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """One round: per indicator row (k = its index on each held row, rows sorted by k,
    ``starts`` the first held row of each), the paired differences against the employee's
    other indicators not in ``excluded`` and their permutation test, from sums (module
    doc)."""
    size = starts.size
    kept = (~excluded[k]).astype(float)
    persons = int(person.max()) + 1
    reference_n = np.bincount(person, kept, persons)[person] - kept
    reference_sum = np.bincount(person, met * kept, persons)[person] - met * kept
    valid = reference_n > 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # the employee's k values: this indicator and its reference; share = their mean
        share = np.where(valid, (reference_sum + met) / (reference_n + 1), 0.5)
        weight = np.where(valid, (reference_n + 1) / reference_n, 0.0)  # k / (k - 1)
        d = np.where(valid, met - reference_sum / reference_n, np.nan)
        spread = share * (1 - share)  # population variance of 0/1 values
        mover = valid & (spread > 0)
        n = np.bincount(k, valid, size)
        total = np.bincount(k, np.where(valid, d, 0.0), size)
        variance = np.bincount(k, np.where(mover, weight**2 * spread, 0.0), size)
        third = np.bincount(k, np.where(mover, weight**3 * spread * (1 - 2 * share), 0.0), size)
        # log P(every mover has its largest / smallest value here): the extreme sums
        log_top = np.bincount(k, np.where(mover, np.log(share), 0.0), size)
        log_bottom = np.bincount(k, np.where(mover, np.log1p(-share), 0.0), size)
        moves = variance > 0  # a sum of positive terms: 0 only without a mover
        sd = np.sqrt(np.where(moves, variance, np.nan))
        z = np.where(moves, total / sd, 0.0)
        skew = np.where(moves, third / sd**3, 0.0)
        below, above = stats.pearson3.cdf(z, skew), stats.pearson3.sf(z, skew)
        floor = 2 * np.exp(np.where(z > 0, log_top, log_bottom))
        p = np.clip(np.maximum(2 * np.minimum(below, above), floor), 0.0, 1.0)
        q_low = stats.pearson3.ppf(alpha / 2, skew)
        q_high = stats.pearson3.ppf(1 - alpha / 2, skew)
        mean = total / n
        return {
            "n": n.round().astype(np.int64),
            "effect": mean,
            "p": np.where(moves, p, np.where(n > 0, 1.0, np.nan)),
            "low": np.clip((total - q_high * sd) / n, -1.0, 1.0),
            "high": np.clip((total - q_low * sd) / n, -1.0, 1.0),
            # rounded: equal rows summed in another order tie, and the first code wins
            "strength": np.round(np.abs(z), 9),
        }


def indicator_difficulty(
    indicator_year: pl.DataFrame,
    min_group_size: int = 5,
    alpha: float = ALPHA,
    max_rounds: int = MAX_ROUNDS,
    min_reference: int = MIN_REFERENCE,
) -> pl.DataFrame:
    """Candidate ``indicator`` rows: per (tahun, kode_opd, jenis_jabatan, kode_indikator)
    the paired difference in share meeting target against the same employees' other
    indicators, deviant indicators leaving the references round by round (module
    docstring). max_rounds=0 compares with every other indicator (no exclusion). Verdicts
    are left to ``findings.judge``."""
    held = _held(indicator_year).with_row_index("_held")
    if held.is_empty():
        return findings.empty()
    # integer ids by hashing, not by sorting 1M-row string keys
    rows = (
        held.group_by(*CELL, "kode_indikator")
        .agg(pl.col("_held"), holders=pl.len())
        .sort(*CELL, "kode_indikator")
        .with_columns(n_indicators=pl.len().over(CELL))
    )
    order = rows["_held"].explode().to_numpy()  # held rows, grouped by indicator row
    k = np.repeat(np.arange(rows.height), rows["holders"].to_numpy())
    starts = np.flatnonzero(np.diff(k, prepend=-1))
    people = held.group_by(PERSON).agg(pl.col("_held"))["_held"]
    person = np.empty(held.height, dtype=np.int64)
    person[people.explode().to_numpy()] = np.repeat(
        np.arange(people.len()), people.list.len().to_numpy()
    )
    person = person[order]
    met = held["met"].to_numpy()[order]
    rows = rows.drop("_held")
    cell = np.cumsum(rows.select(pl.struct(CELL).is_first_distinct()).to_series().to_numpy()) - 1
    tahun = rows["tahun"].to_numpy()
    pool = ((rows["holders"] >= min_group_size) & (rows["n_indicators"] >= 2)).to_numpy()

    excluded = np.zeros(rows.height, dtype=bool)
    for round_ in range(max_rounds + 1):
        test = _tests(k, person, met, excluded, starts, alpha)
        tested = pool & (test["n"] >= min_group_size)
        p_adjusted = findings.bh_within(np.where(tested, test["p"], np.nan), tahun)
        with np.errstate(invalid="ignore"):
            outside = (test["effect"] < BAND.low) | (test["effect"] > BAND.high)
        finding = (p_adjusted < alpha) & outside
        if round_ == max_rounds:
            break
        # every kept indicator's reference (the rest of the pool) keeps min_reference
        new = findings.most_extreme_per_group(
            cell, finding & ~excluded, test["strength"], pool & ~excluded, min_reference + 1
        )
        if not new.any():
            break
        excluded |= new

    return _candidates(rows, test, excluded, min_group_size)


def _candidates(
    rows: pl.DataFrame, test: dict[str, np.ndarray], excluded: np.ndarray, min_group_size: int
) -> pl.DataFrame:
    """FINDINGS_SCHEMA rows of the final round (suppression and reasons: module doc)."""
    frame = rows.with_columns(
        pl.Series("_n", test["n"]),
        *(pl.Series(f"_{c}", test[c], nan_to_null=True) for c in ("effect", "low", "high", "p")),
        pl.Series("_excluded", excluded),
    )
    left_out = frame.group_by(CELL).agg(
        _left_out=pl.col("kode_indikator").filter(pl.col("_excluded"))
    )
    others = (
        pl.col("_left_out")
        .list.set_difference(pl.concat_list("kode_indikator"))
        .list.sort()
        .list.join(", ")
    )
    base = pl.lit(REFERENCE_PREFIX) + pl.col("jenis_jabatan")
    few_holders = pl.col("holders") < min_group_size
    single = pl.col("n_indicators") < 2
    few_pairs = pl.col("_n") < min_group_size
    tested = ~(few_holders | single | few_pairs)
    frame = frame.join(left_out, on=CELL, how="left", maintain_order="left").with_columns(
        family=pl.lit(FAMILY),
        subject=pl.col("kode_indikator"),
        reference=pl.when(others != "")
        .then(pl.format("{}, kecuali {}", base, others))
        .otherwise(base),
        outcome=pl.lit(OUTCOME),
        n=pl.when(tested).then("_n").when(~few_holders & single).then("holders"),
        effect=pl.when(tested).then("_effect"),
        effect_ci_low=pl.when(tested).then("_low"),
        effect_ci_high=pl.when(tested).then("_high"),
        effect_measure=pl.when(tested).then(pl.lit(MEASURE)),
        p_value=pl.when(tested).then("_p"),
        verdict=pl.when(few_holders | (~single & few_pairs))
        .then(pl.lit(findings.SUPPRESSED))
        .when(single)
        .then(pl.lit(findings.NOT_ASSESSABLE)),
        reason=pl.when(few_holders)
        .then(pl.lit(f"Kurang dari {min_group_size} pegawai pemegang indikator"))
        .when(single)
        .then(pl.lit("Jabatan hanya memiliki satu indikator di instansi ini"))
        .when(few_pairs)
        .then(
            pl.lit(
                f"Kurang dari {min_group_size} pegawai yang memegang indikator ini "
                "dan indikator lain jabatannya"
            )
        ),
    )
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in findings.FINDINGS_SCHEMA.items()
    )
