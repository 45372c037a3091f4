"""Employee predikat quotas that satisfy the distribution curve (DESIGN §1.2).

Predikat are drawn as exact counts per agency-year-period rather than at random, so that a
clean dataset is compliant by construction for every agency size the generator produces.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

PREDIKAT = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang")
SB, BAIK, BP, KM, SK = range(5)

# Target shares per organisation predikat, ordered as PREDIKAT; chosen inside the bounds.
SHARES = {
    "Istimewa": (0.60, 0.28, 0.08, 0.04, 0.00),
    "Baik": (0.20, 0.60, 0.13, 0.05, 0.02),
    "Butuh Perbaikan": (0.05, 0.15, 0.66, 0.09, 0.05),
    "Kurang": (0.04, 0.04, 0.18, 0.66, 0.08),
    "Sangat Kurang": (0.00, 0.10, 0.12, 0.12, 0.66),
}
# The deliberately broken curve (planted effect): 'Baik' organisation, no low predikat at all.
BROKEN_SHARES = (0.75, 0.25, 0.0, 0.0, 0.0)
MIN_AGENCY_SIZE = 8


def complies(counts: np.ndarray, org: str) -> bool:
    """Check one agency-period's predikat counts against the DESIGN §1.2 bounds."""
    n = counts.sum()
    if n == 0:
        return False
    s = counts / n
    if org == "Istimewa":
        return s[SB] > 0.5 and s[SB] <= 0.7
    if org == "Baik":
        return s[BAIK] > 0.5 and s[BAIK] <= 0.7 and counts[BP] + counts[KM] >= 1
    if org == "Butuh Perbaikan":
        return s[BP] >= 0.6 and s[SB] <= 0.1
    if org == "Kurang":
        return s[KM] >= 0.6 and s[BP] >= 0.1 and s[SB] <= 0.1
    if org == "Sangat Kurang":
        return s[SK] >= 0.6 and s[KM] + s[BP] >= 0.1 and counts[SB] == 0
    raise ValueError(f"unknown organisation predikat {org!r}")


def quota(n: int, shares: tuple[float, ...]) -> np.ndarray:
    """Largest-remainder rounding of shares to counts summing to n."""
    raw = np.asarray(shares) * n
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


@lru_cache(maxsize=4096)
def _compliant_counts(n: int, org: str) -> tuple[int, ...]:
    counts = quota(n, SHARES[org])
    if complies(counts, org):
        return tuple(int(c) for c in counts)
    # Small n can round onto a bound: search the nearest counts (one or two single moves).
    moves = [(i, j) for i in range(5) for j in range(5) if i != j]
    for depth in (1, 2, 3):
        for combo in itertools.product(moves, repeat=depth):
            trial = counts.copy()
            for i, j in combo:
                trial[i] -= 1
                trial[j] += 1
            if (trial >= 0).all() and complies(trial, org):
                return tuple(int(c) for c in trial)
    raise ValueError(f"no compliant quota for n={n}, org={org}")


def compliant_quota(n: int, org: str) -> np.ndarray:
    """Counts per predikat for n employees that satisfy the curve of org (n >= MIN_AGENCY_SIZE)."""
    return np.array(_compliant_counts(n, org), dtype=np.int64)


def assign_by_rank(score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Give the best predikat to the highest scores: returns predikat codes aligned with score."""
    order = np.argsort(-score, kind="stable")
    codes = np.empty(len(score), dtype=np.int8)
    codes[order] = np.repeat(np.arange(5, dtype=np.int8), counts)
    return codes
