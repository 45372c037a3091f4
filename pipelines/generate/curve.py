"""Employee predikat quotas that satisfy the distribution curve (SE MenPANRB 3/2023; bounds
from the seed distribution_curve_rules via ``pipelines.rules.distribution_curve``, see
docs/domain.md, ## Distribution curve).

Predikat are drawn as exact counts per agency-year-period rather than at random, so that a
clean dataset is compliant by construction for every agency size the generator produces.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from pipelines.rules import distribution_curve, predikat

PREDIKAT = predikat.ORDER  # predikat codes 0..4 index this, best first
SB, BAIK, BP, KM, SK = range(len(PREDIKAT))

# Target shares per organisation predikat, ordered as PREDIKAT (the generator's choice,
# inside the seed's bounds).
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
    """Check one agency-period's predikat counts (ordered as PREDIKAT) against the curve of
    organisation predikat org."""
    by_predikat = {p: int(c) for p, c in zip(PREDIKAT, counts, strict=True)}
    return distribution_curve.complies(by_predikat, org)


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
