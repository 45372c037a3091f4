"""Indicator direction, aggregation and capaian bands (PermenPANRB 6/2022 and 8/2021,
Permendagri 86/2017), read from the dbt seeds so Python and SQL share one rule.

- **aspek / arah / jenis_agregasi**: each individual indicator (IKI) measures an aspect
  (kuantitas, kualitas, waktu, biaya); for time and cost lower is better (``arah`` turun),
  otherwise higher (naik). ``jenis_agregasi`` says how a year's realisation follows from its
  quarters: jumlah (a count adds up) or terakhir (a percentage, a time: the latest value).
  Spellings accepted in exports and reference/indikator.csv: ``indicator_vocabulary.csv``.
  Undeclared indicators default to naik / terakhir and are listed in
  ``audit.audit_indicator_rules``.
- **capaian**: naik R/T; turun (2T - R)/T floored at 0 (PermenPANRB 8/2021); NULL when the
  target is 0 or either side is missing. Never capped. dbt's ``capaian`` macro is the twin.
- **bands** (``capaian_bands.csv``): on the capaian in percent (rounded to 9 decimals, so
  float noise cannot move a boundary), strictly above a band's lower bound and at most the
  next band's: 90.5% is Sangat Tinggi, 90% Tinggi; above 100% stays Sangat Tinggi.
See docs/domain.md (indicator direction, capaian bands).
"""

from __future__ import annotations

import math
from functools import cache

from pipelines.rules.seeds import accepted_values, read_seed

ATTRIBUTES = ("aspek", "arah", "jenis_agregasi")
HIGHER, LOWER = "naik", "turun"
SUM, LAST = "jumlah", "terakhir"
DEFAULT_ARAH, DEFAULT_AGREGASI = HIGHER, LAST
# A year's target is met at capaian >= 1. The capaian is a mean over periods (dbt: avg) whose
# last bits depend on the order rows are summed in: 0.9999999999999999 meets it as surely as
# 1.0 does.
MET_CAPAIAN, MET_TOLERANCE = 1.0, 1e-9
LOWER_IS_BETTER_ASPEK = ("waktu", "biaya")
# A band compares the capaian in percent rounded to 9 decimals: 0.9 * 100 is
# 90.00000000000001 in floating point, and must band as 90% (Tinggi), not above it.
PERCENT_DIGITS = 9


@cache
def vocabulary() -> dict[str, dict[str, str]]:
    """attribute -> {spelling (lower case, single spaces): canonical value}."""
    table: dict[str, dict[str, str]] = {a: {} for a in ATTRIBUTES}
    for row in read_seed("indicator_vocabulary"):
        table[row["attribute"]][row["value"]] = row["canonical"]
    return table


def spelling_key(text: str) -> str:
    """How a cell is looked up in the vocabulary: lower case, single spaces, no '_' or '-'."""
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


def canonical(attribute: str, text: str | None) -> str | None:
    """The canonical value of a cell, None when blank; KeyError when not a known spelling."""
    if text is None or not text.strip():
        return None
    return vocabulary()[attribute][spelling_key(text)]


def arah_of(arah: str | None, aspek: str | None) -> str:
    """Direction from a declared arah, else from the aspek, else the default (naik)."""
    if arah is not None:
        return arah
    if aspek in LOWER_IS_BETTER_ASPEK:
        return LOWER
    return DEFAULT_ARAH


def capaian(realisasi: float | None, target: float | None, arah: str) -> float | None:
    """Capaian as a fraction (1.0 = 100%)."""
    if realisasi is None or target is None or target == 0:
        return None
    if arah == LOWER:
        return max((2 * target - realisasi) / target, 0.0)
    return realisasi / target


@cache
def bands() -> tuple[tuple[str, float | None], ...]:
    """(band, lower bound in percent, exclusive), best first; the last has no bound."""
    rows = sorted(read_seed("capaian_bands"), key=lambda r: int(r["band_order"]))
    names = tuple(r["band"] for r in rows)
    assert names == accepted_values("capaian_bands", "band"), "capaian_bands.csv order"
    return tuple(
        (r["band"], float(r["lower_exclusive_pct"]) if r["lower_exclusive_pct"] else None)
        for r in rows
    )


def band(capaian_fraction: float | None) -> str | None:
    """The band of a capaian given as a fraction (0.905 -> 90.5% -> Sangat Tinggi)."""
    if capaian_fraction is None or math.isnan(capaian_fraction):
        return None
    percent = round(capaian_fraction * 100, PERCENT_DIGITS)
    for name, lower in bands():
        if lower is None or percent > lower:
            return name
    raise AssertionError("the lowest band has no bound")
