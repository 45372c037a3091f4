"""analysis.findings: one row per tested hypothesis, the only place a verdict is decided.

Every family (group disparity, rater, indicator, distribution curve, trend, conditional
rating) produces *candidate* rows in ``FINDINGS_SCHEMA`` with an effect, its interval, the
effect's measure and a p-value. ``judge`` then decides, the same way for every family:

- Benjamini-Hochberg per (family, tahun), so a new year of data never changes last year's
  verdicts (multi-year trend rows, tahun NULL, form one family of their own);
- ``finding`` needs p_adjusted < ALPHA *and* an effect outside the practical band of its
  measure (``PRACTICAL``): a tiny but "significant" gap in a large agency accuses no one;
- rows a family already marked ``not_assessable`` or ``suppressed`` keep that verdict and
  their reason, take no part in BH, and never read as a clean bill.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05

FAMILIES = (
    "group_disparity",
    "rater",
    "indicator",
    "indicator_difficulty",
    "distribution_curve",
    "trend",
    "conditional_rating",
)
FINDING, NO_FINDING, NOT_ASSESSABLE, SUPPRESSED = (
    "finding",
    "no_finding",
    "not_assessable",
    "suppressed",
)
VERDICTS = (FINDING, NO_FINDING, NOT_ASSESSABLE, SUPPRESSED)

FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(),
    "tahun": pl.Int32(),
    "kode_opd": pl.String(),
    "dimension": pl.String(),
    "subject": pl.String(),
    "reference": pl.String(),
    "outcome": pl.String(),
    "n": pl.Int64(),
    "n_reference": pl.Int64(),
    "effect": pl.Float64(),
    "effect_ci_low": pl.Float64(),
    "effect_ci_high": pl.Float64(),
    "effect_measure": pl.String(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "practical": pl.Boolean(),
    "verdict": pl.String(),
    "reason": pl.String(),
    # Which rows judged the year (TAHUNAN, or the last periodic predikat) or, for trends, the
    # service unit; NULL where it says nothing more.
    "basis": pl.String(),
    "unit_layanan": pl.String(),
}
FINDINGS_COLUMNS = list(FINDINGS_SCHEMA)


@dataclass(frozen=True)
class Band:
    """Effects inside [low, high] are too small to matter, whatever their p-value."""

    low: float
    high: float
    text: str  # how the band reads in a reason (Bahasa Indonesia)

    def outside(self, effect: float | None) -> bool | None:
        if effect is None or not math.isfinite(effect):
            return None
        return effect < self.low or effect > self.high


# effect_measure -> practical band. Ratios: the four-fifths rule (0.8) and its inverse.
RATIO_BAND = Band(0.8, 1.25, "rasio di antara 0,8 dan 1,25 (aturan empat-perlima)")
PRACTICAL: dict[str, Band] = {
    "rate_ratio": RATIO_BAND,
    "odds_ratio": RATIO_BAND,
    # Predikat score 1..5: half a category between a rater's ratees and the others'.
    "predikat_points": Band(-0.5, 0.5, "selisih kurang dari 0,5 poin predikat"),
    # Achievement = realisasi / target: 5 percentage points of capaian.
    "achievement_points": Band(-0.05, 0.05, "selisih capaian kurang dari 5 poin persen"),
    # Share of employees meeting target: 15 percentage points.
    "share_points": Band(-0.15, 0.15, "selisih porsi kurang dari 15 poin persen"),
    # Predikat order: P(group above reference) + ties/2; Vargha-Delaney's "small" is 0.56.
    "probability_of_superiority": Band(0.44, 0.56, "peluang unggul di antara 0,44 dan 0,56"),
    # Kendall's tau of a trend: |tau| < 0.3 is a weak monotone association.
    "kendall_tau": Band(-0.3, 0.3, "tau Kendall kurang dari 0,3"),
    # A distribution-curve rule: how far the observed share is beyond the bound (> 0 broken).
    "share_beyond_bound": Band(-math.inf, 0.0, "semua aturan kurva terpenuhi"),
}

MEASURE_TEXT = {
    "rate_ratio": "rasio peluang",
    "odds_ratio": "rasio odds",
    "predikat_points": "selisih skor predikat",
    "achievement_points": "selisih capaian",
    "share_points": "selisih porsi memenuhi target",
    "kendall_tau": "tau Kendall",
    "probability_of_superiority": "peluang unggul",
    "share_beyond_bound": "kelebihan porsi di atas batas aturan",
}


def bh_within(p: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg within each group value (e.g. tahun); NaN p stays NaN and is not
    a test. The families' own exclusion rounds use it to predict ``judge``'s verdicts."""
    adjusted = np.full(p.shape, np.nan)
    for value in np.unique(group):
        rows = np.flatnonzero((group == value) & ~np.isnan(p))
        if rows.size:
            adjusted[rows] = multipletests(p[rows], method="fdr_bh")[1]
    return adjusted


