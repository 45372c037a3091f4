"""Scenario ``null_ceiling``: nothing planted, about half of the employees at Sangat Baik,
so that every finding on it is a false positive."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.generate.curve import compliant_quota
from pipelines.generate.rng import stream
from pipelines.generate.scenarios.common import (
    AGENCY_NOTE,
    ALL_PERIODS,
    ANNUAL,
    YEARS,
    Draw,
    Scenario,
    draw_latent,
    draw_people,
    female_share,
    make_agency,
    random_sizes,
    rank_all,
    rater_index,
)
from pipelines.generate.scenarios.frames import assemble


def null_ceiling(seed: int, key: bytes) -> Scenario:
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
        agency = make_agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        gender = np.where(rng.random(n) < female_share(kind), 2, 1)
        ability = rng.standard_normal(n)
        # The first (largest) agency has a team of 30 and one of 3: the range is always met.
        fixed = (30, 3) if i == 0 else ()
        k_lo = max(3, -(-(n - 1) // 31))
        k_hi = min(30, (n - 1) // 4)
        k = 6 if fixed else int(rng.integers(k_lo, min(k_hi, k_lo + 6) + 1))
        sizes = random_sizes(rng, n - 1 - k, k, 3, 30, fixed)
        team = np.empty(n - 1 - k, dtype=np.int64)
        team[rng.permutation(n - 1 - k)] = np.repeat(np.arange(k), sizes)
        people = draw_people(rng, agency, gender, ability, rater_index(k, team), issued)
        latent = draw_latent(rng, ability, periods)
        pred = rank_all(latent, lambda idx, o=org_pred: compliant_quota(len(idx), o))
        draws.append(Draw(agency, people, latent, pred))
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

    return assemble(name, seed, key, periods, draws, org, planted_truth, null_ceiling.__doc__)
