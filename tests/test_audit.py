"""The whole audit on the evaluators' three answer-key data sets: (a) quarterly exports only
with a within-agency gender gap, (b) one lenient rater, (c) nothing planted but a ceiling,
repeated employees and teams of 3 to 30. (a) and (b) find exactly what was planted, (c)
finds nothing, and calibration on (c) keeps every family at its level."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.analysis import audit, calibration, findings
from pipelines.analysis.findings_schema import findings_schema
from pipelines.generate.scenarios import Scenario, build_scenario

pytestmark = pytest.mark.xdist_group("audit")


def _inputs(s: Scenario) -> audit.FindingInputs:
    return audit.FindingInputs(s.employee_period, s.indicator_year, s.predikat_organisasi)


@pytest.fixture(scope="module")
def judged() -> dict[str, tuple[Scenario, pl.DataFrame]]:
    out = {}
    for name in ("quarterly_gap", "lenient_rater", "null_ceiling"):
        s = build_scenario(name, 0)
        out[name] = (s, findings_schema.validate(audit.build_findings(_inputs(s), 5)))
    return out


def _found(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("verdict") == findings.FINDING)


def _disadvantages_women(row: dict) -> bool:
    """Does a finding say women fare worse, whatever its measure?"""
    worse_if_high = row["outcome"] is not None and row["outcome"].startswith("bottom_band")
    if row["effect_measure"] == "probability_of_superiority":
        return row["effect"] < 0.5
    return row["effect"] > 1 if worse_if_high else row["effect"] < 1


def test_quarterly_exports_find_the_planted_gap_and_nothing_else(judged) -> None:
    s, frame = judged["quarterly_gap"]
    assert frame.filter(pl.col("family") == "group_disparity").height > 0  # never empty
    bases = frame.filter(pl.col("family") == "group_disparity")["basis"].drop_nulls().unique()
    assert bases.len() and all("TW IV" in b and "TAHUNAN" not in b for b in bases)
    found = _found(frame)
    for planted in s.truth["group_disparity"]:
        hit = found.filter(
            (pl.col("family") == "group_disparity")
            & (pl.col("tahun") == planted["tahun"])
            & (pl.col("kode_opd") == planted["kode_opd"])
            & (pl.col("dimension") == "gender")
            & (pl.col("outcome") == "top_band")
        )
        assert hit.height == 1, planted
        assert hit["effect"][0] == pytest.approx(
            planted["rate_last_quarter"] / planted["reference_rate_last_quarter"], rel=0.01
        )
    planted_agency = s.truth["group_disparity"][0]["kode_opd"]
    for row in found.iter_rows(named=True):
        assert row["family"] in ("group_disparity", "conditional_rating"), row
        assert row["kode_opd"] in (planted_agency, None), row
        assert row["dimension"].startswith("gender"), row
        assert row["subject"].startswith("P"), row
        assert _disadvantages_women(row), row


def test_one_lenient_rater_is_the_only_finding(judged) -> None:
    s, frame = judged["lenient_rater"]
    found = _found(frame)
    planted = {(r["tahun"], r["kode_opd"], r["penilai_key"]) for r in s.truth["rater"]}
    assert set(found.select("tahun", "kode_opd", "subject").iter_rows()) == planted
    assert (found["family"] == "rater").all() and (found["effect"] > 0.5).all()


def test_nothing_planted_nothing_found_with_a_ceiling_and_small_teams(judged) -> None:
    s, frame = judged["null_ceiling"]
    years = fairness_years(s)
    sangat_baik = years.filter(pl.col("predikat") == "Sangat Baik").height / years.height
    assert 0.4 <= sangat_baik <= 0.6  # the ceiling the old rater test stumbled on
    assert _found(frame).is_empty()
    tested = frame.filter(pl.col("verdict") == findings.NO_FINDING)
    assert set(tested["family"]) >= {
        "group_disparity",
        "rater",
        "indicator",
        "indicator_difficulty",
        "conditional_rating",
    }


def fairness_years(s: Scenario) -> pl.DataFrame:
    from pipelines.analysis.fairness import year_outcomes

    return year_outcomes(s.employee_period)


def test_calibration_on_null_data_keeps_every_family_at_its_level() -> None:
    s = build_scenario("null_ceiling", 0)
    table = calibration.calibrate(_inputs(s), runs=30, seed=11)
    print(calibration.markdown(table))
    tested = table.filter(pl.col("units") > 0)
    assert set(tested["family"]) == {
        "group_disparity",
        "rater",
        "indicator",
        "indicator_difficulty",
        "conditional_rating",
    }
    for row in tested.iter_rows(named=True):
        assert row["units"] == 60  # 30 runs x 2 years
        assert row["rate"] <= 0.05 + 1e-9, row
        assert row["rate_ci_high"] <= 0.16, row


def test_permutations_keep_strata_and_only_move_labels() -> None:
    s = build_scenario("null_ceiling", 0)
    period = s.employee_period
    moved = calibration.shuffle_group_labels(period, seed=5)
    assert moved.height == period.height and moved.columns == period.columns
    key = ["tahun", "kode_opd", "golongan"]
    before = period.group_by(key).agg(pl.col("gender").sort()).sort(key)
    after = moved.group_by(key).agg(pl.col("gender").sort()).sort(key)
    assert before.equals(after)  # the same genders in every agency x golongan x year
    assert not moved["gender"].equals(period["gender"])
    raters = calibration.shuffle_raters(period, seed=5)
    per_agency = ["tahun", "kode_opd"]
    assert (
        period.group_by(per_agency)
        .agg(pl.col("penilai_key").n_unique())
        .sort(per_agency)
        .equals(raters.group_by(per_agency).agg(pl.col("penilai_key").n_unique()).sort(per_agency))
    )
