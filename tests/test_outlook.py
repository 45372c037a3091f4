"""analysis.year_end_outlook on hand-computed series: the projections, their 95% intervals
(checked against statsmodels / scipy computed independently), the turun swap, the Wilson
interval of the 20-JP share, and suppression of small groups."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from pipelines.analysis.outlook import (
    LABEL,
    OUTLOOK_SCHEMA,
    build_outlook,
    project_last,
    project_sum,
    small_groups_published,
)

MART = {
    "kode_opd": pl.String,
    "nama_opd": pl.String,
    "pemda": pl.String,
    "tahun": pl.Int32,
    "triwulan": pl.Int32,
    "kode_indikator": pl.String,
    "indikator": pl.String,
    "arah": pl.String,
    "jenis_agregasi": pl.String,
    "n_holders": pl.Int32,
    "annual_target": pl.Float64,
    **{f"realisasi_tw{k}": pl.Float64 for k in range(1, 5)},
    "realisasi_to_date": pl.Float64,
    "capaian_annual": pl.Float64,
}


def _row(kode, ind, arah, agregasi, target, quarters, n=10, tahun=2024) -> dict:
    """The mart row as of the last of `quarters`."""
    q = len(quarters)
    to_date = sum(quarters) if agregasi == "jumlah" else quarters[-1]
    return {
        "kode_opd": kode,
        "nama_opd": f"Dinas {kode}",
        "pemda": "Kab X",
        "tahun": tahun,
        "triwulan": q,
        "kode_indikator": ind,
        "indikator": ind,
        "arah": arah,
        "jenis_agregasi": agregasi,
        "n_holders": n,
        "annual_target": target,
        **{f"realisasi_tw{k}": (quarters[k - 1] if k <= q else None) for k in range(1, 5)},
        "realisasi_to_date": to_date,
        "capaian_annual": to_date / target,
    }


def _mart(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=MART, orient="row")


def _agency_quarter(sizes: dict[tuple[str, int], int], tahun: int = 2024) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, tahun, q, n) for (k, q), n in sizes.items()],
        schema={
            "kode_opd": pl.String,
            "tahun": pl.Int32,
            "triwulan": pl.Int32,
            "n_with_indicators": pl.Int32,
        },
        orient="row",
    )


EMPLOYEES = {"employee_key": pl.String, "tahun": pl.Int32, "kode_opd": pl.String}
TRAINING = {
    "employee_key": pl.String,
    "tahun": pl.Int32,
    **{f"jp_ytd_q{k}": pl.Float64 for k in range(1, 5)},
}


def _outlook(rows, sizes, employees=(), training=(), minimum=5) -> pl.DataFrame:
    return build_outlook(
        _mart(rows),
        _agency_quarter(sizes),
        pl.DataFrame(list(employees), schema=EMPLOYEES, orient="row"),
        pl.DataFrame(list(training), schema=TRAINING, orient="row"),
        minimum,
    )


def _one(outlook: pl.DataFrame, **where) -> dict:
    part = outlook
    for column, value in where.items():
        part = part.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)
    assert part.height == 1, part
    return part.row(0, named=True)


def _ols_interval(values: list[float]) -> tuple[float, float, float]:
    """statsmodels' OLS prediction interval at x = 4, independent of the code under test."""
    x = sm.add_constant(np.arange(1, len(values) + 1, dtype=float))
    fit = sm.OLS(np.asarray(values, dtype=float), x).fit()
    frame = fit.get_prediction(np.array([[1.0, 4.0]])).summary_frame(alpha=0.05)
    return (
        float(frame["mean"].iloc[0]),
        float(frame["obs_ci_lower"].iloc[0]),
        float(frame["obs_ci_upper"].iloc[0]),
    )


def test_terakhir_known_slope_projects_exactly() -> None:
    p = project_last([80.0, 84.0, 88.0])
    assert p.point == pytest.approx(92.0)
    assert (p.low, p.high) == (pytest.approx(92.0), pytest.approx(92.0))  # a perfect line
    outlook = _outlook(
        [_row("O1", "K1", "naik", "terakhir", 100.0, [80.0, 84.0, 88.0])], {("O1", 3): 10}
    )
    row = _one(outlook, scope="indicator", kode_indikator="K1")
    assert row["projected"] == pytest.approx(0.92)
    assert row["projected_band"] == "Sangat Tinggi"  # 92% is above 90
    assert row["value_to_date"] == pytest.approx(0.88)
    assert row["required_pace"] == 100.0 and row["required_pace_kind"] == "tingkat_tw4_minimal"
    assert row["label"] == LABEL and row["as_of_triwulan"] == 3


def test_terakhir_interval_matches_statsmodels() -> None:
    values = [80.0, 85.0, 88.0]
    mean, low, high = _ols_interval(values)
    p = project_last(values)
    assert (p.point, p.low, p.high) == (
        pytest.approx(mean),
        pytest.approx(low),
        pytest.approx(high),
    )
    # by hand: slope 4, intercept 76 1/3, SSE 2/3 on 1 df, x0 = 4, mean x 2, Sxx 2
    half = stats.t.ppf(0.975, 1) * math.sqrt(2 / 3) * math.sqrt(1 + 1 / 3 + 4 / 2)
    assert p.point == pytest.approx(92 + 1 / 3)
    assert p.high - p.point == pytest.approx(half)


