"""Scenario ``quarterly_gap``: a gender gap in Sangat Baik at equal achievement, visible
through quarterly periods only (no TAHUNAN)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.generate.curve import SB, SHARES, quota
from pipelines.generate.rng import stream
from pipelines.generate.scenarios.common import (
    QUARTERS,
    YEARS,
    Draw,
    Scenario,
    centre_by_gender,
    draw_latent,
    draw_people,
    even_teams,
    female_share,
    make_agency,
    rank_all,
    rater_index,
    teams_balanced,
)
from pipelines.generate.scenarios.frames import assemble

# Predikat shares (SB, Baik, BP, KM, SK) of women and men in the planted agency; together
# they make 'Baik' organisation shares (Baik ~61%, SB ~16%).
GAP_WOMEN = (0.06, 0.70, 0.15, 0.07, 0.02)
GAP_MEN = (0.24, 0.52, 0.15, 0.07, 0.02)


def quarterly_gap(seed: int, key: bytes) -> Scenario:
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
        agency = make_agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        if agency.kode_opd == planted:
            gender = rng.permutation(np.repeat([1, 2], [n - n // 2, n // 2]))
        else:
            gender = np.where(rng.random(n) < female_share(kind), 2, 1)
        ability = centre_by_gender(rng.standard_normal(n), gender)
        k = even_teams(n)
        staff = np.arange(k + 1, n)
        # Women first, then men, each shuffled: every team gets its share of both.
        order = np.concatenate(
            [rng.permutation(np.flatnonzero(gender[staff] == g)) for g in (2, 1)]
        )
        team = teams_balanced(rng, order, k)
        people = draw_people(rng, agency, gender, ability, rater_index(k, team), issued)
        latent = draw_latent(rng, ability, periods)
        shares = {2: GAP_WOMEN, 1: GAP_MEN} if agency.kode_opd == planted else None
        pred = np.empty(latent.shape, dtype=np.int8)
        for g in (1, 2):
            at = np.flatnonzero(gender == g)
            counts = quota(len(at), shares[g] if shares else SHARES["Baik"])
            pred[at] = rank_all(latent[at], lambda _, c=counts: c)
        draws.append(Draw(agency, people, latent, pred))

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

    return assemble(name, seed, key, periods, draws, org, planted_truth, quarterly_gap.__doc__)
