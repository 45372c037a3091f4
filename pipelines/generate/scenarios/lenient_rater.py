"""Scenario ``lenient_rater``: one rater raises every ratee one predikat category, in every
period of both years."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pipelines.generate.curve import compliant_quota, quota
from pipelines.generate.rng import stream
from pipelines.generate.scenarios.common import (
    AGENCY_NOTE,
    ALL_PERIODS,
    YEARS,
    Draw,
    Scenario,
    centre_by_gender,
    draw_latent,
    draw_people,
    female_share,
    make_agency,
    rank_all,
    rater_index,
    teams_balanced,
)
from pipelines.generate.scenarios.frames import assemble
from pipelines.rules import predikat
from pipelines.rules.pseudonym import pseudonym

# Deserved shares in the planted agency, low enough in Sangat Baik that the raised team
# still leaves a 'Baik' curve (Baik > 50%).
LENIENT_DESERVED = (0.08, 0.68, 0.16, 0.06, 0.02)


def lenient_rater(seed: int, key: bytes) -> Scenario:
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
        agency = make_agency(i, pemda, kind, n)
        rng = stream(seed, f"scenario-{name}", i)
        gender = np.where(rng.random(n) < female_share(kind), 2, 1)
        ability = centre_by_gender(rng.standard_normal(n), gender)
        staff = np.arange(k + 1, n)
        order = np.argsort(-ability[staff], kind="stable")  # best first, dealt in blocks of k
        team = teams_balanced(rng, order, k)
        people = draw_people(rng, agency, gender, ability, rater_index(k, team), issued)
        latent = draw_latent(rng, ability, periods)
        if agency.kode_opd == planted:
            pred = rank_all(latent, lambda idx: quota(len(idx), LENIENT_DESERVED))
            rater = int(rng.integers(1, k + 1))
            ratees = people["rater_idx"].to_numpy() == rater
            pred[ratees] = np.maximum(pred[ratees] - 1, 0)
            lenient = (agency.kode_opd, rater, people["nip"][rater])
        else:
            pred = rank_all(latent, lambda idx, o=org_pred: compliant_quota(len(idx), o))
        draws.append(Draw(agency, people, latent, pred))
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

    return assemble(name, seed, key, periods, draws, org, planted_truth, lenient_rater.__doc__)
