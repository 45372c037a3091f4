"""What the three scenarios share: years and periods, the warehouse-shaped schemas, the
``Scenario`` they return, and the drawing of people, rater teams and latent performance.

Shared so that the scenarios differ only in what they plant: the same agencies, NIPs, grades
and performance model make a difference between two scenarios mean the planted effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pipelines.generate import catalog
from pipelines.generate.curve import assign_by_rank
from pipelines.generate.population import Agency, _days_in_month, _unique_nips, draw_names
from pipelines.rules import periods

YEARS = (2024, 2025)
QUARTERS = periods.QUARTERLY
ANNUAL = periods.ANNUAL
ALL_PERIODS = (*QUARTERS, ANNUAL)
# periode -> (triwulan, period_kind, end month), from the dbt seed `periods`.
PERIOD_INFO: dict[str, tuple[int | None, str, int]] = {
    p: (periods.BY_NAME[p].triwulan, periods.BY_NAME[p].kind, periods.BY_NAME[p].end_month)
    for p in ALL_PERIODS
}
# Key for build_scenario when no data dir is involved: fixed so frames are reproducible.
DEFAULT_KEY = b"kinerja-scenarios"

AGENCY_NOTE = (
    "agencies differ in Sangat Baik share by their organisation predikat (Istimewa ~60%, "
    "Baik ~20%): the distribution curve at work, not a planted effect"
)

EMPLOYEE_PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "employee_key": pl.String(),
    "tahun": pl.Int32(),
    "periode": pl.String(),
    "triwulan": pl.Int32(),
    "period_kind": pl.String(),
    "period_end_date": pl.Date(),
    "kode_opd": pl.String(),
    "golongan": pl.String(),
    "jenis_jabatan": pl.String(),
    "gender": pl.String(),
    "age_band": pl.String(),
    "rating_hasil_kerja": pl.String(),
    "rating_perilaku": pl.String(),
    "predikat": pl.String(),
    "mean_achievement": pl.Float64(),
    "mean_self_supervisor_gap": pl.Float64(),
    "penilai_key": pl.String(),
}
INDICATOR_YEAR_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "kode_opd": pl.String(),
    "kode_indikator": pl.String(),
    "employee_key": pl.String(),
    "achievement": pl.Float64(),
}


@dataclass(frozen=True)
class Scenario:
    """One scenario: warehouse-shaped frames, the answer key, and the rows behind both.

    ``employees`` holds what the warehouse never sees (NIP, ability) so tests can check
    that groups are independent of ability; ``rows`` are the typed assessment export rows
    that ``write_scenario`` writes and the frames are derived from.
    """

    name: str
    seed: int
    employee_period: pl.DataFrame
    indicator_year: pl.DataFrame
    predikat_organisasi: pl.DataFrame
    truth: dict[str, Any]
    agencies: pl.DataFrame
    employees: pl.DataFrame
    rows: pl.DataFrame


@dataclass
class Draw:
    """One agency's people and their predikat codes and latent performance per year/period."""

    agency: Agency
    people: pl.DataFrame
    latent: np.ndarray  # (n, years, periods)
    pred: np.ndarray  # (n, years, periods), codes into PREDIKAT


# ---------------------------------------------------------------- people and teams


def make_agency(index: int, pemda: str, kind: str, n: int) -> Agency:
    return Agency(
        index=index,
        kode_opd=f"{pemda}-{kind}",
        nama_opd=catalog.AGENCY_TYPES[kind][0],
        pemda_code=pemda,
        pemda=dict(catalog.PEMDA)[pemda],
        kind=kind,
        n_employees=n,
    )


def female_share(kind: str) -> float:
    """Same mix as the sample generator: schools and health are mostly women."""
    return 0.62 if kind in ("DISDIK", "DINKES") else 0.45


def even_teams(n: int) -> int:
    """Raters for teams of about 15 (at least 3, so the head's team is not tiny)."""
    return max(3, round((n - 1) / 16))


def teams_balanced(rng: np.random.Generator, order: np.ndarray, k: int) -> np.ndarray:
    """Deal staff in the given order round the k teams, each round in a random team order,
    so every team gets one of each consecutive block (balanced on what `order` sorts by)."""
    team = np.empty(len(order), dtype=np.int64)
    for start in range(0, len(order), k):
        block = order[start : start + k]
        team[block] = rng.permutation(k)[: len(block)]
    return team


def random_sizes(
    rng: np.random.Generator, m: int, k: int, lo: int, hi: int, fixed: tuple[int, ...] = ()
) -> np.ndarray:
    """k team sizes in [lo, hi] summing to m, widely spread (Dirichlet), fixed ones first."""
    sizes = np.array([*fixed, *([lo] * (k - len(fixed)))], dtype=np.int64)
    free = np.arange(len(fixed), k)
    rest = m - int(sizes.sum())
    if not 0 <= rest <= (hi - lo) * len(free):
        raise ValueError(f"cannot split {m} ratees into {k} teams of {lo}..{hi}")
    sizes[free] += rng.multinomial(rest, rng.dirichlet(np.full(len(free), 0.8)))
    while len(free) and (over := sizes[free] - hi).max() > 0:
        i = free[int(np.argmax(over))]
        room = free[sizes[free] < hi]
        sizes[i] -= 1
        sizes[room[rng.integers(0, len(room))]] += 1
    return sizes


