"""analysis.findings: the verdict rule, the year's predikat without annual rows, the group
disparity statistics against independent computations, the curve and trend families."""

from __future__ import annotations

import datetime as dt
import math
from itertools import product

import numpy as np
import polars as pl
import pymannkendall as mk
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests

from pipelines.analysis import curve, disparity, fairness, findings, trends
from pipelines.analysis.findings_schema import findings_schema

# ---------------------------------------------------------------- the verdict rule


def _candidate(family: str, tahun: int | None, p: float, effect: float, measure: str) -> dict:
    return {
        "family": family,
        "tahun": tahun,
        "subject": f"s{p}",
        "effect": effect,
        "effect_measure": measure,
        "p_value": p,
    }


def test_bh_runs_per_family_and_year_so_a_new_year_changes_nothing_old() -> None:
    p_2024 = [0.001, 0.02, 0.04, 0.3]
    p_2025 = [0.0001, 0.5]
    rows = [_candidate("group_disparity", 2024, p, 2.0, "rate_ratio") for p in p_2024]
    rows += [_candidate("group_disparity", 2025, p, 2.0, "rate_ratio") for p in p_2025]
    rows += [_candidate("rater", 2024, 0.01, 1.0, "predikat_points")]
    judged = findings.judge(findings.candidates(rows))
    got_2024 = judged.filter((pl.col("tahun") == 2024) & (pl.col("family") == "group_disparity"))
    expected = multipletests(p_2024, method="fdr_bh")[1]
    assert sorted(got_2024["p_adjusted"].to_list()) == pytest.approx(sorted(expected))
    # the lone rater test is its own family: not adjusted by the 2024 disparity tests
    assert judged.filter(pl.col("family") == "rater")["p_adjusted"][0] == pytest.approx(0.01)
    only_2024 = findings.judge(findings.candidates(rows[:4]))
    assert only_2024["p_adjusted"].to_list() == got_2024["p_adjusted"].to_list()
    findings_schema.validate(judged)


def test_a_finding_needs_both_significance_and_a_practical_effect() -> None:
    rows = [
        _candidate("group_disparity", 2024, 0.0001, 1.10, "rate_ratio"),  # significant, small
        _candidate("group_disparity", 2024, 0.0002, 0.50, "rate_ratio"),  # both: finding
        _candidate("group_disparity", 2024, 0.30, 3.00, "rate_ratio"),  # large, not significant
        {"family": "group_disparity", "tahun": 2024, "verdict": "not_assessable", "reason": "x"},
    ]
    judged = findings.judge(findings.candidates(rows)).sort("p_value", nulls_last=True)
    assert judged["verdict"].to_list() == ["no_finding", "finding", "no_finding", "not_assessable"]
    assert judged["practical"].to_list() == [False, True, True, None]
    assert "batas praktis" in judged["reason"][0]
    assert judged["reason"][3] == "x"
    findings_schema.validate(judged)


def test_the_schema_refuses_an_unearned_finding() -> None:
    judged = findings.judge(
        findings.candidates([_candidate("rater", 2024, 0.2, 2.0, "predikat_points")])
    ).with_columns(verdict=pl.lit("finding"))
    with pytest.raises(Exception, match="finding without"):
        findings_schema.validate(judged)


# ---------------------------------------------------------------- the year's predikat


def _period_row(emp: str, periode: str, kind: str, end_month: int, predikat: str) -> dict:
    last_day = dt.date(2024, end_month % 12 + 1, 1) - dt.timedelta(days=1)
    if end_month == 12:
        last_day = dt.date(2024, 12, 31)
    return {
        "employee_key": emp,
        "tahun": 2024,
        "periode": periode,
        "period_kind": kind,
        "period_end_date": last_day,
        "predikat": predikat,
    }


