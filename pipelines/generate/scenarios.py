"""Three fairness-audit scenarios with known answers, as frames and as export files.

Evaluators check the fairness audit against data where they know what is planted:

- ``quarterly_gap``: quarterly periods only (no TAHUNAN), women in one agency get Sangat
  Baik far less often than men at equal achievement;
- ``lenient_rater``: one rater raises every ratee one predikat category in every period;
- ``null_ceiling``: nothing planted, about half of the employees at Sangat Baik.

``build_scenario`` returns a scenario as in-memory frames shaped like the warehouse's
intermediate tables (fast unit tests of the analysis code); ``write_scenario`` writes the
same people and ratings as assessment exports plus reference files, so that
``KINERJA_DATA_DIR=<dir> make run`` runs the whole pipeline on them. Both start from the
same typed export rows (``Scenario.rows``): the frames are derived from those rows the way
dbt derives its tables, and their keys come from the pipeline's own keyed pseudonym
(``pipelines.rules.pseudonym``), so frames, files and warehouse describe the same people.
``write_scenario`` uses the data dir's pseudonym key (KINERJA_PSEUDONYM_KEY, else
``<data_dir>/.pseudonym_key``), which is what the pipeline will use on that directory: the
keys in its truth are the keys the warehouse computes, and
``build_scenario(name, seed, key=load_key(data_dir))`` gives the frames the warehouse builds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.exports import ASSESSMENT_COLUMNS
from pipelines.generate import catalog
from pipelines.generate.assessments import N_INDICATORS, SCORE_RANGE, _kode, _ratings
from pipelines.generate.curve import (
    PREDIKAT,
    SB,
    SHARES,
    assign_by_rank,
    compliant_quota,
    complies,
    quota,
)
from pipelines.generate.population import Agency, _days_in_month, _unique_nips, draw_names
from pipelines.generate.rng import stream
from pipelines.generate.surveys import service_population
from pipelines.generate.variants import PLAIN
from pipelines.generate.writers import RATING_LABELS, open_sink, render, take
from pipelines.rules import periods, predikat
from pipelines.rules.pseudonym import load_key, pseudonym, pseudonymise

__all__ = [
    "DEFAULT_KEY",
    "EMPLOYEE_PERIOD_SCHEMA",
    "INDICATOR_YEAR_SCHEMA",
    "SCENARIOS",
    "Scenario",
    "build_scenario",
    "rater_key",
    "write_scenario",
]

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

# quarterly_gap: predikat shares (SB, Baik, BP, KM, SK) of women and men in the planted
# agency; together they make 'Baik' organisation shares (Baik ~61%, SB ~16%).
GAP_WOMEN = (0.06, 0.70, 0.15, 0.07, 0.02)
GAP_MEN = (0.24, 0.52, 0.15, 0.07, 0.02)
# lenient_rater: deserved shares in the planted agency, low enough in Sangat Baik that the
# raised team still leaves a 'Baik' curve (Baik > 50%).
LENIENT_DESERVED = (0.08, 0.68, 0.16, 0.06, 0.02)

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
class _Draw:
    """One agency's people and their predikat codes and latent performance per year/period."""

    agency: Agency
    people: pl.DataFrame
    latent: np.ndarray  # (n, years, periods)
    pred: np.ndarray  # (n, years, periods), codes into PREDIKAT


# ---------------------------------------------------------------- people and teams


def _agency(index: int, pemda: str, kind: str, n: int) -> Agency:
    return Agency(
        index=index,
        kode_opd=f"{pemda}-{kind}",
        nama_opd=catalog.AGENCY_TYPES[kind][0],
        pemda_code=pemda,
        pemda=dict(catalog.PEMDA)[pemda],
        kind=kind,
        n_employees=n,
    )


def _female_share(kind: str) -> float:
    """Same mix as the sample generator: schools and health are mostly women."""
    return 0.62 if kind in ("DISDIK", "DINKES") else 0.45


def _even_teams(n: int) -> int:
    """Raters for teams of about 15 (at least 3, so the head's team is not tiny)."""
    return max(3, round((n - 1) / 16))


def _teams_balanced(rng: np.random.Generator, order: np.ndarray, k: int) -> np.ndarray:
    """Deal staff in the given order round the k teams, each round in a random team order,
    so every team gets one of each consecutive block (balanced on what `order` sorts by)."""
    team = np.empty(len(order), dtype=np.int64)
    for start in range(0, len(order), k):
        block = order[start : start + k]
        team[block] = rng.permutation(k)[: len(block)]
    return team


