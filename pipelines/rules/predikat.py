"""Predikat kinerja pegawai and the rating matrix of PermenPANRB 6/2022 (Peraturan Menteri
PANRB Nomor 6 Tahun 2022 tentang Pengelolaan Kinerja Pegawai ASN), as the dbt seed
``predikat_matrix`` holds them; see docs/domain.md (## Rating matrix).

An employee's predikat follows from two ratings, hasil kerja (results) and perilaku kerja
(behaviour), each DI ATAS / SESUAI / DI BAWAH EKSPEKTASI: ``predikat_matrix.csv`` gives the
predikat of each of the nine pairs; ``predikat.csv`` lists the five predikat with their
score and band; the matrix's entry in ``seeds/_seeds.yml`` lists the ratings best first.
All are read here once, at import, and checked against each other; everything else
derives from them:

- ``ORDER``: the predikat, best first (Sangat Baik .. Sangat Kurang), by score;
- ``SCORE``: predikat -> 5 (Sangat Baik) .. 1 (Sangat Kurang), the score the rater and
  disparity analyses average;
- ``TOP_BAND`` (Sangat Baik) and ``BOTTOM_BAND`` (Butuh Perbaikan or worse), the outcomes
  the fairness audit counts (dbt's training-need audit reads the same band);
- ``RATINGS`` (best first) and ``RATING_SCORE`` (3 DI ATAS .. 1 DI BAWAH);
- ``MATRIX``: (rating_hasil_kerja, rating_perilaku) -> predikat;
- ``ORGANISATION_PREDIKATS``: the organisation predikat (Istimewa .. Sangat Kurang) that
  select an agency's distribution curve (seed ``distribution_curve_rules``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipelines.rules.seeds import accepted_values, read_seed

SEED = "predikat_matrix"
PREDIKAT_SEED = "predikat"
CURVE_SEED = "distribution_curve_rules"


@dataclass(frozen=True)
class PredikatRules:
    order: tuple[str, ...]  # best first
    score: dict[str, int]  # 5 best .. 1
    bands: dict[str, str]  # top, middle, bottom
    ratings: tuple[str, ...]  # best first
    matrix: dict[tuple[str, str], str]  # (hasil kerja, perilaku) -> predikat, seed row order
    organisation: tuple[str, ...]  # organisation predikat, best first


@cache
def seed_rules() -> PredikatRules:
    """The seed's predikat, ratings and matrix; ValueError when they do not agree."""
    predikats = sorted(read_seed(PREDIKAT_SEED), key=lambda row: -int(row["score"]))
    order = tuple(row["predikat"] for row in predikats)
    score = {row["predikat"]: int(row["score"]) for row in predikats}
    bands = {row["predikat"]: row["band"] for row in predikats}
    if accepted_values(SEED, "predikat") != order:
        raise ValueError(f"{SEED}: the predikat it accepts are not those of {PREDIKAT_SEED}")
    ratings = accepted_values(SEED, "rating_hasil_kerja")
    if accepted_values(SEED, "rating_perilaku") != ratings:
        raise ValueError(f"{SEED}: rating_hasil_kerja and rating_perilaku accept other values")
    matrix: dict[tuple[str, str], str] = {}
    for row in read_seed(SEED):
        cell = (row["rating_hasil_kerja"], row["rating_perilaku"])
        if cell in matrix or not set(cell) <= set(ratings) or row["predikat"] not in order:
            raise ValueError(f"{SEED}: unexpected or repeated row {row}")
        matrix[cell] = row["predikat"]
    if len(matrix) != len(ratings) ** 2 or set(matrix.values()) != set(order):
        raise ValueError(f"{SEED}: every rating pair needs a row and every predikat a pair")
    organisation = accepted_values(CURVE_SEED, "predikat_organisasi")
    return PredikatRules(order, score, bands, ratings, matrix, organisation)


_RULES = seed_rules()
ORDER: tuple[str, ...] = _RULES.order
SCORE: dict[str, int] = _RULES.score
TOP_BAND: tuple[str, ...] = tuple(p for p in ORDER if _RULES.bands[p] == "top")
BOTTOM_BAND: tuple[str, ...] = tuple(p for p in ORDER if _RULES.bands[p] == "bottom")
RATINGS: tuple[str, ...] = _RULES.ratings
RATING_SCORE: dict[str, int] = {r: len(RATINGS) - i for i, r in reversed(list(enumerate(RATINGS)))}
MATRIX: dict[tuple[str, str], str] = _RULES.matrix
ORGANISATION_PREDIKATS: tuple[str, ...] = _RULES.organisation