def test_jumlah_projection_interval_and_pace() -> None:
    outlook = _outlook([_row("O1", "K1", "naik", "jumlah", 120.0, [30.0, 34.0])], {("O1", 2): 10})
    row = _one(outlook, scope="indicator", kode_indikator="K1")
    assert row["projected_realisasi"] == pytest.approx(128.0)  # 30 + 34 + 2 × 32
    assert row["projected"] == pytest.approx(128 / 120)  # 1.0667
    # remaining two quarters' sum: 64 ± t(0.975, 1) · s · √(2 (1 + 2/2)), s = √8
    half = stats.t.ppf(0.975, 1) * math.sqrt(8.0) * 2.0
    assert row["projected_realisasi_high"] == pytest.approx(128 + half)
    assert half > 64  # so the low end is the 64 already realised
    assert row["projected_realisasi_low"] == pytest.approx(64.0)
    assert row["projected_low"] == pytest.approx(64 / 120)
    assert row["projected_high"] == pytest.approx((128 + half) / 120)
    assert row["required_pace"] == pytest.approx(28.0)  # (120 − 64) / 2
    assert row["required_pace_kind"] == "per_triwulan_minimal"


def test_jumlah_interval_against_simulation_free_formula() -> None:
    """The prediction variance of the sum of m new quarters is m σ² + m² σ²/q."""
    x = np.array([10.0, 14.0, 9.0])
    p = project_sum(list(x))
    se = x.std(ddof=1) * math.sqrt(1 * 1 + 1**2 / 3)
    assert p.point == pytest.approx(33 + 11)
    assert p.high == pytest.approx(44 + stats.t.ppf(0.975, 2) * se)
    assert 44 - stats.t.ppf(0.975, 2) * se < 33  # so the low end is the 33 realised
    assert p.low == pytest.approx(33.0)
    steady = project_sum([10.0, 12.0, 11.0])  # s = 1: the interval stays above 33
    half = stats.t.ppf(0.975, 2) * math.sqrt(1 + 1 / 3)
    assert (steady.low, steady.high) == (pytest.approx(44 - half), pytest.approx(44 + half))


def test_turun_swaps_interval_ends() -> None:
    values = [12.0, 10.0, 9.0]  # days: lower is better
    mean, low, high = _ols_interval(values)
    outlook = _outlook([_row("O1", "K1", "turun", "terakhir", 10.0, values)], {("O1", 3): 10})
    row = _one(outlook, scope="indicator", kode_indikator="K1")
    assert row["projected"] == pytest.approx((20 - mean) / 10)
    assert row["projected_low"] == pytest.approx(max((20 - high) / 10, 0.0))
    assert row["projected_high"] == pytest.approx(max((20 - low) / 10, 0.0))
    assert row["projected_low"] < row["projected"] < row["projected_high"]
    assert row["required_pace_kind"] == "tingkat_tw4_maksimal"


def test_turun_jumlah_ceiling_already_passed() -> None:
    outlook = _outlook([_row("O1", "K1", "turun", "jumlah", 10.0, [6.0, 7.0])], {("O1", 2): 10})
    row = _one(outlook, scope="indicator", kode_indikator="K1")
    assert row["required_pace"] == 0.0 and row["required_pace_kind"] == "per_triwulan_maksimal"
    assert "sudah terlampaui" in row["reason"]
    assert row["projected"] == pytest.approx(0.0)  # R = 26 ≥ 2T: floored at 0


def test_first_quarter_has_no_interval() -> None:
    outlook = _outlook(
        [
            _row("O1", "K1", "naik", "terakhir", 100.0, [70.0]),
            _row("O1", "K2", "naik", "jumlah", 40.0, [9.0]),
        ],
        {("O1", 1): 10},
    )
    last = _one(outlook, kode_indikator="K1")
    assert last["projected"] == pytest.approx(0.70) and last["projected_low"] is None
    assert last["status"] == "projected" and "minimal 3 triwulan" in last["reason"]
    total = _one(outlook, kode_indikator="K2")
    assert total["projected_realisasi"] == pytest.approx(36.0) and total["projected_high"] is None
    assert "minimal 2 triwulan" in total["reason"]
    agency = _one(outlook, scope="agency", measure="capaian_annual")
    assert agency["projected"] == pytest.approx((0.70 + 0.90) / 2)
    assert agency["projected_low"] is None and agency["n_indicators"] == 2


