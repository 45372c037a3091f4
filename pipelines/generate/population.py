"""Agencies and employees: who exists, their NIPs, positions, grades and supervisors.

Employees are generated one agency at a time so memory stays bounded at any scale; NIPs are
kept unique across agencies with a small registry of the integer NIPs already issued.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generate import catalog
from pipelines.generate.curve import MIN_AGENCY_SIZE
from pipelines.generate.rng import stream


@dataclass(frozen=True)
class Agency:
    index: int
    kode_opd: str
    nama_opd: str
    pemda_code: str
    pemda: str
    kind: str  # agency type key in catalog.AGENCY_TYPES, e.g. 'DISDIK'
    n_employees: int


def build_agencies(employees: int) -> list[Agency]:
    """Split the headcount over the fixed agencies by weight (largest remainder, minimum 8)."""
    keys = [(p, k) for p, _ in catalog.PEMDA for k in catalog.AGENCIES_BY_PEMDA[p]]
    if employees < MIN_AGENCY_SIZE * len(keys):
        raise ValueError(f"employees must be >= {MIN_AGENCY_SIZE * len(keys)}")
    weights = np.array(
        [
            catalog.PEMDA_SHARE[p]
            * catalog.AGENCY_TYPES[k][1]
            / sum(catalog.AGENCY_TYPES[x][1] for x in catalog.AGENCIES_BY_PEMDA[p])
            for p, k in keys
        ]
    )
    spare = employees - MIN_AGENCY_SIZE * len(keys)
    raw = weights / weights.sum() * spare
    sizes = np.floor(raw).astype(int)
    sizes[np.argsort(-(raw - sizes), kind="stable")[: spare - sizes.sum()]] += 1
    sizes += MIN_AGENCY_SIZE
    pemda_names = dict(catalog.PEMDA)
    return [
        Agency(
            index=i,
            kode_opd=f"{p}-{k}",
            nama_opd=catalog.AGENCY_TYPES[k][0],
            pemda_code=p,
            pemda=pemda_names[p],
            kind=k,
            n_employees=int(sizes[i]),
        )
        for i, (p, k) in enumerate(keys)
    ]


def _supervisor_tree(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first tree: parent index (-1 for the head) and depth; each node has 5..15 reports."""
    fanout = rng.integers(5, 16, size=n)
    fanout[0] = rng.integers(4, 8)
    parent = np.full(n, -1, dtype=np.int64)
    parent[1:] = np.repeat(np.arange(n), fanout)[: n - 1]
    depth = np.zeros(n, dtype=np.int64)
    for _ in range(64):
        new = np.where(parent >= 0, depth[parent] + 1, 0)
        if np.array_equal(new, depth):
            break
        depth = new
    return parent, depth


def _unique_nips(rng: np.random.Generator, base: np.ndarray, issued: set[int]) -> np.ndarray:
    """Add a 3-digit sequence (001..999) to base NIPs (seq digits zero) avoiding collisions."""
    nip = base + rng.integers(1, 1000, size=len(base))
    for _ in range(100):
        _, first = np.unique(nip, return_index=True)
        dup = np.ones(len(nip), dtype=bool)
        dup[first] = False
        dup |= np.fromiter((int(x) in issued for x in nip), dtype=bool, count=len(nip)) & ~dup
        if not dup.any():
            break
        nip[dup] = base[dup] + rng.integers(1, 1000, size=int(dup.sum()))
    issued.update(int(x) for x in nip)
    return nip


