"""Fairness audit: statistics checked by hand and against fairlearn, suppression, shrinkage,
planted effects found, and no more significant findings on effect-free data than BH allows.

The session's 120-employee `pipeline_run` is too small for the planted effects (the lenient
rater has 6 ratees there, the disparity cells hold a handful of employees), so this module
materializes two 600-employee data sets of its own, once each: one with the planted
effects, one without.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from polars.testing import assert_frame_equal
from scipy import stats

from pipelines.analysis import fairness, indicator_fairness, raters
from pipelines.analysis.assets import fairness_tables
from pipelines.analysis.tables import SMALL_PUBLISHED
from pipelines.rules.pseudonym import load_key, pseudonym
from tests.conftest import PipelineRun, materialized

pytestmark = pytest.mark.xdist_group("fairness")

EMPLOYEES = 600
Z = stats.norm.ppf(0.975)


class Materialized(PipelineRun):
    def employee_period(self) -> pl.DataFrame:
        return self.query("select * from intermediate.int_employee_period")

    def indicator_achievement(self) -> pl.DataFrame:
        return self.query("select * from intermediate.int_indicator_achievement")


def _materialize(data_dir: Path, seed: int, effects: bool) -> Iterator[Materialized]:
    with materialized(data_dir, employees=EMPLOYEES, seed=seed, effects=effects) as run:
        yield Materialized(run.settings, run.truth, run.results)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Materialized]:
    yield from _materialize(tmp_path_factory.mktemp("fair_planted"), seed=3, effects=True)


@pytest.fixture(scope="module")
def null_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Materialized]:
    """Effect-free data; the fairness assets ran in `materialize_all` and their checks passed."""
    for run in _materialize(tmp_path_factory.mktemp("fair_null"), seed=5, effects=False):
        fairness_keys = set(fairness_tables.keys)
        checks = [
            c for c in run.results[0].get_asset_check_evaluations() if c.asset_key in fairness_keys
        ]
        # each table's small-group check, and the differencing attacker over them all
        assert len(checks) == len(SMALL_PUBLISHED) + 1 and all(c.passed for c in checks)
        yield run


# ---------------------------------------------------------------- hand-made frames


def _people(rows: list[tuple[str, str, str, str, int]], tahun: int = 2024) -> pl.DataFrame:
    """int_employee_period-like annual rows from (gender, golongan, kode_opd, predikat, count)."""
    records = []
    for gender, golongan, kode_opd, predikat, count in rows:
        for _ in range(count):
            records.append(
                {
                    "employee_key": f"{len(records):016x}",
                    "tahun": tahun,
                    "periode": "TAHUNAN",
                    "gender": gender,
                    "golongan": golongan,
                    "kode_opd": kode_opd,
                    "age_band": "30-39",
                    "jenis_jabatan": "Pelaksana",
                    "predikat": predikat,
                }
            )
    return pl.DataFrame(records)


def _fairlearn_rates(frame: pl.DataFrame, column: str, outcome: str) -> dict[str, float]:
    annual = fairness.year_outcomes(frame)
    y = annual[outcome].cast(pl.Int8).to_numpy()
    metric = MetricFrame(
        metrics=selection_rate,
        y_true=y,
        y_pred=y,
        sensitive_features=annual[column].to_numpy(),
    )
    return {str(k): float(v) for k, v in metric.by_group.items()}


def _ours(rates: pl.DataFrame, dimension: str, outcome: str, tahun: int) -> pl.DataFrame:
    return rates.filter(
        (pl.col("dimension") == dimension)
        & (pl.col("outcome") == outcome)
        & (pl.col("tahun") == tahun)
        & ~pl.col("suppressed")
    )


def _assert_matches_fairlearn(frame: pl.DataFrame, dimension: str, tahun: int) -> None:
    rates = fairness.group_rates(frame.filter(pl.col("tahun") == tahun), dimensions=[dimension])
    for outcome in fairness.OUTCOMES:
        expected = _fairlearn_rates(frame.filter(pl.col("tahun") == tahun), dimension, outcome)
        ours = _ours(rates, dimension, outcome, tahun)
        assert ours.height == len(expected)
        reference = ours["reference_group"][0]
        for group, rate, ratio in ours.select("group_value", "rate", "ratio").iter_rows():
            assert rate == pytest.approx(expected[group], abs=1e-12)
            if expected[reference] > 0:
                assert ratio == pytest.approx(expected[group] / expected[reference], abs=1e-12)


def test_rates_and_ratios_match_fairlearn_on_a_hand_made_frame() -> None:
    frame = _people(
        [
            ("P", "III/a", "A", "Sangat Baik", 12),
            ("P", "III/a", "A", "Baik", 20),
            ("P", "III/a", "A", "Butuh Perbaikan", 8),
            ("L", "III/a", "A", "Sangat Baik", 3),
            ("L", "III/a", "A", "Baik", 12),
            ("L", "III/a", "A", "Sangat Kurang", 5),
        ]
    )
    _assert_matches_fairlearn(frame, "gender", 2024)
    top = _ours(fairness.group_rates(frame, dimensions=["gender"]), "gender", "top_band", 2024)
    by_group = {g: r for g, r in top.select("group_value", "ratio").iter_rows()}
    assert top["reference_group"][0] == "P"  # the larger group (40 vs 20)
    assert by_group == {"L": pytest.approx((3 / 20) / (12 / 40)), "P": 1.0}


def test_rates_and_ratios_match_fairlearn_on_generated_data(planted: Materialized) -> None:
    frame = planted.employee_period()
    for dimension in ("gender", "jenis_jabatan", "kode_opd"):
        _assert_matches_fairlearn(frame, dimension, 2024)


# ---------------------------------------------------------------- hand-computed statistics


def test_wilson_interval_for_7_of_20() -> None:
    n, p = 20, 7 / 20
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    low, high = fairness.wilson_interval(7, 20)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (low, high) == pytest.approx((0.1812, 0.5671), abs=5e-5)


def test_risk_ratio_and_interval_of_a_2x2_table() -> None:
    # 30/100 vs 20/100: RR 1.5, SE(log RR) = sqrt(1/30 - 1/100 + 1/20 - 1/100).
    ratio, low, high = fairness.risk_ratio(30, 100, 20, 100)
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 100)
    assert ratio == pytest.approx(1.5)
    assert low == pytest.approx(1.5 * math.exp(-Z * se))
    assert high == pytest.approx(1.5 * math.exp(Z * se))
    assert (low, high) == pytest.approx((0.9160, 2.4564), abs=5e-4)


def test_benjamini_hochberg_on_a_small_vector() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4/1, x4/2, x4/3, x4/4 = .02 .02 .04 .04 (monotone).
    adjusted = fairness.benjamini_hochberg([0.01, 0.04, None, 0.03, 0.005])
    assert adjusted == pytest.approx([0.02, 0.04, None, 0.04, 0.02])


def test_cmh_says_a_gap_from_grade_mix_is_not_inside_grades() -> None:
    """Simpson: within each grade women and men get Sangat Baik equally often (10% in III/a,
    50% in IV/a), but women are mostly III/a, so crude rates are 18% vs 42%."""
    frame = _people(
        [
            ("P", "III/a", "A", "Sangat Baik", 8),
            ("P", "III/a", "A", "Baik", 72),
            ("P", "IV/a", "A", "Sangat Baik", 10),
            ("P", "IV/a", "A", "Baik", 10),
            ("L", "III/a", "A", "Sangat Baik", 2),
            ("L", "III/a", "A", "Baik", 18),
            ("L", "IV/a", "A", "Sangat Baik", 40),
            ("L", "IV/a", "A", "Baik", 40),
        ]
    )
    rates = fairness.group_rates(frame, dimensions=["gender"], reference_groups={"gender": "L"})
    women = _ours(rates, "gender", "top_band", 2024).filter(pl.col("group_value") == "P")
    row = women.row(0, named=True)
    assert row["rate"] == pytest.approx(0.18) and row["reference_rate"] == pytest.approx(0.42)
    assert row["ratio"] == pytest.approx(0.18 / 0.42)
    assert row["significant"]  # the crude gap is real ...
    assert row["cmh_stratum"] == "golongan"
    assert row["cmh_odds_ratio"] == pytest.approx(1.0)  # ... but vanishes inside grades
    assert row["cmh_p_value"] > 0.5


# ---------------------------------------------------------------- shrinkage and suppression


def _rated(raters_ratees: dict[str, list[str]], tahun: int = 2024) -> pl.DataFrame:
    records = []
    for key, predikats in raters_ratees.items():
        for predikat in predikats:
            records.append(
                {
                    "employee_key": f"{len(records):016x}",
                    "tahun": tahun,
                    "periode": "TAHUNAN",
                    "kode_opd": "A",
                    "penilai_key": key,
                    "predikat": predikat,
                }
            )
    return pl.DataFrame(records)


def test_a_rater_with_two_ratees_shrinks_more_than_one_with_thirty() -> None:
    cycle = ["Baik", "Baik", "Butuh Perbaikan", "Sangat Baik", "Baik", "Kurang/Misconduct"]
    spread = {f"{i:016x}": (cycle * 3)[i : i + 10] for i in range(6)}
    few = {"f" * 16: ["Sangat Baik", "Sangat Baik"]}
    many = {"e" * 16: ["Sangat Baik"] * 20 + ["Baik"] * 10}
    effects = raters.rater_effects(_rated(spread | few | many), min_group_size=2)
    by_key = {r["penilai_key"]: r for r in effects.iter_rows(named=True)}
    small, large = by_key["f" * 16], by_key["e" * 16]
    assert small["raw_effect"] > large["raw_effect"] > 0
    assert small["shrunk_effect"] / small["raw_effect"] > 0
    assert (
        small["shrunk_effect"] / small["raw_effect"] < large["shrunk_effect"] / large["raw_effect"]
    )
    assert large["shrunk_effect"] < large["raw_effect"]


def test_groups_of_four_are_suppressed_and_carry_no_figures() -> None:
    frame = _people(
        [
            ("P", "III/a", "A", "Sangat Baik", 2),
            ("P", "III/a", "A", "Baik", 2),
            ("L", "III/a", "A", "Sangat Baik", 5),
            ("L", "III/a", "A", "Baik", 15),
        ]
    )
    rates = fairness.group_rates(frame, dimensions=["gender"], reference_groups={"gender": "P"})
    women = rates.filter(pl.col("group_value") == "P")
    assert women.height == 2 and women["suppressed"].all()
    figures = [c for c in rates.columns if c not in ("tahun", "dimension", "group_value")]
    figures = [c for c in figures if c not in ("outcome", "suppressed", "significant")]
    assert women.select(figures).null_count().row(0) == (2,) * len(figures)
    men = rates.filter(pl.col("group_value") == "L")
    assert set(men["reference_group"]) == {"L"}  # never the suppressed preferred group

    distribution = fairness.rating_distribution(frame, dimensions=["gender"])
    assert distribution.filter(pl.col("group_value") == "P")["n"].null_count() == 5

    gaps = frame.with_columns(mean_self_supervisor_gap=pl.lit(3.0))
    gap = indicator_fairness.self_gap_by_group(gaps, dimensions=["gender"])
    assert gap.filter(pl.col("group_value") == "P").row(0, named=True)["mean_gap"] is None

    # ratings-only SIASN records (n_indicators = 0) have no gap to compare: left out by the
    # filter (here they carry one, to tell it from dropping NULLs), and a year of them alone
    # gives no row at all
    siasn = gaps.with_columns(
        employee_key=pl.col("employee_key") + "-siasn",
        n_indicators=pl.lit(0),
        mean_self_supervisor_gap=pl.lit(-9.0),
    )
    with_siasn = indicator_fairness.self_gap_by_group(
        pl.concat([gaps.with_columns(n_indicators=pl.lit(2)), siasn]), dimensions=["gender"]
    )
    assert_frame_equal(with_siasn, gap)
    siasn_year = siasn.with_columns(tahun=pl.col("tahun") + 1)
    assert indicator_fairness.self_gap_by_group(siasn_year, dimensions=["gender"]).is_empty()

    small_rater = raters.rater_effects(_rated({"a" * 16: ["Baik"] * 4, "b" * 16: ["Baik"] * 9}))
    row = small_rater.filter(pl.col("penilai_key") == "a" * 16).row(0, named=True)
    assert row["suppressed"] and row["n_ratees"] is None and row["raw_effect"] is None

    achievement = pl.DataFrame(
        {
            "employee_key": frame["employee_key"],
            "tahun": frame["tahun"],
            "periode": frame["periode"],
            "kode_opd": frame["kode_opd"],
            "kode_indikator": "IKI-1",
            "achievement": np.linspace(0.8, 1.1, frame.height),
        }
    )
    cell = indicator_fairness.indicator_fairness(achievement, frame).row(0, named=True)
    assert cell["suppressed"] and cell["n"] is None and cell["difference"] is None


# ---------------------------------------------------------------- planted effects


def test_planted_lenient_rater_is_found(planted: Materialized) -> None:
    effect = next(e for e in planted.truth["effects"] if e["kind"] == "lenient_rater")
    key = pseudonym(effect["nip_penilai"], load_key(planted.settings.data_dir))
    effects = raters.rater_effects(planted.employee_period())
    found = effects.filter(pl.col("penilai_key") == key)
    assert found.height == len(planted.truth["parameters"]["years"])
    assert (found["kode_opd"] == effect["kode_opd"]).all()
    assert (found["label"] == "lenient").all() and found["significant"].all()
    # A finding: beyond the practical band against the other raters (p is the permutation
    # approximation now, honest rather than Welch's p < 1e-6 from a near-zero own variance).
    assert (found["raw_effect"] > 0.5).all() and (found["difference"] > 0.5).all()
    assert found["excluded_from_reference"].all()
    # The most lenient rater of its agency every year, raw and shrunk.
    agency = effects.filter(~pl.col("suppressed") & (pl.col("kode_opd") == effect["kode_opd"]))
    for column in ("raw_effect", "shrunk_effect"):
        top = agency.sort(column, descending=True).group_by("tahun").first()
        assert set(top["penilai_key"]) == {key}


def test_planted_gender_disparity_is_found(planted: Materialized) -> None:
    effect = next(e for e in planted.truth["effects"] if e["kind"] == "group_disparity")
    table = indicator_fairness.indicator_fairness(
        planted.indicator_achievement(), planted.employee_period()
    )
    cell = table.filter(
        (pl.col("kode_opd") == effect["kode_opd"])
        & (pl.col("kode_indikator") == effect["kode_indikator"])
    )
    assert cell.height == 3 and cell["significant"].all()
    assert (cell["group_value"] == "P").all()
    # Women lower by about the planted 15 points of achievement (ratio units: 0.15).
    assert (cell["difference_ci_high"] < 0).all()
    assert cell["difference"].mean() == pytest.approx(-effect["size"] / 100, abs=0.04)
    others = table.filter(pl.col("significant") & (pl.col("kode_opd") != effect["kode_opd"]))
    assert others.height == 0


# ---------------------------------------------------------------- null data


def test_null_data_findings_stay_within_what_bh_allows(null_run: Materialized) -> None:
    """On effect-free data, BH at q = 0.05 has P(any rejection) <= 0.05 (independent or
    positively dependent tests), so more than one significant finding per table would be
    a broken test, not bad luck. What is and is not a null here:

    - indicator_fairness and rater_effects compare within an agency-year: the generator
      has no within-agency effect without `effects`, so <= 1 finding each (a rater counts
      once over its years: its ratees, and their ability, are the same every year).
    - fairness_group_rates, crude: NOT a null. Agencies get different predikat curves by
      design (organisation predikat) and differ in gender mix, so crude gaps by agency and
      by agency-confounded groups are true differences. Within agencies they are null:
      the CMH p-values stratified by kode_opd, BH-adjusted, give <= 1 finding.
    """
    indicators = null_run.query("select * from analysis.indicator_fairness")
    assert indicators.filter(~pl.col("suppressed")).height >= 100
    assert indicators["significant"].sum() <= 1

    effects = null_run.query("select * from analysis.rater_effects")
    assert effects.filter(~pl.col("suppressed")).height >= 100
    assert effects.filter(pl.col("significant"))["penilai_key"].n_unique() <= 1

    strata = {d: "kode_opd" for d in fairness.DIMENSIONS if d != "kode_opd"}
    within = fairness.group_rates(
        null_run.employee_period(), cmh_strata=strata, dimensions=list(strata)
    )
    adjusted = fairness.benjamini_hochberg(within["cmh_p_value"].to_list())
    tested = [p for p in adjusted if p is not None]
    assert len(tested) >= 100
    assert sum(p < 0.05 for p in tested) <= 1

    published = null_run.query("select * from analysis.fairness_group_rates")
    assert published.height == fairness.group_rates(null_run.employee_period()).height

    # The verdicts: nothing accuses a rater, a gender inside an agency, or women at equal
    # achievement on data with nothing planted.
    found = null_run.query("select * from analysis.findings")
    null_rows = found.filter(
        pl.col("family").is_in(["rater", "conditional_rating"])
        | ((pl.col("family") == "group_disparity") & pl.col("dimension").str.starts_with("gender"))
        | ((pl.col("family") == "indicator") & (pl.col("dimension") == "gender"))
    )
    assert null_rows.filter(pl.col("verdict") == "no_finding").height >= 200
    found_null = null_rows.filter(pl.col("verdict") == "finding")
    # BH at 0.05 per family-year allows a stray one; what it must not do is repeat or pile up
    assert found_null.filter(pl.col("family") == "group_disparity").is_empty()
    for family in ("rater", "indicator", "conditional_rating"):
        assert found_null.filter(pl.col("family") == family)["subject"].n_unique() <= 1, family


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # all-equal ratees
def test_rater_tests_from_sums_agree_with_scipy_per_rater() -> None:
    """raters.reference_tests computes every rater's test from per-rater and per-agency
    sums; per rater, from its ratees and the rest of its agency: scipy's ttest_ind
    (equal_var=True) statistic T gives z = T sqrt((N - 1) / (N - 2 + T^2)) (the same test on
    the union's variance), and the skewness comes from scipy.stats.moment of the union.
    Cases: one-ratee raters, a rater whose ratees all score the same, an agency where every
    score is equal (undefined test), a rater holding all but one ratee."""
    rng = np.random.default_rng(3)
    rows = []
    for agency, n_raters in (("OPD01", 12), ("OPD02", 3)):
        for rater in range(n_raters):
            n = int(rng.integers(1, 15))
            scores = rng.choice([1, 2, 3, 3.5, 4, 4.25, 5], size=n)
            if rater == 0:
                scores = np.full(n, 4.0)
            rows += [(2024, agency, f"r{rater}", float(x)) for x in scores]
    rows += [(2025, "OPD01", "same", 4.0)] * 6 + [(2025, "OPD01", "same2", 4.0)] * 3
    rows += [(2025, "OPD02", "most", float(x)) for x in (2, 3, 4, 5, 5)] + [
        (2025, "OPD02", "alone", 3.0)
    ]
    ratees = pl.DataFrame(
        rows, schema=["tahun", "kode_opd", "penilai_key", "score"], orient="row"
    ).with_columns(pl.col("tahun").cast(pl.Int32))
    sums = raters.rater_sums(ratees)
    got = raters.reference_tests(sums, np.ones(sums.height, dtype=bool), max_rounds=0)
    undefined = 0
    for i, (tahun, agency, key) in enumerate(sums.select(raters.KEY).iter_rows()):
        everyone = ratees.filter((pl.col("tahun") == tahun) & (pl.col("kode_opd") == agency))
        own = everyone.filter(pl.col("penilai_key") == key)["score"].to_numpy()
        rest = everyone.filter(pl.col("penilai_key") != key)["score"].to_numpy()
        union = np.concatenate([own, rest])
        n, big_n = len(own), len(union)
        assert got["difference"][i] == pytest.approx(own.mean() - rest.mean(), abs=1e-12)
        assert got["n_reference"][i] == len(rest)
        if big_n < 3 or np.ptp(union) == 0:
            assert math.isnan(got["p"][i]) and math.isnan(got["z"][i])
            undefined += 1
            continue
        t = stats.ttest_ind(own, rest, equal_var=True).statistic
        z = (
            np.sign(t) * math.sqrt(big_n - 1)
            if np.isinf(t)
            else t * math.sqrt((big_n - 1) / (big_n - 2 + t**2))
        )
        assert got["z"][i] == pytest.approx(z, rel=1e-9, abs=1e-12)
        mu2, mu3 = stats.moment(union, 2), stats.moment(union, 3)
        var_mean = mu2 * (big_n - n) / (n * (big_n - 1))
        third = mu3 * (big_n - n) * (big_n - 2 * n) / (n**2 * (big_n - 1) * (big_n - 2))
        skew = third / var_mean**1.5
        tail = min(stats.pearson3.cdf(z, skew), stats.pearson3.sf(z, skew))
        floor = 2 / math.comb(big_n, n)
        assert got["p"][i] == pytest.approx(min(1.0, max(2 * tail, floor)), rel=1e-7, abs=1e-12)
    assert undefined >= 2  # the all-equal agency


def test_employee_indicator_year_is_the_mean_over_periods(planted: Materialized) -> None:
    """The dbt model the indicator analysis reads (one row per employee x indicator x agency
    x year) against polars averaging the per-period rows of int_indicator_achievement."""
    keys = ["tahun", "kode_opd", "kode_indikator", "employee_key"]
    model = planted.query(
        "select tahun, kode_opd, kode_indikator, employee_key, achievement "
        "from intermediate.int_employee_indicator_year"
    ).sort(keys)
    expected = (
        planted.indicator_achievement()
        .drop_nulls("achievement")
        .group_by(keys)
        .agg(pl.col("achievement").mean())
        .sort(keys)
        .select(model.columns)
    )
    assert model.height == expected.height > EMPLOYEES
    assert_frame_equal(model, expected, check_dtypes=False, rel_tol=1e-12)
    # ... so the asset, fed the model, publishes what the per-period rows give.
    published = planted.query("select * from analysis.indicator_fairness")
    from_periods = indicator_fairness.indicator_fairness(
        planted.indicator_achievement(), planted.employee_period()
    )
    order = ["tahun", "kode_opd", "kode_indikator"]
    # Complementary suppression may hide more rows (and BH then counts fewer tests); the
    # rows left visible carry exactly what the per-period rows give.
    assert published.filter(~pl.col("suppressed")).height > 0
    assert set(from_periods.filter("suppressed").select(order).iter_rows()) <= set(
        published.filter("suppressed").select(order).iter_rows()
    )
    visible = published.filter(~pl.col("suppressed")).drop("p_adjusted", "significant")
    expected = from_periods.join(visible.select(order), on=order, how="semi")
    assert_frame_equal(
        visible.sort(order),
        expected.drop("p_adjusted", "significant").sort(order),
        check_dtypes=False,
        rel_tol=1e-9,
    )