def _random_sizes(
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


def _rater_idx(k: int, team_of_staff: np.ndarray) -> np.ndarray:
    """Rater index per position: head (0) has none, raters 1..k report to the head, staff
    (positions k+1..) to rater 1 + their team."""
    return np.concatenate([[-1], np.zeros(k, dtype=np.int64), 1 + team_of_staff])


def _people(
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


def _latent(rng: np.random.Generator, ability: np.ndarray, periods: tuple[str, ...]) -> np.ndarray:
    """Performance per employee, year and period: a persistent employee effect plus a
    year effect plus period noise (smaller for the annual period, which sums up the year),
    so strong employees stay strong across quarters and years."""
    n = len(ability)
    year = 0.3 * rng.standard_normal((n, len(YEARS), 1))
    sd = np.array([0.2 if p == ANNUAL else 0.45 for p in periods])
    noise = sd * rng.standard_normal((n, len(YEARS), len(periods)))
    return ability[:, None, None] + year + noise


def _centre_by_gender(ability: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """Equal mean ability for women and men, so no chance gap in achievement or predikat."""
    out = ability.copy()
    for g in (1, 2):
        at = gender == g
        if at.any():
            out[at] -= out[at].mean()
    return out


def _rank_all(latent: np.ndarray, counts_for: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Predikat by rank of latent within each year-period, quotas from counts_for(index)."""
    n, n_years, n_periods = latent.shape
    pred = np.empty(latent.shape, dtype=np.int8)
    index = np.arange(n)
    for y in range(n_years):
        for p in range(n_periods):
            pred[:, y, p] = assign_by_rank(latent[:, y, p], counts_for(index))
    return pred


# ---------------------------------------------------------------- the three scenarios


def _quarterly_gap(seed: int, key: bytes) -> Scenario:
    """(a) Quarterly periods only; in PSP-DINKES (300 people, 150 women) women get Sangat
    Baik ~6% of the time, men ~24%, in every quarter, at equal achievement. Predikat are
    ranked within gender in every agency (the other agencies with equal shares), so
    nothing but the planted gap separates women and men."""
    name = "quarterly_gap"
    plan = [
        ("PSP", "DINKES", 300),
        ("PSP", "DISDIK", 95),
        ("PSP", "DISDUKCAPIL", 60),
        ("PSP", "BKPSDM", 45),
        ("MNA", "DISDIK", 90),
        ("MNA", "DINKES", 75),
        ("MNA", "DISHUB", 55),
        ("MNA", "DPMPTSP", 60),
    ]
    planted = "PSP-DINKES"
    periods = QUARTERS
    issued: set[int] = set()
    draws = []
    for i, (pemda, kind, n) in enumerate(plan):
        agency = _agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        if agency.kode_opd == planted:
            gender = rng.permutation(np.repeat([1, 2], [n - n // 2, n // 2]))
        else:
            gender = np.where(rng.random(n) < _female_share(kind), 2, 1)
        ability = _centre_by_gender(rng.standard_normal(n), gender)
        k = _even_teams(n)
        staff = np.arange(k + 1, n)
        # Women first, then men, each shuffled: every team gets its share of both.
        order = np.concatenate(
            [rng.permutation(np.flatnonzero(gender[staff] == g)) for g in (2, 1)]
        )
        team = _teams_balanced(rng, order, k)
        people = _people(rng, agency, gender, ability, _rater_idx(k, team), issued)
        latent = _latent(rng, ability, periods)
        shares = {2: GAP_WOMEN, 1: GAP_MEN} if agency.kode_opd == planted else None
        pred = np.empty(latent.shape, dtype=np.int8)
        for g in (1, 2):
            at = np.flatnonzero(gender == g)
            counts = quota(len(at), shares[g] if shares else SHARES["Baik"])
            pred[at] = _rank_all(latent[at], lambda _, c=counts: c)
        draws.append(_Draw(agency, people, latent, pred))

    org = {(d.agency.kode_opd, y): "Baik" for d in draws for y in YEARS}

    def planted_truth(frames: dict[str, pl.DataFrame]) -> dict[str, Any]:
        ep = frames["employee_period"].filter(pl.col("kode_opd") == planted)
        rates = (
            ep.group_by("tahun", "gender")
            .agg(
                (pl.col("predikat") == "Sangat Baik").mean().alias("all_quarters"),
                (pl.col("predikat") == "Sangat Baik")
                .filter(pl.col("periode") == "TW IV")
                .mean()
                .alias("last_quarter"),
                pl.col("mean_achievement").mean().alias("achievement"),
            )
            .sort("tahun", "gender")
        )

        def rate(year: int, g: str, column: str) -> float:
            row = rates.filter((pl.col("tahun") == year) & (pl.col("gender") == g))
            return round(float(row[column][0]), 4)

        return {
            "group_disparity": [
                {
                    "tahun": year,
                    "kode_opd": planted,
                    "dimension": "gender",
                    "subject": "P",
                    "reference": "L",
                    "outcome": "top_band",
                    "direction": "lower",
                    "target_rate": GAP_WOMEN[SB],
                    "target_reference_rate": GAP_MEN[SB],
                    "rate_last_quarter": rate(year, "P", "last_quarter"),
                    "reference_rate_last_quarter": rate(year, "L", "last_quarter"),
                    "rate_all_quarters": rate(year, "P", "all_quarters"),
                    "reference_rate_all_quarters": rate(year, "L", "all_quarters"),
                    "mean_achievement": rate(year, "P", "achievement"),
                    "reference_mean_achievement": rate(year, "L", "achievement"),
                    "detail": "a rating gap at equal achievement, in every quarter (so also "
                    "in TW IV, the employee-year when there is no TAHUNAN period)",
                }
                for year in YEARS
            ],
            "rater": [],
            "indicator_disparity": [],
            "notes": [
                "no TAHUNAN rows: an employee-year is only visible through its quarters",
                "predikat are ranked within gender in every agency; outside "
                f"{planted} women and men have the same predikat shares (up to rounding)",
                f"pooled over agencies, women's top-band rate is lower only through {planted}",
                "rater teams are balanced by gender; achievement does not depend on gender",
            ],
        }

    return _assemble(name, seed, key, periods, draws, org, planted_truth)


def _lenient_rater(seed: int, key: bytes) -> Scenario:
    """(b) Annual and quarterly periods; in PSP-DISDIK (head, 4 raters, 60 staff in teams
    of 15) one rater gives every ratee one predikat category more than deserved, in every
    period. Teams everywhere are balanced on ability, so no other rater stands out."""
    name = "lenient_rater"
    # (pemda, kind, n, raters, organisation predikat)
    plan = [
        ("PSP", "DISDIK", 65, 4, "Baik"),
        ("PSP", "DINKES", 80, 5, "Baik"),
        ("PSP", "DISDUKCAPIL", 50, 3, "Baik"),
        ("MNA", "DISDIK", 85, 6, "Istimewa"),
        ("MNA", "DINKES", 70, 4, "Baik"),
        ("MNA", "DISHUB", 50, 3, "Baik"),
    ]
    planted = "PSP-DISDIK"
    periods = ALL_PERIODS
    issued: set[int] = set()
    draws = []
    org: dict[tuple[str, int], str] = {}
    lenient: tuple[str, int, str] | None = None  # (kode_opd, rater position, nip)
    for i, (pemda, kind, n, k, org_pred) in enumerate(plan):
        agency = _agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        gender = np.where(rng.random(n) < _female_share(kind), 2, 1)
        ability = _centre_by_gender(rng.standard_normal(n), gender)
        staff = np.arange(k + 1, n)
        order = np.argsort(-ability[staff], kind="stable")  # best first, dealt in blocks of k
        team = _teams_balanced(rng, order, k)
        people = _people(rng, agency, gender, ability, _rater_idx(k, team), issued)
        latent = _latent(rng, ability, periods)
        if agency.kode_opd == planted:
            pred = _rank_all(latent, lambda idx: quota(len(idx), LENIENT_DESERVED))
            rater = int(rng.integers(1, k + 1))
            ratees = people["rater_idx"].to_numpy() == rater
            pred[ratees] = np.maximum(pred[ratees] - 1, 0)
            lenient = (agency.kode_opd, rater, people["nip"][rater])
        else:
            pred = _rank_all(latent, lambda idx, o=org_pred: compliant_quota(len(idx), o))
        draws.append(_Draw(agency, people, latent, pred))
        org |= {(agency.kode_opd, y): org_pred for y in YEARS}
    assert lenient is not None
    kode, _, nip_penilai = lenient

    def planted_truth(frames: dict[str, pl.DataFrame]) -> dict[str, Any]:
        ep = frames["employee_period"].filter(pl.col("kode_opd") == kode)
        rater_key_ = pseudonym(nip_penilai, key)
        score = pl.col("predikat").replace_strict(predikat.SCORE, return_dtype=pl.Float64)
        ratee_means = (
            ep.group_by("tahun", "penilai_key", "employee_key")
            .agg(score.mean().alias("score"))
            .with_columns((pl.col("penilai_key") == rater_key_).alias("lenient"))
        )
        entries = []
        for year in YEARS:
            year_means = ratee_means.filter(pl.col("tahun") == year)
            mine = year_means.filter(pl.col("lenient"))
            entries.append(
                {
                    "tahun": year,
                    "kode_opd": kode,
                    "penilai_key": rater_key_,
                    "nip_penilai": nip_penilai,
                    "direction": "lenient",
                    "n_ratees": mine.height,
                    "size": 1,
                    "mean_score": round(float(mine["score"].mean()), 4),
                    "agency_mean_score": round(float(year_means["score"].mean()), 4),
                    "detail": "every ratee's predikat one category higher than deserved "
                    "(Sangat Baik stays Sangat Baik), in every period",
                }
            )
        return {
            "group_disparity": [],
            "rater": entries,
            "indicator_disparity": [],
            "notes": [
                "rater teams are dealt in blocks of similar ability, so teams differ in "
                "deserved performance only by chance within a block",
                "achievement follows deserved performance: the lenient rater's ratees do not "
                "achieve more",
                AGENCY_NOTE,
            ],
        }

    return _assemble(name, seed, key, periods, draws, org, planted_truth)


def _null_ceiling(seed: int, key: bytes) -> Scenario:
    """(c) Nothing planted: ~600 people in 10 agencies, 8 'Istimewa' (60% Sangat Baik),
    2 'Baik' (20%), so about half at the ceiling; random teams of 3..30; gender, age and
    position independent of ability; achievement follows ability only."""
    name = "null_ceiling"
    plan = [
        ("PSP", "DISDIK", 110, "Istimewa"),
        ("PSP", "DINKES", 90, "Istimewa"),
        ("PSP", "DISDUKCAPIL", 45, "Istimewa"),
        ("PSP", "DPMPTSP", 40, "Istimewa"),
        ("PSP", "DINSOS", 35, "Baik"),
        ("PSP", "BKPSDM", 30, "Istimewa"),
        ("MNA", "DISDIK", 95, "Istimewa"),
        ("MNA", "DINKES", 70, "Istimewa"),
        ("MNA", "DISHUB", 45, "Baik"),
        ("MNA", "DPMPTSP", 40, "Istimewa"),
    ]
    periods = ALL_PERIODS
    issued: set[int] = set()
    draws = []
    org: dict[tuple[str, int], str] = {}
    for i, (pemda, kind, n, org_pred) in enumerate(plan):
        agency = _agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        gender = np.where(rng.random(n) < _female_share(kind), 2, 1)
        ability = rng.standard_normal(n)
        # The first (largest) agency has a team of 30 and one of 3: the range is always met.
        fixed = (30, 3) if i == 0 else ()
        k_lo = max(3, -(-(n - 1) // 31))
        k_hi = min(30, (n - 1) // 4)
        k = 6 if fixed else int(rng.integers(k_lo, min(k_hi, k_lo + 6) + 1))
        sizes = _random_sizes(rng, n - 1 - k, k, 3, 30, fixed)
        team = np.empty(n - 1 - k, dtype=np.int64)
        team[rng.permutation(n - 1 - k)] = np.repeat(np.arange(k), sizes)
        people = _people(rng, agency, gender, ability, _rater_idx(k, team), issued)
        latent = _latent(rng, ability, periods)
        pred = _rank_all(latent, lambda idx, o=org_pred: compliant_quota(len(idx), o))
        draws.append(_Draw(agency, people, latent, pred))
        org |= {(agency.kode_opd, y): org_pred for y in YEARS}

    def planted_truth(frames: dict[str, pl.DataFrame]) -> dict[str, Any]:
        annual = frames["employee_period"].filter(pl.col("periode") == ANNUAL)
        return {
            "group_disparity": [],
            "rater": [],
            "indicator_disparity": [],
            "sangat_baik_share_annual": round(
                float((annual["predikat"] == "Sangat Baik").mean()), 4
            ),
            "notes": [
                "nothing planted: any significant finding is a false positive",
                "raters are assigned at random (teams of 3..30); gender and age are drawn "
                "independently of ability, so chance differences remain (not centred)",
                AGENCY_NOTE,
            ],
        }

    return _assemble(name, seed, key, periods, draws, org, planted_truth)


SCENARIOS: dict[str, Callable[[int, bytes], Scenario]] = {
    "quarterly_gap": _quarterly_gap,
    "lenient_rater": _lenient_rater,
    "null_ceiling": _null_ceiling,
}


# ---------------------------------------------------------------- rows and frames


def _rows(rng: np.random.Generator, draw: _Draw, periods: tuple[str, ...]) -> pl.DataFrame:
    """Typed assessment export rows (employee x year x period x indicator) of one agency.

    Ratings are a matrix cell that gives the predikat; achievement follows latent
    performance (not the predikat or any group), as in the sample generator."""
    agency, people, pred = draw.agency, draw.people, draw.pred
    n, n_years, n_periods = pred.shape
    k = N_INDICATORS
    hasil, perilaku = _ratings(rng, pred)
    lo, hi = SCORE_RANGE[pred, 0], SCORE_RANGE[pred, 1]
    atasan = np.round(lo + (hi - lo) * rng.random(pred.shape), 1)
    mandiri = np.round(np.clip(atasan + rng.normal(4, 5, pred.shape), 0, 120), 1)
    ach = 0.97 + 0.06 * draw.latent[..., None] + 0.05 * rng.standard_normal((*pred.shape, k))
    ach = np.clip(ach, 0.2, 1.4)
    indicators = catalog.INDICATORS[agency.kind]
    percent = np.array([u == "%" for _, u, _ in indicators])
    annual = np.stack(
        [
            np.array(ch, dtype=float)[rng.integers(0, len(ch), (n, n_years))]
            for *_, ch in indicators
        ],
        axis=-1,
    )  # (n, years, indicator)
    quarterly = np.where(percent, annual, np.ceil(annual / 4))
    is_annual = np.array([p == ANNUAL for p in periods])[None, None, :, None]
    target = np.where(is_annual, annual[:, :, None, :], quarterly[:, :, None, :])
    # Not rounded to whole units: with small quarterly targets (3 documents) rounding makes
    # an indicator easier to meet than its siblings, an indicator-difficulty effect the
    # scenarios do not plant.
    realisasi = np.round(target * ach, 2)

    y_idx, e_idx, p_idx, k_idx = (a.ravel() for a in np.indices((n_years, n, n_periods, k)))
    at = (e_idx, y_idx, p_idx)
    gather = pl.Series(e_idx)
    zeros = np.zeros(len(e_idx), dtype=np.int64)
    return pl.DataFrame(
        {
            "nip": people["nip"].gather(gather),
            "nama": people["nama"].gather(gather),
            "kode_opd": take([agency.kode_opd], zeros),
            "nama_opd": take([agency.nama_opd], zeros),
            "unit_kerja": people["unit_kerja"].gather(gather),
            "jabatan": people["jabatan"].gather(gather),
            "jenis_jabatan": people["jenis_jabatan"].gather(gather),
            "golongan": people["golongan"].gather(gather),
            "tahun": np.array(YEARS, dtype=np.int64)[y_idx],
            "periode": take(periods, p_idx),
            "kode_indikator": take([_kode(agency, j) for j in range(k)], k_idx),
            "indikator": take([i for i, _, _ in indicators], k_idx),
            "target": target[(*at, k_idx)],
            "realisasi": realisasi[(*at, k_idx)],
            "satuan": take([u for _, u, _ in indicators], k_idx),
            "nilai_mandiri": mandiri[at],
            "nilai_atasan": atasan[at],
            "rating_hasil_kerja": take(RATING_LABELS, hasil[at]),
            "rating_perilaku": take(RATING_LABELS, perilaku[at]),
            "predikat": take(PREDIKAT, pred[at]),
            "nip_penilai": people["nip_penilai"].gather(gather),
        }
    )


def _employee_period(rows: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """int_employee_period from export rows, the way dbt builds it (first row's employee
    fields, means over the indicator rows, gender and age band from the NIP)."""
    info = pl.DataFrame(
        {
            "periode": list(PERIOD_INFO),
            "triwulan": [v[0] for v in PERIOD_INFO.values()],
            "period_kind": [v[1] for v in PERIOD_INFO.values()],
            "end_month": [v[2] for v in PERIOD_INFO.values()],
        },
        schema_overrides={"triwulan": pl.Int32, "end_month": pl.Int32},
    )
    age = pl.col("tahun") - pl.col("nip").str.slice(0, 4).cast(pl.Int32)
    per = (
        rows.with_columns(
            (pl.col("realisasi") / pl.col("target")).alias("achievement"),
            (pl.col("nilai_mandiri") - pl.col("nilai_atasan")).alias("gap"),
        )
        .group_by("nip", "tahun", "periode", maintain_order=True)
        .agg(
            pl.col(
                "kode_opd",
                "golongan",
                "jenis_jabatan",
                "rating_hasil_kerja",
                "rating_perilaku",
                "predikat",
                "nip_penilai",
            ).first(),
            pl.col("achievement").mean().alias("mean_achievement"),
            pl.col("gap").mean().alias("mean_self_supervisor_gap"),
        )
        .with_columns(pl.col("tahun").cast(pl.Int32))
        .join(info, on="periode", how="left")
    )
    return per.select(
        pseudonymise(per["nip"], key).alias("employee_key"),
        "tahun",
        "periode",
        "triwulan",
        "period_kind",
        pl.date(pl.col("tahun"), pl.col("end_month"), 1).dt.month_end().alias("period_end_date"),
        "kode_opd",
        "golongan",
        "jenis_jabatan",
        pl.col("nip").str.slice(14, 1).replace_strict({"1": "L", "2": "P"}).alias("gender"),
        pl.when(age < 30)
        .then(pl.lit("<30"))
        .when(age < 40)
        .then(pl.lit("30-39"))
        .when(age < 50)
        .then(pl.lit("40-49"))
        .otherwise(pl.lit("50+"))
        .alias("age_band"),
        "rating_hasil_kerja",
        "rating_perilaku",
        "predikat",
        "mean_achievement",
        "mean_self_supervisor_gap",
        pseudonymise(per["nip_penilai"], key).alias("penilai_key"),
    ).cast(EMPLOYEE_PERIOD_SCHEMA)


def _indicator_year(rows: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """int_employee_indicator_year: mean achievement over the periods of the year."""
    per = (
        rows.group_by("tahun", "kode_opd", "kode_indikator", "nip", maintain_order=True)
        .agg((pl.col("realisasi") / pl.col("target")).mean().alias("achievement"))
        .with_columns(pl.col("tahun").cast(pl.Int32))
    )
    return per.select(
        "tahun",
        "kode_opd",
        "kode_indikator",
        pseudonymise(per["nip"], key).alias("employee_key"),
        "achievement",
    ).cast(INDICATOR_YEAR_SCHEMA)


def _curve(
    draws: list[_Draw], periods: tuple[str, ...], org: dict[tuple[str, int], str]
) -> list[dict[str, Any]]:
    """Distribution-curve compliance (docs/domain.md, ## Distribution curve) of the written
    predikat per agency-year: the annual period's (what mart_distribution_curve judges; None
    without TAHUNAN) and which periods break it."""
    out = []
    for d in draws:
        for y, year in enumerate(YEARS):
            value = org[d.agency.kode_opd, year]
            ok = {
                p: bool(complies(np.bincount(d.pred[:, y, j], minlength=len(PREDIKAT)), value))
                for j, p in enumerate(periods)
            }
            out.append(
                {
                    "kode_opd": d.agency.kode_opd,
                    "tahun": year,
                    "predikat_organisasi": value,
                    "complies_annual": ok.get(ANNUAL),
                    "noncompliant_periods": [p for p, good in ok.items() if not good],
                }
            )
    return out


def _assemble(
    name: str,
    seed: int,
    key: bytes,
    periods: tuple[str, ...],
    draws: list[_Draw],
    org: dict[tuple[str, int], str],
    planted_truth: Callable[[dict[str, pl.DataFrame]], dict[str, Any]],
) -> Scenario:
    """Rows from the draws, frames from the rows, truth from the frames."""
    rows = pl.concat(
        [_rows(stream(seed, f"scenario-{name}-rows", d.agency.index), d, periods) for d in draws]
    ).sort("tahun", maintain_order=True)
    employee_period = _employee_period(rows, key)
    indicator_year = _indicator_year(rows, key)
    agencies = pl.DataFrame(
        {
            "kode_opd": [d.agency.kode_opd for d in draws],
            "nama_opd": [d.agency.nama_opd for d in draws],
            "pemda": [d.agency.pemda for d in draws],
        }
    )
    predikat_organisasi = pl.DataFrame(
        [(k, y, v) for (k, y), v in org.items()],
        schema={"kode_opd": pl.String, "tahun": pl.Int32, "predikat_organisasi": pl.String},
        orient="row",
    )
    people = pl.concat([d.people for d in draws])
    employees = people.select(
        pseudonymise(people["nip"], key).alias("employee_key"),
        pseudonymise(people["nip_penilai"], key).alias("penilai_key"),
        pl.all().exclude("rater_idx"),
    )
    curve = _curve(draws, periods, org)
    truth: dict[str, Any] = {
        "scenario": name,
        "seed": seed,
        "years": list(YEARS),
        "periods": list(periods),
        "agencies": agencies.height,
        "employees": employees.height,
        "employee_periods": employee_period.height,
        "export_rows": rows.height,
        "description": " ".join((SCENARIOS[name].__doc__ or "").split()),
        **planted_truth({"employee_period": employee_period}),
        "curve": curve,
        "curve_noncompliant": [
            {k: c[k] for k in ("kode_opd", "tahun", "predikat_organisasi")}
            for c in curve
            if c["complies_annual"] is False
        ],
    }
    return Scenario(
        name=name,
        seed=seed,
        employee_period=employee_period,
        indicator_year=indicator_year,
        predikat_organisasi=predikat_organisasi,
        truth=truth,
        agencies=agencies,
        employees=employees,
        rows=rows,
    )


# ---------------------------------------------------------------- public API


def build_scenario(name: str, seed: int = 0, key: bytes = DEFAULT_KEY) -> Scenario:
    """The scenario as warehouse-shaped frames. Pass ``key=load_key(data_dir)`` to get the
    keys the pipeline computes on a directory written by ``write_scenario``."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name](seed, key)


def rater_key(nip_penilai: str, data_dir: Path) -> str:
    """The penilai_key the pipeline computes for a rater NIP on data_dir."""
    return pseudonym(nip_penilai, load_key(Path(data_dir)))


def write_scenario(name: str, data_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Write the scenario's assessment exports and reference files under data_dir (plus
    truth.json) and return the truth, keyed with the pseudonyms the pipeline will compute.

    raw/assessments, raw/surveys, raw/training and reference/ are replaced, so no file of
    an earlier sample survives; surveys and training stay empty, and
    reference/service_population.csv is the sample generator's (the pipeline needs it).
    """
    data_dir = Path(data_dir)
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    for sub in ("raw/assessments", "raw/surveys", "raw/training", "reference"):
        shutil.rmtree(data_dir / sub, ignore_errors=True)
        (data_dir / sub).mkdir(parents=True)
    scenario = build_scenario(name, seed, key=load_key(data_dir))

    files = []
    rows = scenario.rows.with_columns(
        pl.col("kode_opd").str.split("-").list.first().str.to_lowercase().alias("_pemda")
    )
    for (pemda, year), part in rows.group_by("_pemda", "tahun", maintain_order=True):
        path = data_dir / "raw" / "assessments" / f"assessments_{pemda}_{year}.csv"
        sink = open_sink(path, PLAIN, ASSESSMENT_COLUMNS, set(), set())
        sink.write(render(part.select(ASSESSMENT_COLUMNS), PLAIN))
        sink.close()
        files.append({"path": path.relative_to(data_dir).as_posix(), "rows": sink.rows})

    ref = data_dir / "reference"
    scenario.agencies.write_csv(ref / "agencies.csv")
    scenario.predikat_organisasi.rename({"predikat_organisasi": "predikat"}).write_csv(
        ref / "predikat_organisasi.csv"
    )
    # No surveys, but the pipeline requires the file (and rejects a header without rows).
    agencies = [
        _agency(i, *code.split("-", 1), 0) for i, code in enumerate(scenario.agencies["kode_opd"])
    ]
    service_population(seed, agencies, YEARS).write_csv(ref / "service_population.csv")
    truth = {
        **scenario.truth,
        "pseudonym_key": "KINERJA_PSEUDONYM_KEY if set when written, else "
        "<data_dir>/.pseudonym_key: run the pipeline with the same key",
        "files": sorted(files, key=lambda f: f["path"]),
    }
    (data_dir / "truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return truth