def build_employees(seed: int, agency: Agency, issued: set[int]) -> pl.DataFrame:
    """All employees of one agency, in supervisor-tree order (index 0 is the agency head)."""
    rng = stream(seed, "employees", agency.index)
    n = agency.n_employees
    parent, depth = _supervisor_tree(rng, n)
    has_reports = np.bincount(parent[parent >= 0], minlength=n) > 0

    # Roles: 0 JPT, 1 Administrator, 2 Pengawas, 3 Fungsional, 4 Pelaksana
    role = np.where(depth == 0, 0, np.where(depth == 1, 1, np.where(has_reports, 2, 3)))
    leaf = role == 3
    role = np.where(leaf & (rng.random(n) < 0.45), 4, role)
    jenis_jabatan = np.array(["JPT", "Administrator", "Pengawas", "Fungsional", "Pelaksana"])[role]
    pppk = (role == 3) & (rng.random(n) < 0.03)

    lo_year = np.array([1966, 1966, 1968, 1966, 1966])[role]
    hi_year = np.array([1975, 1980, 1985, 2000, 2000])[role]
    lo_year = np.where(pppk, 1975, lo_year)
    birth_year = rng.integers(lo_year, hi_year + 1)
    birth_month = rng.integers(1, 13, size=n)
    birth_day = np.minimum(rng.integers(1, 32, size=n), _days_in_month(birth_year, birth_month))
    appt_year = np.minimum(birth_year + 19 + rng.integers(0, 16, size=n), 2022)
    appt_month = rng.integers(1, 13, size=n)
    appt_year = np.where(pppk, rng.integers(2019, 2024, size=n), appt_year)
    appt_month = np.where(pppk, 21, appt_month)  # PPPK layout: the literal '21' in the month
    p_female = 0.62 if agency.kind in ("DISDIK", "DINKES") else 0.45
    gender = np.where(rng.random(n) < p_female, 2, 1)
    birth = birth_year * 10_000 + birth_month * 100 + birth_day
    base = (birth * 1_000_000 + appt_year * 100 + appt_month) * 10_000 + gender * 1000
    nip = _unique_nips(rng, base.astype(np.int64), issued)

    golongan_lo = np.array([14, 12, 10, 8, 4])[role]
    golongan_hi = np.array([15, 13, 11, 12, 9])[role]
    golongan_lo = np.where(pppk, 8, golongan_lo)
    golongan_hi = np.where(pppk, 9, golongan_hi)
    golongan = np.array(catalog.GOLONGAN)[rng.integers(golongan_lo, golongan_hi + 1)]

    # Division = the depth-1 ancestor; its rank among depth-1 nodes picks the bidang name.
    division = np.arange(n)
    for _ in range(64):
        step = np.where(depth[division] > 1, parent[division], division)
        if np.array_equal(step, division):
            break
        division = step
    rank = np.cumsum(depth == 1) - 1
    bidang = np.array(
        [
            catalog.BIDANG[k % len(catalog.BIDANG)]
            + ("" if k < len(catalog.BIDANG) else f" {k // len(catalog.BIDANG) + 1}")
            for k in range(max(int((depth == 1).sum()), 1))
        ]
    )
    unit_kerja = np.where(depth == 0, agency.nama_opd, bidang[np.maximum(rank[division], 0)])

    jpt_title, fungsional = (
        catalog.AGENCY_TYPES[agency.kind][2],
        catalog.AGENCY_TYPES[agency.kind][3],
    )
    admin_title = np.where(unit_kerja == "Sekretariat", "Sekretaris", "Kepala " + unit_kerja)
    pengawas_title = (
        np.array(catalog.PENGAWAS_TITLES)[rng.integers(0, 2, size=n)]
        + " "
        + np.array(["Pelayanan", "Data", "Perencanaan", "Pengendalian", "Umum"])[
            rng.integers(0, 5, size=n)
        ]
    )
    jabatan = np.select(
        [role == 0, role == 1, role == 2, role == 3],
        [
            np.full(n, jpt_title, dtype=object),
            admin_title.astype(object),
            pengawas_title.astype(object),
            np.array(fungsional, dtype=object)[rng.integers(0, len(fungsional), size=n)],
        ],
        default=np.array(catalog.PELAKSANA_TITLES, dtype=object)[
            rng.integers(0, len(catalog.PELAKSANA_TITLES), size=n)
        ],
    )

    first, last, degree = draw_names(rng, gender)
    nip_str = pl.Series("nip", nip).cast(pl.String)
    return pl.DataFrame(
        {
            "nip": nip_str,
            "nama": pl.Series(first) + " " + pl.Series(last) + pl.Series(degree),
            "gender": gender.astype(np.int8),
            "is_pppk": pppk,
            "jenis_jabatan": jenis_jabatan,
            "jabatan": pl.Series(jabatan.astype(str)),
            "golongan": golongan,
            "unit_kerja": unit_kerja,
            "rater_idx": parent,
            "nip_penilai": pl.Series(np.where(parent >= 0, nip[np.maximum(parent, 0)], 0))
            .cast(pl.String)
            .set(pl.Series(parent < 0), None),
            "ability": rng.standard_normal(n),
        }
    )


def draw_names(
    rng: np.random.Generator, gender: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first name matching the NIP's gender digit, last name, degree suffix) per person."""
    n = len(gender)
    first = np.where(
        gender == 1,
        np.array(catalog.MALE_FIRST)[rng.integers(0, len(catalog.MALE_FIRST), size=n)],
        np.array(catalog.FEMALE_FIRST)[rng.integers(0, len(catalog.FEMALE_FIRST), size=n)],
    )
    last = np.array(catalog.LAST_NAMES)[rng.integers(0, len(catalog.LAST_NAMES), size=n)]
    degree = np.array(catalog.DEGREES)[rng.integers(0, len(catalog.DEGREES), size=n)]
    return first, last, degree


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month]
    return np.where((month == 2) & leap, 29, days)
