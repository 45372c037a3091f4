"""analysis.conditional: ordered-logit odds ratio of a better rating at equal achievement."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.numdiff import approx_fprime, approx_hess

from pipelines.analysis import conditional, findings, sources
from pipelines.analysis.conditional import (
    GOLONGAN_ORDER,
    conditional_rating,
    design,
    prepare,
)
from pipelines.analysis.fairness import PREDIKAT_ORDER
from pipelines.analysis.ordered_logit import OrderedLogit as _OrderedLogit

RATINGS = ["DI BAWAH EKSPEKTASI", "SESUAI EKSPEKTASI", "DI ATAS EKSPEKTASI"]
PREDIKAT_WORST_FIRST = list(reversed(PREDIKAT_ORDER))
# PermenPANRB 6/2022 (docs/domain.md, Rating matrix): predikat[hasil][perilaku],
# index 0 = DI BAWAH .. 2 = DI ATAS
MATRIX = [
    ["Sangat Kurang", "Butuh Perbaikan", "Butuh Perbaikan"],
    ["Kurang/Misconduct", "Baik", "Baik"],
    ["Kurang/Misconduct", "Baik", "Sangat Baik"],
]


def population(n: int, seed: int, agencies: int = 6, women_shift: float = 0.0) -> dict:
    """Employees with gender, agency, golongan (women in lower grades) and achievement."""
    rng = np.random.default_rng(seed)
    women = rng.random(n) < 0.45
    opd = rng.integers(0, agencies, n)
    rank = np.clip(rng.integers(5, 16, n) - 2 * women, 1, 17)
    achievement = rng.normal(1.0, 0.12, n) + women_shift * women
    return {
        "rng": rng,
        "women": women,
        "opd": opd,
        "rank": rank,
        "achievement": achievement,
        "agency_effect": rng.normal(0, 0.4, agencies)[opd],
    }


def frame(pop: dict, tahun: int = 2024, **outcomes: np.ndarray) -> pl.DataFrame:
    n = len(pop["women"])
    columns = {
        "employee_key": [f"e{i}" for i in range(n)],
        "tahun": [tahun] * n,
        "kode_opd": [f"OPD{j:02d}" for j in pop["opd"]],
        "golongan": [GOLONGAN_ORDER[r - 1] for r in pop["rank"]],
        "jenis_jabatan": ["Pelaksana"] * n,
        "gender": np.where(pop["women"], "P", "L").tolist(),
        "age_band": ["31-40"] * n,
        "mean_achievement": pop["achievement"],
        "predikat": ["Baik"] * n,
        "rating_hasil_kerja": ["SESUAI EKSPEKTASI"] * n,
        "rating_perilaku": ["SESUAI EKSPEKTASI"] * n,
    }
    return pl.DataFrame(columns | {k: list(v) for k, v in outcomes.items()})


def ordered(latent: np.ndarray, cuts: list[float], levels: list[str]) -> np.ndarray:
    return np.array(levels, dtype=object)[np.digitize(latent, cuts)]


def rated_by_rules(pop: dict, perilaku_penalty: int = 0) -> dict[str, np.ndarray]:
    """Both ratings driven by achievement (plus agency, grade, noise) only; women's
    behaviour rating moved ``perilaku_penalty`` levels down; predikat from the matrix."""
    rng = pop["rng"]
    base = 6 * (pop["achievement"] - 1) + pop["agency_effect"] + 0.05 * (pop["rank"] - 9)
    hasil = np.digitize(base + rng.logistic(size=len(base)), [-1.8, 1.2])
    perilaku = np.digitize(base + rng.logistic(size=len(base)), [-1.8, 1.2])
    perilaku = np.clip(perilaku - perilaku_penalty * pop["women"], 0, 2)
    predikat = [MATRIX[h][p] for h, p in zip(hasil, perilaku, strict=True)]
    return {
        "rating_hasil_kerja": np.array(RATINGS, dtype=object)[hasil],
        "rating_perilaku": np.array(RATINGS, dtype=object)[perilaku],
        "predikat": np.array(predikat, dtype=object),
    }


def row(result: pl.DataFrame, outcome: str) -> dict:
    rows = result.filter(pl.col("outcome") == outcome).to_dicts()
    assert len(rows) == 1
    return rows[0]


# ---------------------------------------------------------------- the model itself


def test_analytic_derivatives_match_numerical_ones() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3))
    y = np.digitize(x @ [1.0, -0.5, 0.2] + rng.logistic(size=400), [-1.5, 0.0, 1.0])
    model = _OrderedLogit(y, x)
    params = model.start_params + rng.normal(0, 0.2, model.start_params.size)
    numerical = approx_fprime(params, model.loglike, centered=True)
    np.testing.assert_allclose(model.score(params), numerical, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.score_obs(params).sum(axis=0), model.score(params))
    np.testing.assert_allclose(
        model.hessian(params), approx_hess(params, model.loglike), rtol=1e-4, atol=1e-3
    )


def test_known_gender_effect_recovered_and_matches_statsmodels_oracle() -> None:
    pop = population(4000, seed=11)
    latent = (
        3 * (pop["achievement"] - 1) * 4
        + 0.8 * pop["women"]
        + pop["agency_effect"]
        + 0.1 * (pop["rank"] - 9)
        + pop["rng"].logistic(size=4000)
    )
    predikat = ordered(latent, [-3.0, -2.0, -0.5, 1.5], PREDIKAT_WORST_FIRST)
    data = frame(pop, predikat=predikat)
    result = conditional_rating(data)
    got = row(result, "predikat")
    assert (got["subject"], got["reference"], got["dimension"]) == ("P", "L", "gender")
    assert got["effect_measure"] == "odds_ratio" and got["kode_opd"] is None
    assert got["n"] == int(pop["women"].sum()) and got["n_reference"] == 4000 - got["n"]
    assert got["effect_ci_low"] < math.exp(0.8) < got["effect_ci_high"]
    assert got["effect"] > 1  # women rated better: OR > 1

    # oracle: the stock statsmodels OrderedModel (numerical derivatives) on the same design
    d = design(prepare(data), "predikat", "gender", "L", ["P"])
    assert d.columns[:2] == ["mean_achievement", "golongan_rank"]
    i = d.columns.index("gender=P")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = OrderedModel(d.y, d.x, distr="logit").fit(method="bfgs", maxiter=2000, disp=False)
    beta, se = stock.params[i], stock.bse[i]
    assert got["effect"] == pytest.approx(math.exp(beta), rel=1e-4)
    assert got["effect_ci_low"] == pytest.approx(math.exp(beta - 1.959964 * se), rel=1e-3)
    assert got["p_value"] == pytest.approx(stock.pvalues[i], rel=1e-2, abs=1e-12)


def test_two_levels_equal_binary_logit() -> None:
    pop = population(1500, seed=12)
    latent = 8 * (pop["achievement"] - 1) - 0.6 * pop["women"] + pop["agency_effect"]
    hasil = ordered(latent + pop["rng"].logistic(size=1500), [0.3], RATINGS[1:])
    data = frame(pop, rating_hasil_kerja=hasil)
    got = row(conditional_rating(data), "rating_hasil_kerja")
    d = design(prepare(data), "rating_hasil_kerja", "gender", "L", ["P"])
    i = d.columns.index("gender=P") + 1  # after the constant
    logit = sm.Logit(d.y, sm.add_constant(d.x)).fit(disp=False)
    assert got["effect"] == pytest.approx(math.exp(logit.params[i]), rel=1e-5)
    assert got["effect_ci_high"] == pytest.approx(math.exp(logit.conf_int()[i, 1]), rel=1e-4)
    assert got["p_value"] == pytest.approx(logit.pvalues[i], rel=1e-3)


# ---------------------------------------------------------------- what it is for


def test_lower_achievement_explains_crude_gap() -> None:
    pop = population(6000, seed=21, women_shift=-0.12)
    data = frame(pop, **rated_by_rules(pop))
    top = data.group_by("gender").agg((pl.col("predikat") == "Sangat Baik").mean().alias("top"))
    rates = dict(top.iter_rows())
    assert rates["P"] / rates["L"] < 0.6  # the crude gap is large
    judged = findings.judge(conditional_rating(data))
    assert judged.height == 3
    for got in judged.iter_rows(named=True):
        assert got["effect_ci_low"] < 1 < got["effect_ci_high"], got
        assert got["verdict"] == findings.NO_FINDING


def test_planted_behaviour_bias_shows_in_perilaku_only() -> None:
    pop = population(4000, seed=31)
    data = frame(pop, **rated_by_rules(pop, perilaku_penalty=1))
    judged = findings.judge(conditional_rating(data))
    perilaku = row(judged, "rating_perilaku")
    assert perilaku["verdict"] == findings.FINDING and perilaku["effect"] < 0.8
    assert perilaku["reason"].startswith("Temuan")
    hasil = row(judged, "rating_hasil_kerja")
    assert hasil["verdict"] == findings.NO_FINDING
    assert hasil["effect_ci_low"] < 1 < hasil["effect_ci_high"]


def test_null_simulation_calibrated() -> None:
    """No gender effect at equal achievement: Wald p < 0.05 in about 5% of the tests."""
    p_values, with_finding = [], 0
    for seed in range(100):
        pop = population(400, seed=1000 + seed, agencies=4)
        judged = findings.judge(conditional_rating(frame(pop, **rated_by_rules(pop))))
        p_values += judged["p_value"].to_list()
        with_finding += int((judged["verdict"] == findings.FINDING).any())
    assert None not in p_values
    assert np.mean(np.array(p_values) < 0.05) <= 0.08
    assert with_finding <= 10


# ---------------------------------------------------------------- refusals


def _simple(n: int = 300, seed: int = 41) -> tuple[dict, pl.DataFrame]:
    pop = population(n, seed=seed)
    return pop, frame(pop, **rated_by_rules(pop))


def test_missing_achievement_not_assessable() -> None:
    _, data = _simple()
    result = conditional_rating(data.with_columns(mean_achievement=pl.lit(None)))
    assert result.height == 3
    assert set(result["verdict"]) == {findings.NOT_ASSESSABLE}
    assert set(result["reason"]) == {"Capaian tidak tersedia"}
    assert result["p_value"].is_null().all()


def test_small_group_suppressed_without_figures() -> None:
    _, data = _simple()
    women = data.filter(pl.col("gender") == "P").head(4)
    result = conditional_rating(pl.concat([data.filter(pl.col("gender") == "L"), women]))
    assert set(result["verdict"]) == {findings.SUPPRESSED}
    assert set(result["reason"]) == {"Kurang dari 5 pegawai per kelompok"}
    assert result["n"].is_null().all() and result["effect"].is_null().all()
    men_only = conditional_rating(data.filter(pl.col("gender") == "P"))  # reference missing
    assert set(men_only["verdict"]) == {findings.SUPPRESSED}
    assert set(men_only["subject"]) == {"P"} and set(men_only["reference"]) == {"L"}


def test_single_level_not_assessable() -> None:
    _, data = _simple()
    result = conditional_rating(data.with_columns(rating_perilaku=pl.lit("SESUAI EKSPEKTASI")))
    perilaku = row(result, "rating_perilaku")
    assert perilaku["verdict"] == findings.NOT_ASSESSABLE
    assert perilaku["reason"] == "Hanya satu tingkat rating perilaku kerja yang teramati"
    assert row(result, "predikat")["p_value"] is not None  # the others are still tested


def test_separation_is_not_convergence() -> None:
    pop, data = _simple()
    separated = np.where(pop["women"], "DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI")
    result = conditional_rating(data.with_columns(rating_hasil_kerja=pl.Series(separated)))
    hasil = row(result, "rating_hasil_kerja")
    assert hasil["verdict"] == findings.NOT_ASSESSABLE
    assert hasil["reason"] == "Model tidak konvergen"


def test_group_confounded_with_agency_not_assessable() -> None:
    _, data = _simple()
    confounded = data.with_columns(
        kode_opd=pl.when(pl.col("gender") == "P").then(pl.lit("A")).otherwise(pl.lit("B"))
    )
    result = conditional_rating(confounded)
    assert set(result["verdict"]) == {findings.NOT_ASSESSABLE}
    assert set(result["reason"]) == {"Kelompok tidak dapat dipisahkan dari instansi dan golongan"}


def test_missing_outcome_and_columns() -> None:
    _, data = _simple()
    result = conditional_rating(data.with_columns(rating_perilaku=pl.lit(None, pl.String)))
    assert row(result, "rating_perilaku")["reason"] == "Data rating perilaku kerja tidak tersedia"
    with pytest.raises(ValueError, match="mean_achievement"):
        conditional_rating(data.drop("mean_achievement"))
    assert conditional_rating(data.clear()).height == 0


def test_large_year_sampled_and_other_dimension(monkeypatch: pytest.MonkeyPatch) -> None:
    _, data = _simple(n=3000)
    monkeypatch.setattr(conditional, "MAX_FIT_ROWS", 1000)
    result = conditional_rating(data)
    assert (result["n"] + result["n_reference"] <= 1000).all()
    assert (result["n"] + result["n_reference"] > 900).all()  # at most a few extreme agencies
    again = conditional_rating(data)
    assert again.equals(result)  # seeded sample
    monkeypatch.undo()
    by_age = conditional_rating(
        data.with_columns(age_band=pl.Series(np.where(np.arange(3000) % 3, "31-40", "41-50"))),
        dimensions=("age_band",),
    )
    assert set(by_age["subject"]) == {"41-50"} and set(by_age["reference"]) == {"31-40"}


def test_twenty_thousand_rows_in_a_few_seconds() -> None:
    pop = population(20_000, seed=51, agencies=40)
    data = frame(pop, **rated_by_rules(pop))
    data = pl.concat(
        [data, data.with_columns(tahun=pl.lit(2023, pl.Int64))]
    )  # two years of 20k rows
    start = time.perf_counter()
    result = conditional_rating(data)
    elapsed = time.perf_counter() - start
    assert result.height == 6 and result["p_value"].is_not_null().all()
    assert elapsed < 15, elapsed  # ~1 s idle; the stock OrderedModel takes ~20 s per fit


def test_ratings_only_records_are_left_out_explicitly_and_not_assessable_alone() -> None:
    """SIASN records (n_indicators = 0) are ratings only: they are kept out of the fit by
    the filter, not by their NULL achievement (here they carry one, to tell the two apart),
    and a year with SIASN records only is not assessable for that reason, not 'missing'."""
    _, exports = _simple()
    exports = exports.with_columns(n_indicators=pl.lit(3))
    siasn = exports.with_columns(
        employee_key=pl.col("employee_key") + "-siasn",
        n_indicators=pl.lit(0),
        mean_achievement=pl.lit(2.0),
        rating_perilaku=pl.lit("DI ATAS EKSPEKTASI"),
    )
    only_exports = conditional_rating(exports)
    mixed = conditional_rating(pl.concat([exports, siasn]))
    assert mixed.drop("reason").equals(only_exports.drop("reason"))
    assert mixed["p_value"].is_not_null().all()

    siasn_year = siasn.with_columns(tahun=pl.lit(2025, pl.Int64), mean_achievement=pl.lit(None))
    result = conditional_rating(pl.concat([exports, siasn_year]))
    later = result.filter(pl.col("tahun") == 2025)
    assert later.height == 3 and set(later["verdict"]) == {findings.NOT_ASSESSABLE}
    assert set(later["reason"]) == {sources.RATINGS_ONLY_REASON}
    assert "SIASN" in sources.RATINGS_ONLY_REASON
    assert later["p_value"].is_null().all() and later["n"].is_null().all()
    assert result.filter(pl.col("tahun") == 2024)["p_value"].is_not_null().all()

    by_source = conditional_rating(
        pl.concat([exports, siasn_year])
        .drop("n_indicators")
        .with_columns(
            source=pl.when(pl.col("tahun") == 2025)
            .then(pl.lit("siasn"))
            .otherwise(pl.lit("export"))
        )
    )
    assert by_source.equals(result)