def test_agency_mean_and_missing_inputs() -> None:
    outlook = _outlook(
        [
            _row("O1", "K1", "naik", "terakhir", 100.0, [80.0, 84.0, 88.0]),
            _row("O1", "K2", "naik", "jumlah", 120.0, [30.0, 34.0, 32.0]),
            {**_row("O1", "K3", "naik", "jumlah", 50.0, [5.0, 5.0, 5.0]), "realisasi_tw2": None},
            {**_row("O1", "K4", "naik", "terakhir", 1.0, [1.0, 1.0, 1.0]), "annual_target": None},
        ],
        {("O1", 3): 10},
    )
    k3, k4 = _one(outlook, kode_indikator="K3"), _one(outlook, kode_indikator="K4")
    assert k3["status"] == k4["status"] == "not_assessable"
    assert k3["reason"] == "Realisasi TW 2 tidak ada" and k3["projected"] is None
    assert k4["projected"] is None and "Target tahunan" in k4["reason"]
    agency = _one(outlook, scope="agency", measure="capaian_annual")
    k1, k2 = _one(outlook, kode_indikator="K1"), _one(outlook, kode_indikator="K2")
    assert k2["projected"] == pytest.approx(128 / 120)
    assert agency["projected"] == pytest.approx((0.92 + 128 / 120) / 2)
    assert agency["projected_low"] == pytest.approx((k1["projected_low"] + k2["projected_low"]) / 2)
    assert agency["n"] == 10 and agency["n_indicators"] == 2


def test_share_20jp_projection_and_wilson() -> None:
    # as of TW II: year-to-date JP 0, 5, 10, 12, 20 and one employee without training
    jp = {"e1": 0.0, "e2": 5.0, "e3": 10.0, "e4": 12.0, "e5": 20.0}
    employees = [(e, 2024, "O1") for e in [*jp, "e6"]]
    training = [(e, 2024, 0.0, v, v, v) for e, v in jp.items()]
    outlook = _outlook(
        [_row("O1", "K1", "naik", "jumlah", 120.0, [30.0, 34.0])],
        {("O1", 2): 10},
        employees,
        training,
    )
    row = _one(outlook, measure="share_20jp")
    # × 4/2: 0, 10, 20, 24, 40, 0 -> three reach 20 JP
    assert row["projected"] == pytest.approx(3 / 6)
    assert row["value_to_date"] == pytest.approx(1 / 6)
    low, high = proportion_confint(3, 6, alpha=0.05, method="wilson")
    assert (row["projected_low"], row["projected_high"]) == (
        pytest.approx(low),
        pytest.approx(high),
    )
    z = stats.norm.ppf(0.975)  # Wilson by hand
    centre = (0.5 + z**2 / 12) / (1 + z**2 / 6)
    assert row["projected_low"] == pytest.approx(
        centre - z / (1 + z**2 / 6) * math.sqrt(0.25 / 6 + z**2 / 144)
    )
    # five under 20 JP still need 20, 15, 10, 8, 20 = 73 JP over 2 quarters
    assert row["required_pace"] == pytest.approx(73 / 5 / 2)
    assert row["n"] == 6 and row["target"] == 1.0


def test_share_20jp_without_any_training_record_is_not_assessable() -> None:
    """No training export for the year: the share is unknown, not 0%."""
    employees = [(f"e{i}", 2024, "O1") for i in range(6)]
    outlook = _outlook(
        [_row("O1", "K1", "naik", "jumlah", 120.0, [30.0, 34.0])], {("O1", 2): 10}, employees
    )
    row = _one(outlook, measure="share_20jp")
    assert (row["status"], row["projected"]) == ("not_assessable", None)
    assert "Tidak ada data pelatihan" in row["reason"]


def test_small_groups_are_suppressed() -> None:
    employees = [(f"e{i}", 2024, "O2") for i in range(4)]
    outlook = _outlook(
        [
            _row("O1", "K1", "naik", "terakhir", 100.0, [80.0, 84.0], n=3),
            _row("O1", "K2", "naik", "terakhir", 100.0, [80.0, 82.0], n=8),
            _row("O2", "K1", "naik", "terakhir", 100.0, [80.0, 84.0], n=9),
        ],
        {("O1", 2): 9, ("O2", 2): 4},
        employees,
    )
    hidden = _one(outlook, kode_opd="O1", kode_indikator="K1")
    assert hidden["status"] == "suppressed" and hidden["n"] is None
    assert all(hidden[c] is None for c in ("value_to_date", "projected", "required_pace"))
    # the agency mean only averages the published indicator
    assert _one(outlook, kode_opd="O1", scope="agency", measure="capaian_annual")[
        "projected"
    ] == pytest.approx(0.86)  # 80, 82 -> 86 at TW IV
    assert (
        _one(outlook, kode_opd="O2", scope="agency", measure="capaian_annual")["status"]
        == "suppressed"
    )
    assert _one(outlook, kode_opd="O2", measure="share_20jp")["status"] == "suppressed"
    assert small_groups_published(outlook, 5) == 0


def test_only_the_running_year_is_projected() -> None:
    rows = [
        _row("O1", "K1", "naik", "terakhir", 100.0, [80.0, 84.0], tahun=2023),
        _row("O2", "K1", "naik", "terakhir", 100.0, [80.0, 84.0, 86.0, 90.0]),
        _row("O3", "K1", "naik", "terakhir", 100.0, [80.0, 84.0]),
    ]
    outlook = _outlook(rows, {("O2", 4): 10, ("O3", 2): 10})
    assert outlook["kode_opd"].unique().to_list() == ["O3"]
    assert dict(outlook.schema) == OUTLOOK_SCHEMA
