"""analysis.agency_ranking: the agencies of each pemda ranked per quarter on their mean capaian
(marts.mart_agency_quarter.mean_achievement, over n_with_indicators employees) and on their
IKM (over n_responden respondents). Higher is better for both.

- **Small groups are never ranked**: an agency whose group has fewer than `min_group_size`
  members (but more than none) is 'too_small': its value and group size are NULL and the
  other agencies are ranked without it (n_ranked does not count it). A NULL value (or an
  empty group) is 'no_data'. Both carry the reason in Indonesian.
- **Standard competition ranking ("1224")**: tied agencies share the best rank of their
  block, the next agency's rank skips the places they took; rank 1 is the highest value.
- **Ties at the precision the reports print**: two values are equal when the report shows
  the same number: capaian in percent with one decimal (0.1 percentage point), IKM with two
  decimals (the precision of the official IKM and of its grade bounds, e.g. 88,31). A reader
  then never sees two equal printed values with different ranks, nor an order decided by a
  difference the page does not show. The key is formatted exactly as reports.labels does it
  (f-string rounding of 100 × capaian to one decimal, of IKM to two).
"""

from __future__ import annotations

import polars as pl

CAPAIAN, IKM = "capaian", "ikm"
RANKED, TOO_SMALL, NO_DATA = "ranked", "too_small", "no_data"
STATUSES = (RANKED, TOO_SMALL, NO_DATA)
GROUP = ("pemda", "tahun", "triwulan", "measure")


# measure -> (mart value column, mart group-size column, scale, decimals shown, who counts)
MEASURES = {
    CAPAIAN: ("mean_achievement", "n_with_indicators", 100.0, 1, "pegawai dengan indikator"),
    IKM: ("ikm", "n_responden", 1.0, 2, "responden SKM"),
}
NO_DATA_REASONS = {
    CAPAIAN: "Tidak ada data capaian pada triwulan ini: tidak diperingkat",
    IKM: "Tidak ada data SKM (IKM) pada triwulan ini: tidak diperingkat",
}

RANKING_SCHEMA = {
    "pemda": pl.String,
    "tahun": pl.Int32,
    "triwulan": pl.Int32,
    "measure": pl.String,
    "kode_opd": pl.String,
    "value": pl.Float64,
    "n": pl.Int32,
    "rank": pl.Int32,
    "n_ranked": pl.Int32,
    "tied": pl.Boolean,
    "status": pl.String,
    "reason": pl.String,
}


def too_small_reason(measure: str, min_group_size: int) -> str:
    who = MEASURES[measure][4]
    return f"Kurang dari {min_group_size} {who}: tidak diperingkat"


def tie_key(measure: str, value: float | None) -> float | None:
    """The value as the report prints it (capaian: percent, 1 decimal; IKM: 2 decimals)."""
    if value is None:
        return None
    _, _, scale, digits, _ = MEASURES[measure]
    return float(f"{scale * value:.{digits}f}")


def _measure_rows(quarter: pl.DataFrame, measure: str, min_group_size: int) -> pl.DataFrame:
    """One row per agency-quarter for one measure, with its status and reason."""
    value_col, n_col, *_ = MEASURES[measure]
    n = pl.col("n")
    too_small = n.is_not_null() & (n > 0) & (n < min_group_size)
    no_data = pl.col("value").is_null() | n.is_null() | (n == 0)
    status = (
        pl.when(too_small)
        .then(pl.lit(TOO_SMALL))
        .when(no_data)
        .then(pl.lit(NO_DATA))
        .otherwise(pl.lit(RANKED))
    )
    return (
        quarter.select(
            "pemda",
            pl.col("tahun").cast(pl.Int32),
            pl.col("triwulan").cast(pl.Int32),
            pl.lit(measure).alias("measure"),
            "kode_opd",
            pl.col(value_col).cast(pl.Float64).alias("value"),
            pl.col(n_col).cast(pl.Int32).alias("n"),
        )
        .with_columns(status.alias("status"))
        .with_columns(
            pl.when(pl.col("status") == TOO_SMALL)
            .then(pl.lit(too_small_reason(measure, min_group_size)))
            .when(pl.col("status") == NO_DATA)
            .then(pl.lit(NO_DATA_REASONS[measure]))
            .otherwise(None)
            .alias("reason"),
            # small groups are never published: neither their value nor their size
            pl.when(pl.col("status") == RANKED).then("value").otherwise(None).alias("value"),
            pl.when(pl.col("status") == TOO_SMALL).then(None).otherwise("n").alias("n"),
        )
        .with_columns(
            pl.col("value")
            .map_elements(lambda v: tie_key(measure, v), return_dtype=pl.Float64)
            .alias("_key")
        )
    )


def rank_agencies(quarter: pl.DataFrame, min_group_size: int) -> pl.DataFrame:
    """analysis.agency_ranking from marts.mart_agency_quarter (columns pemda, tahun, triwulan,
    kode_opd, mean_achievement, n_with_indicators, ikm, n_responden)."""
    rows = pl.concat([_measure_rows(quarter, m, min_group_size) for m in MEASURES])
    group = list(GROUP)
    ranked = pl.col("status") == RANKED
    rows = rows.with_columns(
        pl.when(ranked)
        .then(pl.col("_key").rank("min", descending=True).over([*group, "status"]))
        .otherwise(None)
        .cast(pl.Int32)
        .alias("rank"),
        ranked.cast(pl.Int32).sum().over(group).alias("n_ranked"),
        pl.when(ranked)
        .then(pl.len().over([*group, "status", "_key"]) > 1)
        .otherwise(None)
        .alias("tied"),
    )
    return (
        rows.select(list(RANKING_SCHEMA))
        .cast(RANKING_SCHEMA)
        .sort(*group, pl.col("rank"), "kode_opd", nulls_last=True)
    )


def small_groups_published(ranking: pl.DataFrame, min_group_size: int) -> int:
    """Rows that publish a value or a size of a group smaller than min_group_size (must be 0)."""
    small = pl.col("n").is_not_null() & (pl.col("n") > 0) & (pl.col("n") < min_group_size)
    return ranking.filter(
        small | ((pl.col("status") != RANKED) & pl.col("value").is_not_null())
    ).height