def rater_index(k: int, team_of_staff: np.ndarray) -> np.ndarray:
    """Rater index per position: head (0) has none, raters 1..k report to the head, staff
    (positions k+1..) to rater 1 + their team."""
    return np.concatenate([[-1], np.zeros(k, dtype=np.int64), 1 + team_of_staff])


def draw_people(
    rng: np.random.Generator,
    agency: Agency,
    gender: np.ndarray,
    ability: np.ndarray,
    rater_idx: np.ndarray,
    issued: set[int],
) -> pl.DataFrame:
    """Everyone of one agency with valid, unique NIPs (gender digit = `gender`), positions,
    grades and units; birth dates and positions are drawn independently of ability."""
    n = len(gender)
    head = rater_idx < 0
    is_rater = (np.bincount(rater_idx[rater_idx >= 0], minlength=n) > 0) & ~head
    rank = np.cumsum(is_rater) - 1  # rater number 0.. among the raters
    # Roles: 0 JPT, 1 Administrator, 2 Pengawas, 3 Fungsional, 4 Pelaksana
    staff_role = np.where(rng.random(n) < 0.45, 4, 3)
    role = np.where(head, 0, np.where(is_rater, np.where(rank < 2, 1, 2), staff_role))
    jenis = np.array(["JPT", "Administrator", "Pengawas", "Fungsional", "Pelaksana"])[role]

    birth_year = rng.integers(
        np.array([1966, 1966, 1968, 1966, 1966])[role],
        np.array([1975, 1980, 1985, 2000, 2000])[role] + 1,
    )
    birth_month = rng.integers(1, 13, size=n)
    birth_day = np.minimum(rng.integers(1, 32, size=n), _days_in_month(birth_year, birth_month))
    appt_year = np.minimum(birth_year + 19 + rng.integers(0, 16, size=n), 2022)
    appt_month = rng.integers(1, 13, size=n)
    birth = birth_year * 10_000 + birth_month * 100 + birth_day
    base = (birth * 1_000_000 + appt_year * 100 + appt_month) * 10_000 + gender * 1000
    nip = _unique_nips(rng, base.astype(np.int64), issued)

    golongan = np.array(catalog.GOLONGAN)[
        rng.integers(np.array([14, 12, 10, 8, 4])[role], np.array([15, 13, 11, 12, 9])[role] + 1)
    ]
    bidang = [
        catalog.BIDANG[r % len(catalog.BIDANG)]
        + ("" if r < len(catalog.BIDANG) else f" {r // len(catalog.BIDANG) + 1}")
        for r in range(max(int(is_rater.sum()), 1))
    ]
    team_rank = np.where(is_rater, rank, rank[np.maximum(rater_idx, 0)])
    unit = np.where(head, agency.nama_opd, np.array(bidang)[np.maximum(team_rank, 0)])

    _, _, jpt_title, fungsional = catalog.AGENCY_TYPES[agency.kind]

    def title(i: int, r: int, u: str, x: float) -> str:
        if r == 0:
            return jpt_title
        if r == 1:
            return "Sekretaris" if u == "Sekretariat" else f"Kepala {u}"
        if r == 2:
            area = ("Pelayanan", "Data", "Perencanaan", "Umum")[i % 4]
            return f"{catalog.PENGAWAS_TITLES[i % 2]} {area}"
        titles = fungsional if r == 3 else catalog.PELAKSANA_TITLES
        return titles[int(x * len(titles))]

    draws = rng.random(n)
    jabatan = [title(i, int(role[i]), str(unit[i]), float(draws[i])) for i in range(n)]
    first, last, degree = draw_names(rng, gender)
    nip_text = [str(int(x)) for x in nip]
    return pl.DataFrame(
        {
            "kode_opd": [agency.kode_opd] * n,
            "nip": nip_text,
            "nama": [f"{f} {s}{d}" for f, s, d in zip(first, last, degree, strict=True)],
            "gender": gender.astype(np.int8),
            "birth_year": birth_year.astype(np.int32),
            "jenis_jabatan": jenis.tolist(),
            "jabatan": jabatan,
            "golongan": golongan.tolist(),
            "unit_kerja": unit.tolist(),
            "rater_idx": rater_idx,
            "nip_penilai": [nip_text[r] if r >= 0 else None for r in rater_idx],
            "ability": ability,
        },
        schema_overrides={"nip_penilai": pl.String},
    )


def draw_latent(
    rng: np.random.Generator, ability: np.ndarray, periods: tuple[str, ...]
) -> np.ndarray:
    """Performance per employee, year and period: a persistent employee effect plus a
    year effect plus period noise (smaller for the annual period, which sums up the year),
    so strong employees stay strong across quarters and years."""
    n = len(ability)
    year = 0.3 * rng.standard_normal((n, len(YEARS), 1))
    sd = np.array([0.2 if p == ANNUAL else 0.45 for p in periods])
    noise = sd * rng.standard_normal((n, len(YEARS), len(periods)))
    return ability[:, None, None] + year + noise


def centre_by_gender(ability: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """Equal mean ability for women and men, so no chance gap in achievement or predikat."""
    out = ability.copy()
    for g in (1, 2):
        at = gender == g
        if at.any():
            out[at] -= out[at].mean()
    return out


def rank_all(latent: np.ndarray, counts_for: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Predikat by rank of latent within each year-period, quotas from counts_for(index)."""
    n, n_years, n_periods = latent.shape
    pred = np.empty(latent.shape, dtype=np.int8)
    index = np.arange(n)
    for y in range(n_years):
        for p in range(n_periods):
            pred[:, y, p] = assign_by_rank(latent[:, y, p], counts_for(index))
    return pred
