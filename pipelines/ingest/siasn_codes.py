"""SIASN's codes and labels -> our canonical values, with the reason when a value cannot be
read (see ingest/siasn.py): ratings, kuadran (predikat) and the period of a record.

The code tables name our values, and are checked against the seeds (rules.predikat) at
import: a seed that renames a rating or predikat fails here, not silently in the data.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pipelines.ingest.validation import per_distinct
from pipelines.rules import parsing, periods, predikat
from pipelines.rules.cells import blank_to_null, quote

RECORD_KINDS = ["annual", "periodic"]
RATER_STATUSES = ["ASN", "NON ASN"]
NAMED_RATINGS = ("DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI", "DI BAWAH EKSPEKTASI")
NAMED_PREDIKATS = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang")
assert set(NAMED_RATINGS) == set(predikat.RATINGS), "SIASN rating codes vs seed ratings"
assert set(NAMED_PREDIKATS) == set(predikat.ORDER), "SIASN kuadran codes vs seed predikat"
RATING_CODES = dict(enumerate(NAMED_RATINGS, start=1))
KUADRAN_CODES = dict(enumerate(NAMED_PREDIKATS, start=1))
PERIODIK_CODES = {1: "monthly", 2: "quarterly"}
PERIODIC_FIELDS = ["periodikid", "bulanmulaipenilaian", "bulanselesaipenilaian"]


def code_number(cell: pl.Expr) -> pl.Expr:
    """'2', ' 02 ', '2.0' -> 2; anything else null."""
    digits = blank_to_null(cell).str.extract(r"^0*([0-9]{1,3})(?:[.,]0+)?$", 1)
    return digits.cast(pl.Int32, strict=False)


def _legend(codes: dict[int, str]) -> str:
    return ", ".join(f"{code} = {name}" for code, name in codes.items())


def coded(frame: pl.DataFrame, column: str, codes: dict[int, str]) -> pl.DataFrame:
    """value and reason of a code column, per distinct value."""
    text = blank_to_null(pl.col(column))
    value = code_number(pl.col(column)).replace_strict(codes, default=None, return_dtype=pl.String)
    reason = pl.when(text.is_not_null() & value.is_null()).then(
        quote(column, text) + pl.lit(f" is not a known code ({_legend(codes)})")
    )
    return per_distinct(frame, column, {"value": value, "reason": reason})


def rating_label(cell: pl.Expr) -> pl.Expr:
    """'DIATAS ESPEKTASI', 'Di Atas Ekspektasi', 'DI_BAWAH EKSPEKTASI' -> canonical rating."""
    key = blank_to_null(cell).str.to_uppercase().str.replace_all(r"[^A-Z]", "")
    key = key.str.replace("ESPEKTASI", "EKSPEKTASI", literal=True)
    return key.replace_strict({r.replace(" ", ""): r for r in parsing.RATINGS}, default=None)


def predikat_label(cell: pl.Expr) -> pl.Expr:
    value = parsing.normalise_predikat(cell)
    return pl.when(value.is_in(parsing.PREDIKATS)).then(value)


def graded(
    frame: pl.DataFrame,
    codes: list[str],
    label: str,
    table: dict[int, str],
    read_label: Callable[[pl.Expr], pl.Expr],
) -> tuple[pl.Series, pl.Series]:
    """A rating (or predikat) from its code column(s), else its label: (value, reason named
    after the first code column)."""
    read = [coded(frame, c, table) for c in codes]
    named = per_distinct(
        frame, label, {"value": read_label(pl.col(label)), "text": blank_to_null(pl.col(label))}
    )
    values = pl.DataFrame([c.get_column("value").alias(str(i)) for i, c in enumerate(read)])
    bads = pl.DataFrame([c.get_column("reason").alias(str(i)) for i, c in enumerate(read)])
    work = pl.DataFrame(
        {
            "code": values.select(pl.coalesce(values.columns)).to_series(),
            "bad": bads.select(pl.coalesce(bads.columns)).to_series(),
            "named": named.get_column("value"),
            "text": named.get_column("text"),
        }
    )
    main = codes[0]
    reason = (
        pl.when(pl.col("bad").is_not_null())
        .then(pl.col("bad"))
        .when(pl.col("code").is_not_null() & pl.col("named").is_not_null())
        .then(
            pl.when(pl.col("code") != pl.col("named")).then(
                pl.lit(f"{main} says '")
                + pl.col("code")
                + pl.lit(f"' but {label} says '")
                + pl.col("text")
                + pl.lit("'")
            )
        )
        .when(pl.col("code").is_null() & pl.col("text").is_not_null() & pl.col("named").is_null())
        .then(quote(label, pl.col("text")) + pl.lit(" is not a known value"))
        .when(pl.col("code").is_null() & pl.col("text").is_null())
        .then(pl.lit(f"{main} is required but empty (and no {label} either)"))
    )
    out = work.select(pl.coalesce("code", "named").alias("value"), reason.alias("reason"))
    return out.get_column("value"), out.get_column("reason")


def month(cell: pl.Expr) -> pl.Expr:
    number = code_number(cell)
    return pl.when(number.is_between(1, 12)).then(number)


def periode_of(frame: pl.DataFrame) -> pl.DataFrame:
    """record_kind, periode and reasons (periodikid, bulan*penilaian) of every row."""
    kinds = coded(frame, "periodikid", PERIODIK_CODES)
    months = {
        c: per_distinct(frame, c, {"value": month(pl.col(c)), "text": blank_to_null(pl.col(c))})
        for c in ("bulanmulaipenilaian", "bulanselesaipenilaian")
    }
    start, end = months["bulanmulaipenilaian"], months["bulanselesaipenilaian"]
    work = pl.DataFrame(
        {
            "periodic": frame.select(
                pl.any_horizontal(blank_to_null(pl.col(c)).is_not_null() for c in PERIODIC_FIELDS)
            ).to_series(),
            "kind": kinds.get_column("value"),
            "bad_kind": kinds.get_column("reason"),
            "start": start.get_column("value"),
            "start_text": start.get_column("text"),
            "end": end.get_column("value"),
            "end_text": end.get_column("text"),
        }
    )
    quarter = ((pl.col("end") - 1) // 3).cast(pl.Int32)
    quarter_name = quarter.replace_strict(dict(enumerate(periods.QUARTERLY)), default=None)
    periode = (
        pl.when(~pl.col("periodic"))
        .then(pl.lit(periods.ANNUAL))
        .when(pl.col("kind") == "monthly")
        .then(pl.lit("BULAN ") + pl.col("end").cast(pl.String))
        .when(pl.col("kind") == "quarterly")
        .then(quarter_name)
    )
    not_a_month = " is not a month (1..12)"
    return work.select(
        pl.when(pl.col("periodic"))
        .then(pl.lit("periodic"))
        .otherwise(pl.lit("annual"))
        .alias("record_kind"),
        periode.alias("periode"),
        pl.when(pl.col("bad_kind").is_not_null())
        .then(pl.col("bad_kind"))
        .when(pl.col("periodic") & pl.col("kind").is_null())
        .then(pl.lit("periodikid is required but empty (the record has periodic fields)"))
        .alias("periodikid"),
        pl.when(pl.col("end_text").is_not_null() & pl.col("end").is_null())
        .then(quote("bulanselesaipenilaian", pl.col("end_text")) + not_a_month)
        .when(pl.col("periodic") & pl.col("end").is_null())
        .then(pl.lit("bulanselesaipenilaian is required but empty (a periodic record)"))
        .alias("bulanselesaipenilaian"),
        pl.when(pl.col("start_text").is_not_null() & pl.col("start").is_null())
        .then(quote("bulanmulaipenilaian", pl.col("start_text")) + not_a_month)
        .when(pl.col("start") > pl.col("end"))
        .then(pl.lit("bulanmulaipenilaian is after bulanselesaipenilaian"))
        .when((pl.col("kind") == "monthly") & (pl.col("start") != pl.col("end")))
        .then(pl.lit("a monthly record (periodikid 1) spans more than one month"))
        .alias("bulanmulaipenilaian"),
    )
