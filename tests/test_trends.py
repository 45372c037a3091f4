"""Trend analysis: Mann-Kendall and Sen's slope against hand calculations and the textbook
formula (not the library under test), period-on-period changes on a hand-made mart, BH by
hand, the schemas, and the planted satisfaction decline found in generated data."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandera.errors
import polars as pl
import pytest
from scipy.stats import norm

from pipelines.analysis import trends
from pipelines.analysis.trend_schemas import trend_series_schema, trend_tests_schema

pytestmark = pytest.mark.xdist_group("pipeline")

SHARES = ["share_sangat_baik", *trends.BOTTOM_BAND_SHARES]


# ---------------------------------------------------------------- Mann-Kendall / Sen


def test_strictly_increasing_series_has_hand_computed_sen_slope() -> None:
    values = np.array([1.0, 3.0, 4.0, 7.0, 8.0])
    # Pairwise slopes (x_j - x_i) / (j - i): 2, 1.5, 2, 1.75, 1, 2, 5/3, 3, 2, 1.
    # Sorted: 1, 1, 1.5, 5/3, 1.75, 2, 2, 2, 2, 3 -> median = (1.75 + 2) / 2.
    result = trends.mann_kendall(values)
    assert result is not None
    assert result.trend == "increasing"
    assert result.sen_slope == pytest.approx(1.875)
    assert result.tau == pytest.approx(1.0)


def test_mann_kendall_matches_the_formula() -> None:
    values = np.array([4.0, 2.0, 5.0, 1.0, 3.0, 0.5])
    # S = sum over i < j of sign(x_j - x_i), counted by hand per i: -3, 0, -3, 0, -1.
    s, n = -7, 6
    var_s = n * (n - 1) * (2 * n + 5) / 18  # no ties
    z = (s + 1) / math.sqrt(var_s)  # continuity correction towards 0
    p = 2 * (1 - norm.cdf(abs(z)))
    result = trends.mann_kendall(values)
    assert result is not None
    assert p == pytest.approx(0.2597, abs=1e-4)
    assert result.p_value == pytest.approx(p, rel=1e-12)
    assert result.tau == pytest.approx(s / (n * (n - 1) / 2))
    assert result.trend == "no trend"


def test_short_and_constant_series() -> None:
    assert trends.mann_kendall(np.array([1.0, np.nan, 2.0, 3.0])) is None  # 3 observed values
    flat = trends.mann_kendall(np.array([2.5, 2.5, 2.5, 2.5, 2.5]))
    assert flat == trends.MannKendall("no trend", 1.0, 0.0, 0.0)


def _series(values: dict[tuple[int, int | None], float], **keys: str | None) -> pl.DataFrame:
    base = {
        "scope": "agency",
        "kode_opd": "A",
        "unit_layanan": None,
        "measure": "ikm",
        "grain": "quarter",
    }
    base.update(keys)
    return pl.DataFrame(
        [{**base, "tahun": t, "triwulan": q, "value": v} for (t, q), v in values.items()],
        schema={
            **dict.fromkeys(trends.SERIES_KEYS, pl.String),
            "tahun": pl.Int32,
            "triwulan": pl.Int32,
            "value": pl.Float64,
        },
    )


def test_sen_slope_is_per_quarter_across_a_missing_quarter() -> None:
    # 2023-Q3 absent: +2 per quarter throughout, so every pairwise slope is exactly 2.
    series = _series({(2023, 1): 10.0, (2023, 2): 12.0, (2023, 4): 16.0, (2024, 1): 18.0})
    tests = trends.build_trend_tests(series)
    row = tests.row(0, named=True)
    assert row["sen_slope"] == pytest.approx(2.0)
    assert (row["n_periods"], row["first_period"], row["last_period"]) == (4, "2023-Q1", "2024-Q1")


def test_bh_adjustment_by_hand() -> None:
    # Ranks of 0.01, 0.04, 0.03, 0.20 are 1, 3, 2, 4; p * m / rank = .04, .0533, .06, .20;
    # running minimum from the largest rank down: .04, .0533, .0533, .20.
    adjusted = trends.benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    assert adjusted == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])


def test_tests_table_adjusts_over_all_series_and_assesses_direction() -> None:
    # Series 1 rises strictly (n = 5): S = 10, Var = 5*4*15/18, p = 0.0275 (raw, < 0.05).
    # Series 2 is the formula series above: p = 0.2597. BH over the two: 0.0275 * 2 = 0.055,
    # so the rise is not significant once adjusted.
    rising = _series(
        {(2020 + i, None): v for i, v in enumerate([1.0, 3.0, 4.0, 7.0, 8.0])}, grain="year"
    )
    mixed = _series(
        {(2020 + i, None): v for i, v in enumerate([4.0, 2.0, 5.0, 1.0, 3.0, 0.5])},
        kode_opd="B",
        grain="year",
    )
    tests = trends.build_trend_tests(pl.concat([rising, mixed])).sort("kode_opd")
    p_rising = 2 * (1 - norm.cdf(9 / math.sqrt(5 * 4 * 15 / 18)))
    assert tests["mk_p_value"][0] == pytest.approx(p_rising)
    assert tests["mk_trend"][0] == "increasing"
    assert tests["p_adjusted"].to_list() == pytest.approx([2 * p_rising, tests["mk_p_value"][1]])
    assert tests["significant"].to_list() == [False, False]
    assert tests["assessment"].to_list() == ["stable", "stable"]
    assert tests["first_period"].to_list() == ["2020", "2020"]
    trend_tests_schema.validate(tests)


@pytest.mark.parametrize(
    ("measure", "trend", "significant", "expected"),
    [
        ("ikm", "decreasing", True, "declining"),
        ("mean_achievement", "increasing", True, "improving"),
        ("share_bottom_band", "increasing", True, "declining"),
        ("share_bottom_band", "decreasing", True, "improving"),
        ("nrr_u3", "increasing", False, "stable"),
        ("mean_self_supervisor_gap", "increasing", True, "not rated"),
    ],
)
def test_assessment_uses_the_good_direction(
    measure: str, trend: str, significant: bool, expected: str
) -> None:
    assert trends.assess(measure, trend, significant) == expected


# ---------------------------------------------------------------- series and changes


def _mart(rows: list[dict[str, object]], quarter: bool) -> pl.DataFrame:
    """A mart frame with every measure column; unset measures are NULL."""
    columns = {"kode_opd": pl.String, "tahun": pl.Int32}
    if quarter:
        columns["triwulan"] = pl.Int32
    for name in [*SHARES, *trends.AGENCY_MEASURES]:
        columns.setdefault(name, pl.Float64)
    columns.pop("share_bottom_band")
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema=columns)


def test_qoq_and_yoy_changes_on_a_hand_made_mart() -> None:
    values = {(2023, 1): 0.80, (2023, 2): 0.85, (2023, 3): 0.90, (2023, 4): 0.70}
    values |= {(2024, 1): 0.95, (2024, 3): 0.60}  # 2024-Q2 missing
    quarter = _mart(
        [
            {"kode_opd": "A", "tahun": t, "triwulan": q, "mean_achievement": v}
            for (t, q), v in values.items()
        ],
        quarter=True,
    )
    year = _mart(
        [
            {"kode_opd": "A", "tahun": 2023, "mean_achievement": 0.81, **_bands(0.1, 0.05, 0.02)},
            {"kode_opd": "A", "tahun": 2024, "mean_achievement": 0.77, **_bands(0.2, 0.0, 0.01)},
        ],
        quarter=False,
    )
    unit = _unit_frame([])
    series = trends.build_trend_series(quarter, year, unit)
    trend_series_schema.validate(series)

    achievement = series.filter(
        pl.col("measure") == "mean_achievement", pl.col("grain") == "quarter"
    )
    got = {
        (r["tahun"], r["triwulan"]): (r["qoq_change"], r["yoy_change"])
        for r in achievement.iter_rows(named=True)
    }
    expected = {
        (2023, 1): (None, None),
        (2023, 2): (0.05, None),
        (2023, 3): (0.05, None),
        (2023, 4): (-0.20, None),
        (2024, 1): (0.25, 0.15),
        (2024, 3): (None, -0.30),  # the previous quarter (2024-Q2) is absent
    }
    assert got.keys() == expected.keys()
    for period, (qoq, yoy) in expected.items():
        assert got[period][0] == (None if qoq is None else pytest.approx(qoq)), period
        assert got[period][1] == (None if yoy is None else pytest.approx(yoy)), period

    yearly = series.filter(pl.col("grain") == "year").sort("measure", "tahun")
    achievement_year = yearly.filter(pl.col("measure") == "mean_achievement")
    assert achievement_year["qoq_change"].to_list() == [None, None]
    assert achievement_year["yoy_change"].to_list() == [None, pytest.approx(-0.04)]
    bottom = yearly.filter(pl.col("measure") == "share_bottom_band")
    assert bottom["value"].to_list() == pytest.approx([0.17, 0.21])
    assert bottom["yoy_change"][1] == pytest.approx(0.04)


def _bands(butuh: float, kurang: float, sangat_kurang: float) -> dict[str, float]:
    return {
        "share_butuh_perbaikan": butuh,
        "share_kurang_misconduct": kurang,
        "share_sangat_kurang": sangat_kurang,
    }


def _unit_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    columns: dict[str, pl.DataType] = {
        "kode_opd": pl.String,
        "unit_layanan": pl.String,
        "tahun": pl.Int32,
        "triwulan": pl.Int32,
    }
    for u in trends.ELEMENTS:
        columns[f"n_answered_{u}"] = pl.Int32
        columns[f"score_sum_{u}"] = pl.Int32
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema=columns)


def _unit_quarter(triwulan: int, answered: int, score_sum: int, u1: tuple[int, int]) -> dict:
    row: dict[str, object] = {"kode_opd": "A", "unit_layanan": "Loket", "tahun": 2024}
    row["triwulan"] = triwulan
    for u in trends.ELEMENTS:
        row[f"n_answered_{u}"], row[f"score_sum_{u}"] = answered, score_sum
    row["n_answered_u1"], row["score_sum_u1"] = u1
    return row


def test_service_unit_ikm_from_answer_sums() -> None:
    unit = _unit_frame(
        [
            _unit_quarter(1, answered=10, score_sum=30, u1=(10, 35)),  # NRR 3 x8, u1 3.5
            _unit_quarter(2, answered=5, score_sum=15, u1=(5, 20)),  # NRR 3 x8, u1 4.0
            _unit_quarter(3, answered=4, score_sum=12, u1=(0, 0)),  # nobody answered u1
        ]
    )
    series = trends.unit_series(unit)
    ikm = series.filter(pl.col("measure") == "ikm").sort("grain", "triwulan")
    # Quarter 1: (3.5 + 8 * 3) / 9 * 25; quarter 2: (4 + 8 * 3) / 9 * 25; quarter 3 has no
    # NRR for u1, so no index. Year: u1 = (35 + 20 + 0) / (10 + 5 + 0), others 3.
    assert ikm.filter(pl.col("grain") == "quarter")["triwulan"].to_list() == [1, 2]
    assert ikm.filter(pl.col("grain") == "quarter")["value"].to_list() == pytest.approx(
        [27.5 / 9 * 25, 28 / 9 * 25]
    )
    assert ikm.filter(pl.col("grain") == "year")["value"].to_list() == pytest.approx(
        [(55 / 15 + 8 * 3) / 9 * 25]
    )
    nrr_u1 = series.filter(pl.col("measure") == "nrr_u1", pl.col("grain") == "quarter")
    assert nrr_u1["value"].to_list() == pytest.approx([3.5, 4.0])


# ---------------------------------------------------------------- schemas


def test_schema_rejects_a_p_value_above_one() -> None:
    series = _series({(2023, q): float(q) for q in range(1, 5)} | {(2024, 1): 3.0})
    tests = trends.build_trend_tests(series)
    trend_tests_schema.validate(tests)
    with pytest.raises(pandera.errors.SchemaError, match="mk_p_value"):
        trend_tests_schema.validate(tests.with_columns(pl.lit(1.5).alias("mk_p_value")))


def test_schema_rejects_an_ikm_outside_25_to_100() -> None:
    series = trends.with_changes(_series({(2023, 1): 80.0, (2023, 2): 101.0}))
    with pytest.raises(pandera.errors.SchemaError, match="scale"):
        trend_series_schema.validate(series)
    trend_series_schema.validate(series.filter(pl.col("value") <= 100))


# ---------------------------------------------------------------- generated data


def _read(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.sql(sql).pl()


def test_planted_satisfaction_decline_is_found(pipeline_run) -> None:
    warehouse = pipeline_run.settings.warehouse
    series = trends.build_trend_series(
        _read(warehouse, "select * from marts.mart_agency_quarter"),
        _read(warehouse, "select * from marts.mart_agency_year"),
        _read(warehouse, "select * from intermediate.int_survey_unit_quarter"),
    )
    tests = trend_tests_schema.validate(
        trends.build_trend_tests(trend_series_schema.validate(series))
    )
    planted = [e for e in pipeline_run.truth["effects"] if e["kind"] == "satisfaction_trend"]
    assert planted
    for effect in planted:
        found = tests.filter(
            pl.col("scope") == "service_unit",
            pl.col("kode_opd") == effect["kode_opd"],
            pl.col("unit_layanan") == effect["unit_layanan"],
            pl.col("measure") == "ikm",
            pl.col("grain") == "quarter",
        )
        assert found.height == 1, effect
        row = found.row(0, named=True)
        assert row["mk_trend"] == "decreasing"
        assert row["significant"] and row["assessment"] == "declining"
        # Latent mean answer falls by `size` over the quarters; IKM is 25 x the mean answer.
        planted_slope = -25 * effect["size"] / (row["n_periods"] - 1)
        assert 0.5 * planted_slope > row["sen_slope"] > 1.5 * planted_slope
    # Every agency of the mart is tested.
    agencies = set(_read(warehouse, "select kode_opd from marts.mart_agency_quarter")["kode_opd"])
    assert agencies == set(tests.filter(pl.col("scope") == "agency")["kode_opd"])


def test_assets_write_validated_tables(pipeline_run, tmp_path: Path) -> None:
    """Materialize the two assets and their check on a copy of the session warehouse."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from pipelines.analysis import assets

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run.settings.warehouse, copy)
    result = dg.materialize(
        [assets.trend_series, assets.trend_tests, assets.every_agency_has_trend_tests],
        resources={"duckdb": DuckDBResource(database=str(copy))},
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    tests = _read(copy, "select * from analysis.trend_tests")
    series = _read(copy, "select * from analysis.trend_series")
    trend_tests_schema.validate(tests)
    trend_series_schema.validate(series)
    metadata = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    declines = tests.filter(pl.col("significant") & (pl.col("assessment") == "declining"))
    assert metadata["trend_tests"]["significant_declines"].value == declines.height
    assert metadata["trend_series"]["rows"].value == series.height
    assert declines.height >= 1
