"""Planting bad rows: choose which rows get which single defect, and spell the defect.

Each chosen row gets exactly one defect and every other row stays valid, so the number of
rows ingestion must quarantine is known exactly (recorded in truth.json).
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Share of each source's eligible rows that is planted bad (documented in truth.json).
RATES = {"assessments": 0.005, "surveys": 0.005, "training": 0.01}

ASSESSMENT_KINDS = (
    "nip_scientific",
    "nip_truncated",
    "nip_impossible_date",
    "unknown_agency",
    "missing_required",
    "invalid_rating",
    "negative_realisasi",
)
SURVEY_KINDS = ("impossible_date", "unknown_agency", "missing_id")
TRAINING_KINDS = ("impossible_date", "end_before_start", "nonpositive_jp", "nip_scientific")
UNKNOWN_AGENCY_SUFFIX = "DISPAR"  # Dinas Pariwisata: not among the region's agencies


def pick(
    rng: np.random.Generator, eligible: np.ndarray, rate: float, kinds: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Choose rows among eligible (bool mask) and split them over kinds; sorted indices."""
    candidates = np.flatnonzero(eligible)
    n_bad = int(rng.binomial(len(candidates), rate)) if len(candidates) else 0
    chosen = rng.choice(candidates, size=n_bad, replace=False) if n_bad else candidates[:0]
    which = rng.integers(0, len(kinds), size=n_bad)
    return {k: np.sort(chosen[which == i]) for i, k in enumerate(kinds)}


def scatter(df: pl.DataFrame, column: str, idx: np.ndarray, values: pl.Series) -> pl.DataFrame:
    """Overwrite column at the given row positions."""
    if len(idx) == 0:
        return df
    return df.with_columns(df[column].scatter(idx, values.cast(df[column].dtype)))


def nip_scientific(nips: pl.Series) -> pl.Series:
    """'198503121234567001' -> '1.98503E+17': what Excel shows once it has made a NIP a number."""
    return nips.str.slice(0, 1) + "." + nips.str.slice(1, 5) + "E+17"


def nip_truncated(nips: pl.Series) -> pl.Series:
    """Excel keeps 15 significant digits: the last three become '000'."""
    return nips.str.slice(0, 15) + "000"


def nip_impossible_date(nips: pl.Series) -> pl.Series:
    """Birth month 13 (even positions) or birth day 32 (odd positions)."""
    month13 = nips.str.slice(0, 4) + "13" + nips.str.slice(6)
    day32 = nips.str.slice(0, 6) + "32" + nips.str.slice(8)
    even = pl.Series(np.arange(len(nips)) % 2 == 0)
    return pl.select(pl.when(even).then(month13).otherwise(day32)).to_series()


def impossible_date(years: pl.Series, date_style: str) -> pl.Series:
    """February 31st / 30th written in the file's own date style."""
    day = pl.Series(np.where(np.arange(len(years)) % 2 == 0, "31", "30"))
    y = years.cast(pl.String)
    if date_style == "dmy":
        return day + "/02/" + y
    if date_style == "iso":
        return y + "-02-" + day
    raise ValueError(f"no impossible-date spelling for date style {date_style!r}")
