"""Fairness-audit scenarios: the frames hit their planted targets (and nothing else), the
ratings follow the predikat matrix, and the written exports read back as the same people."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.exports import ASSESSMENT_COLUMNS
from pipelines.generate.scenarios import (
    EMPLOYEE_PERIOD_SCHEMA,
    INDICATOR_YEAR_SCHEMA,
    SCENARIOS,
    Scenario,
    build_scenario,
    rater_key,
    write_scenario,
)
from pipelines.ingest.formats import read_export
from pipelines.rules.nip import nip_reason
from pipelines.rules.pseudonym import load_key, pseudonymise

MATRIX = {  # (hasil, perilaku) -> predikat, PermenPANRB 6/2022 (docs/domain.md, Rating matrix)
    ("DI ATAS EKSPEKTASI", "DI BAWAH EKSPEKTASI"): "Kurang/Misconduct",
    ("DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI"): "Baik",
    ("DI ATAS EKSPEKTASI", "DI ATAS EKSPEKTASI"): "Sangat Baik",
    ("SESUAI EKSPEKTASI", "DI BAWAH EKSPEKTASI"): "Kurang/Misconduct",
    ("SESUAI EKSPEKTASI", "SESUAI EKSPEKTASI"): "Baik",
    ("SESUAI EKSPEKTASI", "DI ATAS EKSPEKTASI"): "Baik",
    ("DI BAWAH EKSPEKTASI", "DI BAWAH EKSPEKTASI"): "Sangat Kurang",
    ("DI BAWAH EKSPEKTASI", "SESUAI EKSPEKTASI"): "Butuh Perbaikan",
    ("DI BAWAH EKSPEKTASI", "DI ATAS EKSPEKTASI"): "Butuh Perbaikan",
}
SCORE = {"Sangat Baik": 5, "Baik": 4, "Butuh Perbaikan": 3, "Kurang/Misconduct": 2}
SCORE["Sangat Kurang"] = 1
TOP = pl.col("predikat") == "Sangat Baik"


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    return {name: build_scenario(name) for name in SCENARIOS}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_shapes_and_matrix(scenarios: dict[str, Scenario], name: str) -> None:
    s = scenarios[name]
    ep = s.employee_period
    assert dict(ep.schema) == EMPLOYEE_PERIOD_SCHEMA
    assert dict(s.indicator_year.schema) == INDICATOR_YEAR_SCHEMA
    assert ep.select("employee_key", "tahun", "periode").is_duplicated().sum() == 0
    assert ep["tahun"].n_unique() == 2
    assert ep["gender"].is_in(["L", "P"]).all()
    assert ep["age_band"].is_in(["<30", "30-39", "40-49", "50+"]).all()
    assert set(ep["period_kind"]) <= {"quarterly", "annual"}
    assert ep.filter(pl.col("periode") == "TW II")["period_end_date"].dt.month().eq(6).all()
    assert ep.filter(pl.col("periode") == "TW I")["period_end_date"].dt.day().eq(31).all()
    assert ep["mean_achievement"].mean() == pytest.approx(1.0, abs=0.1)
    expected = pl.Series(
        [MATRIX[h, p] for h, p in ep.select("rating_hasil_kerja", "rating_perilaku").rows()]
    )
    assert (ep["predikat"] == expected).all()
    per_employee_year = s.indicator_year.group_by("tahun", "employee_key").len()["len"]
    assert per_employee_year.min() == per_employee_year.max() == 5
    assert set(s.predikat_organisasi["kode_opd"]) == set(ep["kode_opd"])
    assert s.truth["curve_noncompliant"] == []


def test_deterministic() -> None:
    a, b = build_scenario("null_ceiling", seed=3), build_scenario("null_ceiling", seed=3)
    assert a.employee_period.equals(b.employee_period)
    assert a.rows.equals(b.rows)
    assert not a.rows.equals(build_scenario("null_ceiling", seed=4).rows)


def test_quarterly_gap(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["quarterly_gap"]
    ep = s.employee_period
    assert set(ep["periode"]) == {"TW I", "TW II", "TW III", "TW IV"}
    assert ep["kode_opd"].n_unique() == 8
    assert 730 <= ep["employee_key"].n_unique() <= 830
    (gap_2024, gap_2025) = s.truth["group_disparity"]
    assert s.truth["rater"] == [] and s.truth["indicator_disparity"] == []
    planted = gap_2024["kode_opd"]
    inside = ep.filter(pl.col("kode_opd") == planted)
    people = inside.group_by("employee_key").agg(pl.col("gender").first())["gender"]
    assert people.len() == 300 and (people == "P").sum() == 150
    for periods in (["TW IV"], ["TW I", "TW II", "TW III", "TW IV"]):
        rates = dict(
            inside.filter(pl.col("periode").is_in(periods))
            .group_by("gender")
            .agg(TOP.mean())
            .rows()
        )
        assert rates["P"] == pytest.approx(0.06, abs=0.06)
        assert rates["L"] == pytest.approx(0.24, abs=0.06)
    # Persistent: the women at Sangat Baik in TW IV are mostly the same ones in TW III.
    top = inside.filter(TOP).group_by("tahun", "periode").agg(pl.col("employee_key"))
    last = {r["tahun"]: set(r["employee_key"]) for r in top.filter(periode="TW IV").to_dicts()}
    third = {r["tahun"]: set(r["employee_key"]) for r in top.filter(periode="TW III").to_dicts()}
    assert sum(len(last[y] & third[y]) for y in last) >= 0.5 * sum(len(v) for v in last.values())
    # A rating gap at equal results: achievement does not differ by gender.
    achievement = dict(inside.group_by("gender").agg(pl.col("mean_achievement").mean()).rows())
    assert achievement["P"] == pytest.approx(achievement["L"], abs=0.015)
    # Elsewhere women and men have the same top-band share.
    outside = dict(
        ep.filter(pl.col("kode_opd") != planted).group_by("gender").agg(TOP.mean()).rows()
    )
    assert outside["P"] == pytest.approx(outside["L"], abs=0.02)
    assert gap_2025["tahun"] == 2025 and gap_2024["direction"] == "lower"


def test_lenient_rater(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["lenient_rater"]
    ep = s.employee_period
    assert set(ep["periode"]) == {"TW I", "TW II", "TW III", "TW IV", "TAHUNAN"}
    assert s.truth["group_disparity"] == []
    entries = s.truth["rater"]
    assert [e["tahun"] for e in entries] == [2024, 2025]
    kode, key = entries[0]["kode_opd"], entries[0]["penilai_key"]
    inside = ep.filter(pl.col("kode_opd") == kode, pl.col("tahun") == 2024)
    teams = inside.group_by("penilai_key").agg(pl.col("employee_key").n_unique().alias("n"))
    assert sorted(teams.drop_nulls("penilai_key")["n"]) == [4, 15, 15, 15, 15]
    assert teams.filter(pl.col("penilai_key") == key)["n"].item() == 15
    scored = inside.with_columns(pl.col("predikat").replace_strict(SCORE).alias("score"))
    by_rater = dict(
        scored.filter(pl.col("penilai_key").is_not_null())
        .group_by(pl.col("penilai_key") == key)
        .agg(pl.col("score").mean())
        .rows()
    )
    assert by_rater[True] - by_rater[False] > 0.5
    # Other agencies: several raters each; the staff teams (dealt by ability) are none far
    # from their agency (the head's small team of raters is left to chance).
    others = (
        ep.filter(pl.col("kode_opd") != kode)
        .with_columns(pl.col("predikat").replace_strict(SCORE).alias("score"))
        .with_columns((pl.col("score") - pl.col("score").mean().over("kode_opd")).alias("d"))
        .group_by("kode_opd", "penilai_key")
        .agg(pl.col("d").mean(), pl.col("employee_key").n_unique().alias("n"))
        .filter(pl.col("n") >= 10)
    )
    assert others.group_by("kode_opd").len()["len"].min() >= 3
    assert others["d"].abs().max() < 0.35


def test_null_ceiling(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["null_ceiling"]
    ep = s.employee_period
    assert s.truth["group_disparity"] == s.truth["rater"] == s.truth["indicator_disparity"] == []
    assert ep["kode_opd"].n_unique() == 10
    assert 550 <= ep["employee_key"].n_unique() <= 650
    annual = ep.filter(pl.col("periode") == "TAHUNAN")
    assert 0.40 <= annual.select(TOP.mean()).item() <= 0.60
    teams = (
        ep.drop_nulls("penilai_key")
        .group_by("tahun", "kode_opd", "penilai_key")
        .agg(pl.col("employee_key").n_unique().alias("n"))["n"]
    )
    assert teams.min() == 3 and teams.max() == 30
    # Strong employees stay strong: Sangat Baik in 2024 predicts Sangat Baik in 2025.
    top = annual.pivot("tahun", index="employee_key", values="predikat").drop_nulls()
    top = top.select((pl.col("2024") == "Sangat Baik"), (pl.col("2025") == "Sangat Baik"))
    assert (
        top.filter(pl.col("2024"))["2025"].mean() > top.filter(~pl.col("2024"))["2025"].mean() + 0.3
    )
    # Groups independent of ability; achievement follows the predikat.
    people = s.employees.with_columns(pl.col("gender").cast(pl.Float64))
    assert abs(people.select(pl.corr("ability", "gender")).item()) < 0.1
    assert (
        abs(people.select(pl.corr("ability", pl.col("birth_year").cast(pl.Float64))).item()) < 0.1
    )
    rates = dict(annual.group_by("gender").agg(TOP.mean()).rows())
    assert rates["P"] == pytest.approx(rates["L"], abs=0.08)
    achievement = dict(annual.group_by(TOP).agg(pl.col("mean_achievement").mean()).rows())
    assert achievement[True] > achievement[False] + 0.02


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_write_scenario_reads_back(tmp_path: Path, name: str) -> None:
    truth = write_scenario(name, tmp_path)
    files = sorted((tmp_path / "raw" / "assessments").glob("*.csv"))
    assert [f["path"] for f in truth["files"]] == [
        f.relative_to(tmp_path).as_posix() for f in files
    ]
    frame = pl.concat([read_export(f, ASSESSMENT_COLUMNS) for f in files])
    key = load_key(tmp_path)
    scenario = build_scenario(name, key=key)
    assert frame.height == scenario.rows.height == truth["export_rows"]
    reasons = frame.select(
        nip_reason(pl.col("nip")).alias("nip"),
        nip_reason(pl.col("nip_penilai")).alias("rater"),
        pl.col("nip_penilai").is_null().alias("head"),
    )
    assert reasons["nip"].null_count() == frame.height
    assert reasons["rater"].null_count() == frame.height
    # The files and the frames describe the same people and ratings under the data dir's key.
    written = (
        frame.select(
            pseudonymise(frame["nip"], key).alias("employee_key"),
            pl.col("tahun").cast(pl.Int32),
            "periode",
            "predikat",
            pseudonymise(frame["nip_penilai"], key).alias("penilai_key"),
        )
        .unique()
        .sort("employee_key", "tahun", "periode")
    )
    framed = scenario.employee_period.select(written.columns).sort(
        "employee_key", "tahun", "periode"
    )
    assert written.equals(framed)
    for entry in truth["rater"]:
        assert entry["penilai_key"] == rater_key(entry["nip_penilai"], tmp_path)
        assert entry["penilai_key"] in set(written["penilai_key"])
    agencies = read_export(tmp_path / "reference" / "agencies.csv", ["kode_opd", "nama_opd"])
    assert set(agencies["kode_opd"]) == set(frame["kode_opd"])
    org = read_export(
        tmp_path / "reference" / "predikat_organisasi.csv", ["kode_opd", "tahun", "predikat"]
    )
    assert org.height == agencies.height * 2
    assert (tmp_path / "truth.json").exists()