def most_extreme_per_group(
    group: np.ndarray,
    candidate: np.ndarray,
    strength: np.ndarray,
    pool: np.ndarray,
    min_left: int,
) -> np.ndarray:
    """The exclusion step raters and indicators share: per group, the candidate row with the
    largest strength (ties: the first row), kept only where at least ``min_left`` rows of
    ``pool`` remain once it leaves - so a deviant leaves the others' reference, but nobody
    is left compared with nothing."""
    new = np.zeros(group.size, dtype=bool)
    rows = np.flatnonzero(candidate)
    if rows.size == 0:
        return new
    order = rows[np.lexsort((rows, -strength[rows], group[rows]))]
    _, first = np.unique(group[order], return_index=True)
    chosen = order[first]
    remaining = np.bincount(group, pool, int(group.max()) + 1)[group[chosen]] - 1
    new[chosen[remaining >= min_left]] = True
    return new


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def candidates(records: Iterable[Mapping[str, object]]) -> pl.DataFrame:
    """Candidate rows from dicts (missing keys NULL), in FINDINGS_SCHEMA."""
    return pl.DataFrame([dict.fromkeys(FINDINGS_COLUMNS) | dict(r) for r in records],
                        schema=FINDINGS_SCHEMA)  # fmt: skip


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    # Rounded to 9 decimals first: the last bits of a sum depend on the order of its rows
    # (0.37499999999999994 and 0.375 must not print as 0,37 and 0,38).
    return f"{round(value, 9):.{digits}f}".replace(".", ",")


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.001:
        return f"{float(f'{value:.9g}'):.2g}".replace(".", ",")
    return _fmt(value, 3)


def _reason(row: Mapping[str, object]) -> str:
    measure = str(row["effect_measure"])
    band = PRACTICAL[measure]
    effect = f"{MEASURE_TEXT.get(measure, measure)} {_fmt(row['effect'])}"
    if row["effect_ci_low"] is not None and row["effect_ci_high"] is not None:
        effect += f" [{_fmt(row['effect_ci_low'])}; {_fmt(row['effect_ci_high'])}]"
    if row["p_value"] is None:  # a rule check, not a test
        if row["verdict"] == FINDING:
            return f"Aturan dilanggar: {effect}."
        return f"Tidak ada pelanggaran: {band.text}."
    p_text = f"p terkoreksi {_p(row['p_adjusted'])}"
    if row["verdict"] == FINDING:
        return f"Temuan: {effect}, {p_text} < 0,05 dan di luar batas praktis."
    if row["p_adjusted"] is not None and row["p_adjusted"] < ALPHA:
        return f"Bukan temuan: {p_text} tetapi {effect} masih dalam batas praktis ({band.text})."
    return f"Bukan temuan: {effect}, {p_text} (tidak bermakna setelah koreksi banyak uji)."


def judge(frame: pl.DataFrame, alpha: float = ALPHA) -> pl.DataFrame:
    """Fill p_adjusted, practical, verdict and reason of candidate rows (see module doc)."""
    frame = frame.cast(FINDINGS_SCHEMA).with_row_index("_row")
    open_rows = pl.col("verdict").is_null()
    tested = frame.filter(open_rows & pl.col("p_value").is_not_null())
    adjusted: list[pl.DataFrame] = []
    for _, part in tested.group_by("family", "tahun", maintain_order=True):
        p_adj = multipletests(part["p_value"].to_numpy(), method="fdr_bh")[1]
        adjusted.append(part.select("_row", pl.Series("_p_adj", p_adj, dtype=pl.Float64)))
    schema = {"_row": pl.UInt32(), "_p_adj": pl.Float64()}
    joined = frame.join(
        pl.concat(adjusted) if adjusted else pl.DataFrame(schema=schema), on="_row", how="left"
    ).with_columns(p_adjusted=pl.coalesce("p_adjusted", "_p_adj"))
    records = []
    for row in joined.drop("_p_adj").iter_rows(named=True):
        band = PRACTICAL.get(str(row["effect_measure"]))
        if band is not None and row["practical"] is None:
            row["practical"] = band.outside(row["effect"])
        if row["verdict"] is None:
            rule_check = row["p_value"] is None and row["effect_measure"] == "share_beyond_bound"
            significant = rule_check or (
                row["p_adjusted"] is not None and row["p_adjusted"] < alpha
            )
            if row["effect"] is None or (row["p_value"] is None and not rule_check):
                row["verdict"] = NOT_ASSESSABLE
                row["reason"] = row["reason"] or "Uji tidak dapat dihitung dari data yang ada."
            else:
                row["verdict"] = FINDING if significant and row["practical"] else NO_FINDING
        if row["reason"] is None and row["verdict"] in (FINDING, NO_FINDING):
            row["reason"] = _reason(row)
        records.append(row)
    if not records:
        return empty()
    schema = {**FINDINGS_SCHEMA, "_row": pl.UInt32()}
    return pl.DataFrame(records, schema=schema).select(FINDINGS_COLUMNS)