def test_year_outcome_is_the_annual_predikat_else_the_last_periodic_one() -> None:
    frame = pl.DataFrame(
        [
            _period_row("a", "TW I", "quarterly", 3, "Baik"),
            _period_row("a", "TAHUNAN", "annual", 12, "Butuh Perbaikan"),
            _period_row("a", "TW IV", "quarterly", 12, "Sangat Baik"),
            _period_row("b", "TW I", "quarterly", 3, "Sangat Baik"),
            _period_row("b", "TW II", "quarterly", 6, "Baik"),
            _period_row("c", "BULAN 12", "monthly", 12, "Baik"),
            _period_row("c", "TW IV", "quarterly", 12, "Sangat Baik"),
            _period_row("c", "BULAN 11", "monthly", 11, "Sangat Kurang"),
            _period_row("d", "BULAN 5", "monthly", 5, "Kurang/Misconduct"),
            _period_row("d", "TAHUNAN", "annual", 12, "tidak terbaca"),
        ]
    )
    years = fairness.year_outcomes(frame).sort("employee_key")
    assert years["predikat"].to_list() == [
        "Butuh Perbaikan",
        "Baik",
        "Sangat Baik",
        "Kurang/Misconduct",
    ]
    assert years["outcome_basis"].to_list() == ["TAHUNAN", "TW II", "TW IV", "BULAN 5"]
    assert years["top_band"].to_list() == [False, False, True, False]
    assert years["bottom_band"].to_list() == [True, False, False, True]


# ---------------------------------------------------------------- group disparity statistics


