"""analysis.agency_ranking on hand-made quarters: "1224" ranks with ties at the printed
precision, small agencies left out (and not counted), missing values, pemda kept apart."""

from __future__ import annotations

import polars as pl

from pipelines.analysis.ranking import (
    RANKING_SCHEMA,
    rank_agencies,
    small_groups_published,
    tie_key,
)


def _quarter(rows: list[tuple]) -> pl.DataFrame:
    """(pemda, kode_opd, mean_achievement, n_with_indicators, ikm, n_responden) in 2024 TW II."""
    frame = pl.DataFrame(
        rows,
        schema={
            "pemda": pl.String,
            "kode_opd": pl.String,
            "mean_achievement": pl.Float64,
            "n_with_indicators": pl.Int32,
            "ikm": pl.Float64,
            "n_responden": pl.Int32,
        },
        orient="row",
    )
    return frame.with_columns(tahun=pl.lit(2024, pl.Int32), triwulan=pl.lit(2, pl.Int32))


def _by_agency(ranking: pl.DataFrame, measure: str, pemda: str = "A") -> dict[str, dict]:
    part = ranking.filter((pl.col("measure") == measure) & (pl.col("pemda") == pemda))
    return {r["kode_opd"]: r for r in part.iter_rows(named=True)}


QUARTER = _quarter(
    [
        ("A", "O1", 0.95, 10, 80.00, 50),
        ("A", "O2", 0.90, 10, 85.50, 50),
        ("A", "O3", 0.90, 12, 85.50, 50),
        ("A", "O4", 0.85, 8, 70.00, 50),
        ("A", "O5", 0.99, 3, 95.00, 4),  # small: best values, never ranked
        ("A", "O6", None, 0, None, 0),  # no data
        ("B", "P1", 0.70, 6, 60.00, 30),
    ]
)


def test_standard_competition_ranks_with_ties() -> None:
    capaian = _by_agency(rank_agencies(QUARTER, 5), "capaian")
    assert {k: r["rank"] for k, r in capaian.items()} == {
        "O1": 1,
        "O2": 2,
        "O3": 2,
        "O4": 4,
        "O5": None,
        "O6": None,
    }
    assert {k: r["tied"] for k, r in capaian.items()} == {
        "O1": False,
        "O2": True,
        "O3": True,
        "O4": False,
        "O5": None,
        "O6": None,
    }
    assert {r["n_ranked"] for r in capaian.values()} == {4}
    ikm = _by_agency(rank_agencies(QUARTER, 5), "ikm")
    assert [ikm[k]["rank"] for k in ("O2", "O3", "O1", "O4")] == [1, 1, 3, 4]


def test_small_agency_not_ranked_nor_published() -> None:
    ranking = rank_agencies(QUARTER, 5)
    small = _by_agency(ranking, "capaian")["O5"]
    assert small["status"] == "too_small"
    assert small["value"] is None and small["n"] is None and small["rank"] is None
    assert small["reason"] == "Kurang dari 5 pegawai dengan indikator: tidak diperingkat"
    ikm_small = _by_agency(ranking, "ikm")["O5"]
    assert ikm_small["reason"] == "Kurang dari 5 responden SKM: tidak diperingkat"
    assert small_groups_published(ranking, 5) == 0
    # with a threshold of 3 the same agency is ranked first
    assert _by_agency(rank_agencies(QUARTER, 3), "capaian")["O5"]["rank"] == 1


def test_missing_value_is_no_data() -> None:
    row = _by_agency(rank_agencies(QUARTER, 5), "capaian")["O6"]
    assert row["status"] == "no_data" and row["rank"] is None and row["value"] is None
    assert row["n"] == 0
    assert row["reason"].startswith("Tidak ada data capaian")


def test_pemda_are_ranked_apart() -> None:
    other = _by_agency(rank_agencies(QUARTER, 5), "capaian", pemda="B")
    assert other["P1"]["rank"] == 1 and other["P1"]["n_ranked"] == 1


def test_ties_at_the_printed_precision() -> None:
    # 0.90049 and 0.90041 both print 90,0%: tied; 0.90051 prints 90,1%: ahead
    quarter = _quarter(
        [
            ("A", "X1", 0.90049, 9, 88.314, 40),
            ("A", "X2", 0.90041, 9, 88.306, 40),
            ("A", "X3", 0.90051, 9, 88.304, 40),
        ]
    )
    ranking = rank_agencies(quarter, 5)
    capaian = _by_agency(ranking, "capaian")
    assert [capaian[k]["rank"] for k in ("X3", "X1", "X2")] == [1, 2, 2]
    assert capaian["X1"]["value"] == 0.90049  # the value itself is not rounded
    ikm = _by_agency(ranking, "ikm")
    # 88,31 / 88,31 / 88,30
    assert [ikm[k]["rank"] for k in ("X1", "X2", "X3")] == [1, 1, 3]
    assert tie_key("capaian", 0.90049) == 90.0 and tie_key("ikm", 88.306) == 88.31


def test_schema() -> None:
    ranking = rank_agencies(QUARTER, 5)
    assert dict(ranking.schema) == RANKING_SCHEMA
    assert ranking.height == 2 * QUARTER.height
    assert rank_agencies(QUARTER.clear(), 5).schema == pl.Schema(RANKING_SCHEMA)


def test_planners_extract_carries_the_ranking_and_outlook(tmp_path) -> None:
    import duckdb

    from pipelines.publish.extracts import PLANNERS, publish_extract
    from pipelines.warehouse import replace_tables

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as conn:
        replace_tables(
            conn,
            {
                "analysis.agency_ranking": rank_agencies(QUARTER, 5),
                "analysis.year_end_outlook": pl.DataFrame({"x": [1]}),
                "analysis.rater_effects": pl.DataFrame({"x": [1]}),  # evaluators only
            },
        )
    copied = publish_extract(build, tmp_path / "planners.duckdb", PLANNERS, min_group_size=5)
    assert copied == ["analysis.agency_ranking", "analysis.year_end_outlook"]