def _fisher_by_hand(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher: sum of hypergeometric tables no more likely than the observed."""
    n1, n2, k = a + b, c + d, a + c
    total = math.comb(n1 + n2, k)

    def prob(x: int) -> float:
        return math.comb(n1, x) * math.comb(n2, k - x) / total

    observed = prob(a)
    return sum(
        prob(x) for x in range(max(0, k - n2), min(k, n1) + 1) if prob(x) <= observed * (1 + 1e-7)
    )


def _employees(cells: dict[tuple[str, str, str], list[str]]) -> pl.DataFrame:
    """Annual rows from {(kode_opd, gender, golongan): [predikat, ...]}."""
    rows = []
    for (kode, gender, golongan), predikats in cells.items():
        for i, predikat in enumerate(predikats):
            rows.append(
                {
                    "employee_key": f"{kode}-{gender}-{golongan}-{i}",
                    "tahun": 2024,
                    "periode": "TAHUNAN",
                    "period_kind": "annual",
                    "period_end_date": dt.date(2024, 12, 31),
                    "kode_opd": kode,
                    "gender": gender,
                    "golongan": golongan,
                    "jenis_jabatan": "Pelaksana",
                    "age_band": "30-39",
                    "predikat": predikat,
                }
            )
    return pl.DataFrame(rows)


def _years(cells: dict[tuple[str, str, str], list[str]]) -> pl.DataFrame:
    return fairness.year_outcomes(_employees(cells))


SB, B, BP = "Sangat Baik", "Baik", "Butuh Perbaikan"


def test_within_agency_gender_gap_matches_fisher_and_the_rate_ratio_by_hand() -> None:
    # Agency A: women 1 of 16 Sangat Baik, men 6 of 18.
    cells = {
        ("A", "P", "III/a"): [SB] + [B] * 15,
        ("A", "L", "III/a"): [SB] * 6 + [B] * 12,
    }
    rows = disparity.group_disparity(_years(cells))
    top = rows.filter(
        (pl.col("kode_opd") == "A")
        & (pl.col("dimension") == "gender")
        & (pl.col("outcome") == "top_band")
    ).row(0, named=True)
    assert (top["n"], top["n_reference"]) == (16, 18)
    assert top["effect"] == pytest.approx((1 / 16) / (6 / 18))
    se = math.sqrt(1 / 1 - 1 / 16 + 1 / 6 - 1 / 18)
    assert top["effect_ci_low"] == pytest.approx(top["effect"] * math.exp(-1.959964 * se), rel=1e-5)
    assert top["p_value"] == pytest.approx(_fisher_by_hand(1, 15, 6, 12), rel=1e-9)
    # the intersection compares women with men of the same golongan, not the largest cell;
    # pooled only (an agency's gender x golongan cells are mostly too small to publish)
    inter = rows.filter(pl.col("dimension") == "gender x golongan")
    assert set(inter["subject"]) == {"P x III/a"} and set(inter["reference"]) == {"L x III/a"}
    assert inter["kode_opd"].is_null().all()


def test_pooled_scope_compares_within_agencies_mantel_haenszel() -> None:
    # Women are concentrated in agency B, where everyone gets fewer Sangat Baik: the crude
    # gap is large, the within-agency ratio is 1.
    cells = {
        ("A", "P", "III/a"): [SB] * 4 + [B] * 6,
        ("A", "L", "III/a"): [SB] * 20 + [B] * 30,
        ("B", "P", "III/a"): [SB] * 5 + [B] * 45,
        ("B", "L", "III/a"): [SB] * 1 + [B] * 9,
    }
    rows = disparity.group_disparity(_years(cells))
    pooled = rows.filter(
        pl.col("kode_opd").is_null()
        & (pl.col("dimension") == "gender")
        & (pl.col("outcome") == "top_band_within_opd")
    ).row(0, named=True)
    tables = [
        np.array([[4, 6], [20, 30]], dtype=float),
        np.array([[5, 45], [1, 9]], dtype=float),
    ]
    oracle = StratifiedTable(np.dstack(tables))
    assert pooled["effect"] == pytest.approx(oracle.riskratio_pooled)
    assert pooled["effect"] == pytest.approx(1.0)
    assert pooled["p_value"] == pytest.approx(oracle.test_null_odds().pvalue)
    crude = (9 / 60) / (21 / 60)
    assert abs(math.log(crude)) > 0.8  # what a crude comparison would have reported


def test_predikat_order_effect_is_the_probability_of_superiority() -> None:
    women = [SB, B, B, BP, BP, BP]
    men = [SB, SB, SB, B, B, BP]
    rows = disparity.group_disparity(_years({("A", "P", "III/a"): women, ("A", "L", "III/a"): men}))
    ordinal = rows.filter(
        (pl.col("kode_opd") == "A")
        & (pl.col("dimension") == "gender")
        & (pl.col("outcome") == disparity.ORDINAL)
    ).row(0, named=True)
    score = fairness.PREDIKAT_SCORE
    pairs = [(score[w], score[m]) for w, m in product(women, men)]
    by_hand = sum((w > m) + 0.5 * (w == m) for w, m in pairs) / len(pairs)
    assert ordinal["effect"] == pytest.approx(by_hand)
    assert ordinal["effect_measure"] == "probability_of_superiority"


def test_agencies_are_compared_with_agencies_of_the_same_organisation_predikat() -> None:
    cells = {
        ("IST", "L", "III/a"): [SB] * 12 + [B] * 8,
        ("BK1", "L", "III/a"): [SB] * 2 + [B] * 14 + [BP] * 4,
        ("BK2", "L", "III/a"): [SB] * 2 + [B] * 15 + [BP] * 3,
        ("BK3", "L", "III/a"): [SB] * 15 + [B] * 5,  # breaks the Baik curve
    }
    org = pl.DataFrame(
        {
            "kode_opd": ["IST", "BK1", "BK2", "BK3"],
            "tahun": [2024] * 4,
            "predikat_organisasi": ["Istimewa", "Baik", "Baik", "Baik"],
            "curve_compliant": [True, True, True, False],
        }
    )
    rows = disparity.group_disparity(_years(cells), org)
    agency = rows.filter(pl.col("dimension") == "kode_opd")
    ist = agency.filter(pl.col("subject") == "IST")
    assert set(ist["verdict"].to_list()) == {"not_assessable"}  # alone in its predikat
    bk1 = agency.filter((pl.col("subject") == "BK1") & (pl.col("outcome") == "top_band"))
    assert bk1["reference"][0] == "OPD lain berpredikat Baik yang patuh kurva"
    assert bk1["n_reference"][0] == 20  # BK2 only: not the Istimewa nor the curve breaker
    bk3 = agency.filter((pl.col("subject") == "BK3") & (pl.col("outcome") == "top_band"))
    assert bk3["n_reference"][0] == 40  # a curve breaker is still judged, against both


def test_small_groups_are_suppressed_with_no_figure() -> None:
    cells = {("A", "P", "III/a"): [SB, B, B], ("A", "L", "III/a"): [SB] * 3 + [B] * 9}
    rows = findings.judge(disparity.group_disparity(_years(cells)))
    gender = rows.filter((pl.col("kode_opd") == "A") & (pl.col("dimension") == "gender"))
    assert set(gender["verdict"]) == {"suppressed"}
    assert gender["n"].null_count() == gender.height
    findings_schema.validate(rows)


# ---------------------------------------------------------------- curve and trend families


def _curve_rows(kode: str, n_assessed: int, passed: list[bool | None]) -> list[dict]:
    return [
        {
            "kode_opd": kode,
            "tahun": 2024,
            "predikat_organisasi": "Baik",
            "rule_id": f"r{i}",
            "operator": "<=",
            "bound": 0.7,
            "n_assessed": n_assessed,
            "observed_share": None if ok is None else (0.6 if ok else 0.8),
            "passed": ok,
            "violation": None if ok in (True, None) else f"Baik 80% > 70% ({kode})",
        }
        for i, ok in enumerate(passed)
    ]


def test_a_curve_over_zero_annual_rows_is_not_assessable_never_compliant() -> None:
    frame = pl.DataFrame(
        _curve_rows("EMPTY", 0, [None, None])
        + _curve_rows("OK", 30, [True, True])
        + _curve_rows("BAD", 30, [True, False])
    )
    judged = findings.judge(curve.curve_candidates(frame)).sort("kode_opd")
    verdicts = dict(zip(judged["kode_opd"], judged["verdict"], strict=True))
    assert verdicts == {"BAD": "finding", "EMPTY": "not_assessable", "OK": "no_finding"}
    bad = judged.filter(pl.col("kode_opd") == "BAD").row(0, named=True)
    assert bad["effect"] == pytest.approx(0.1)
    assert "Baik 80%" in bad["reason"]
    findings_schema.validate(judged)


def test_trend_p_value_never_credits_negative_autocorrelation_but_pays_for_positive() -> None:
    zigzag = np.array([4.0, 2.0, 5.0, 1.0, 3.0, 0.5])
    assert trends.mann_kendall(zigzag).p_value == pytest.approx(mk.original_test(zigzag).p)
    rng = np.random.default_rng(3)
    persistent = np.cumsum(rng.normal(0, 1, 40)) + np.linspace(0, 4, 40)
    original, modified = mk.original_test(persistent), mk.hamed_rao_modification_test(persistent)
    assert modified.var_s > original.var_s  # this series is autocorrelated
    assert trends.mann_kendall(persistent).p_value == pytest.approx(modified.p)


# ---------------------------------------------------------------- what the report says


def test_report_never_reads_zero_of_zero_as_compliance() -> None:
    from pipelines.reports.fairness import _curve_summary

    year = pl.DataFrame(
        {
            "kode_opd": ["A", "B"],
            "tahun": [2025, 2025],
            "predikat_organisasi": ["Baik", "Baik"],
            "curve_compliant": [None, None],
        },
        schema_overrides={"curve_compliant": pl.Boolean},
    )
    text = _curve_summary(year)
    assert "TIDAK DAPAT DINILAI" in text and "patuh;" not in text
    partly = year.with_columns(curve_compliant=pl.Series([True, None], dtype=pl.Boolean))
    assert _curve_summary(partly) == (
        "Kurva distribusi: 1 dari 1 pasangan OPD-tahun yang dapat dinilai patuh; 0 melanggar."
        " 1 OPD-tahun tidak dapat dinilai (tidak ada predikat tahunan)."
    )


def test_a_family_with_nothing_tested_is_reported_not_assessable() -> None:
    from pipelines.reports.findings_text import FAIRNESS_FAMILIES, summary_lines

    rows = findings.judge(
        findings.candidates(
            [
                {
                    "family": "distribution_curve",
                    "tahun": 2025,
                    "kode_opd": "A",
                    "verdict": "not_assessable",
                    "reason": "Tidak ada predikat tahunan.",
                },
                _candidate("rater", 2025, 0.001, 1.2, "predikat_points"),
            ]
        )
    )
    lines = summary_lines(rows, FAIRNESS_FAMILIES)
    curve_line = next(line for line in lines if line.startswith("Kurva distribusi"))
    assert "TIDAK DAPAT DINILAI" in curve_line and "Tidak ada predikat tahunan." in curve_line
    rater_line = next(line for line in lines if line.startswith("Penilai"))
    assert rater_line.startswith("Penilai murah/keras: 1 temuan dari 1 uji")
    group_line = next(line for line in lines if line.startswith("Kesenjangan"))
    assert "TIDAK DAPAT DINILAI" in group_line  # no rows at all is not "no gap"
