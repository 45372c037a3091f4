"""Vectorized parsing of the exports' text cells into typed values, with reasons on failure.

Every parser returns a ``Parsed`` pair of polars expressions: the typed ``value`` and a
``reason`` (readable sentence, null when the cell is fine or empty). An empty cell is not a
parse failure: required-ness is the schema's job. A cell that has text but cannot be read
becomes a failure with a reason, never a silent NULL.

Enum normalisers return the canonical spelling when they recognise a variant and the
trimmed original otherwise, so the schema's ``isin`` check reports the value as written.

Numbers live in ``pipelines.rules.numbers`` (a file's decimal separator is a question of
its own) and the ``Parsed`` pair in ``pipelines.rules.cells``; both are re-exported here, so
callers import every parser from this one module.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.rules import golongan, periods, predikat
from pipelines.rules.cells import Parsed, blank_to_null, quote
from pipelines.rules.numbers import (
    COMMA_EXAMPLE,
    DECIMAL,
    DECIMAL_COMMA,
    DECIMAL_POINT,
    IN_FILE,
    POINT_EXAMPLE,
    NumberFormat,
    decide_decimal,
    number_evidence,
    parse_decimal,
    parse_integer,
)

__all__ = [
    "COMMA_EXAMPLE",
    "DECIMAL",
    "DECIMAL_COMMA",
    "DECIMAL_POINT",
    "GENDERS",
    "GOLONGANS",
    "IN_FILE",
    "PERIODS",
    "POINT_EXAMPLE",
    "POSITION_TYPES",
    "PREDIKATS",
    "RATINGS",
    "TRAINING_KINDS",
    "NumberFormat",
    "Parsed",
    "blank_to_null",
    "decide_decimal",
    "normalise_gender",
    "normalise_golongan",
    "normalise_period",
    "normalise_position_type",
    "normalise_predikat",
    "normalise_rating",
    "normalise_training_kind",
    "number_evidence",
    "parse_date",
    "parse_decimal",
    "parse_flag",
    "parse_integer",
]

# Canonical values, from the dbt seeds (see pipelines.rules.seeds).
PERIODS = list(periods.ALL)
RATINGS = list(predikat.RATINGS)
PREDIKATS = list(predikat.ORDER)
GOLONGANS = list(golongan.ORDER)
POSITION_TYPES = ["JPT", "Administrator", "Pengawas", "Pelaksana", "Fungsional"]
TRAINING_KINDS = ["klasikal", "nonklasikal"]
GENDERS = ["L", "P"]

# Excel's 1900 date system counts 1900-02-29 (which never existed): from serial 61 on,
# serial n is 1899-12-30 + n days. Serials 1..59 (Jan-Feb 1900) are 1899-12-31 + n.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31

_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "I": "I", "II": "II", "III": "III"}
_ROMAN |= {"IV": "IV"}
_ROMAN_TO_INT = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7"}
_ROMAN_TO_INT |= {"VIII": "8", "IX": "9", "X": "10", "XI": "11", "XII": "12"}


def parse_date(cell: pl.Expr, label: str) -> Parsed:
    """Date from dd/mm/yyyy, yyyy-mm-dd (optionally ' 00:00:00') or an Excel serial number."""
    text = blank_to_null(cell)
    dmy = text.str.extract_groups(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$")
    ymd = text.str.extract_groups(
        r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
    )
    serial = text.str.extract(r"^([0-9]{1,7})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)

    def iso(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
        return year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)

    iso_text = pl.coalesce(
        iso(dmy.struct.field("3"), dmy.struct.field("2"), dmy.struct.field("1")),
        iso(ymd.struct.field("1"), ymd.struct.field("2"), ymd.struct.field("3")),
    )
    from_text = iso_text.str.to_date("%Y-%m-%d", strict=False)
    serial_ok = serial.is_between(1, _EXCEL_MAX_SERIAL) & (serial != 60)
    offset = pl.when(serial < 60).then(serial + 1).otherwise(serial)
    from_serial = pl.when(serial_ok).then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=offset))
    value = pl.coalesce(from_text, from_serial.cast(pl.Date))
    reason = (
        pl.when(text.is_null() | value.is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(iso_text.is_not_null())
        .then(quote(label, text) + " is not a real calendar date")
        .when(serial.is_not_null())
        .then(quote(label, text) + " is out of range for an Excel date serial number")
        .otherwise(
            quote(label, text)
            + " is not a date (expected dd/mm/yyyy, yyyy-mm-dd or an Excel serial number)"
        )
    )
    return Parsed(value, reason)


def parse_flag(cell: pl.Expr, label: str) -> Parsed:
    """Y/N style flag: Y, Ya, Yes, True, 1 -> true; N, Tidak, No, False, 0 -> false."""
    text = blank_to_null(cell)
    key = text.str.to_uppercase()
    value = (
        pl.when(key.is_in(["Y", "YA", "YES", "TRUE", "1"]))
        .then(True)
        .when(key.is_in(["N", "TIDAK", "TDK", "NO", "FALSE", "0"]))
        .then(False)
    )
    reason = pl.when(text.is_not_null() & value.is_null()).then(
        quote(label, text) + " is not Y or N"
    )
    return Parsed(value, reason)


def _upper_words(cell: pl.Expr) -> pl.Expr:
    """Trimmed, upper case, inner whitespace/underscores collapsed to one space."""
    return blank_to_null(cell).str.to_uppercase().str.replace_all(r"[\s_]+", " ")


def normalise_period(cell: pl.Expr) -> pl.Expr:
    """'Triwulan I', 'tw 1', 'TW IV-AKHIR', 'Q2', 'tahunan', 'Bulan 03' -> canonical periode."""
    text = _upper_words(cell)
    quarter = text.str.extract(
        r"^(?:TW|TRIWULAN|TRW|Q)\s*[-.]?\s*(IV|III|II|I|[1-4])(?:\s*-?\s*AKHIR)?$", 1
    )
    month = text.str.extract(r"^(?:BULAN|BLN)\s*[-.]?\s*([0-9]{1,2}|[IVX]+)$", 1)
    month_number = month.replace(_ROMAN_TO_INT).cast(pl.Int32, strict=False)
    return (
        pl.when(quarter.is_not_null())
        .then(pl.lit("TW ") + quarter.replace(_ROMAN))
        .when(text.is_in(["TAHUNAN", "ANNUAL", "SETAHUN", "TAHUN"]))
        .then(pl.lit("TAHUNAN"))
        .when(month_number.is_between(1, 12))
        .then(pl.lit("BULAN ") + month_number.cast(pl.String))
        .otherwise(blank_to_null(cell))
    )


def normalise_rating(cell: pl.Expr) -> pl.Expr:
    """Ratings compared case- and space-insensitively: 'di atas  ekspektasi' -> canonical."""
    text = _upper_words(cell)
    return pl.when(text.is_in(RATINGS)).then(text).otherwise(blank_to_null(cell))


def normalise_predikat(cell: pl.Expr) -> pl.Expr:
    """'KURANG / MISCONDUCT', 'sangat baik' -> canonical; a lone half of a two-part predikat,
    'Kurang' or 'Misconduct' -> 'Kurang/Misconduct' (the only employee-level category that
    contains either word)."""
    key = _upper_words(cell).str.replace_all(r"\s*/\s*", "/")
    mapping = {p.upper(): p for p in PREDIKATS} | {
        part: p for p in PREDIKATS if "/" in p for part in p.upper().split("/")
    }
    return (
        pl.when(key.is_in(list(mapping))).then(key.replace(mapping)).otherwise(blank_to_null(cell))
    )


def normalise_golongan(cell: pl.Expr) -> pl.Expr:
    """'III/A', 'III a', 'iii-a', 'IIIa' -> 'III/a'."""
    parts = _upper_words(cell).str.extract_groups(r"^(IV|III|II|I)\s*[/.\- ]?\s*([A-E])$")
    room = parts.struct.field("1") + "/" + parts.struct.field("2").str.to_lowercase()
    return pl.coalesce(room, blank_to_null(cell))


def normalise_position_type(cell: pl.Expr) -> pl.Expr:
    """jenis_jabatan compared case-insensitively."""
    key = _upper_words(cell)
    mapping = {p.upper(): p for p in POSITION_TYPES}
    return (
        pl.when(key.is_in(list(mapping))).then(key.replace(mapping)).otherwise(blank_to_null(cell))
    )


def normalise_training_kind(cell: pl.Expr) -> pl.Expr:
    """'Klasikal', 'Non Klasikal', 'non-klasikal' -> 'klasikal' / 'nonklasikal'."""
    key = blank_to_null(cell).str.to_lowercase().str.replace_all(r"[\s\-_]+", "")
    return pl.when(key.is_in(TRAINING_KINDS)).then(key).otherwise(blank_to_null(cell))


def normalise_gender(cell: pl.Expr) -> pl.Expr:
    """'L', 'Laki-laki', 'Pria' -> 'L'; 'P', 'Perempuan', 'Wanita' -> 'P'."""
    key = _upper_words(cell).str.replace_all(r"[\s\-]+", "")
    return (
        pl.when(key.is_in(["L", "LAKILAKI", "PRIA"]))
        .then(pl.lit("L"))
        .when(key.is_in(["P", "PEREMPUAN", "WANITA"]))
        .then(pl.lit("P"))
        .otherwise(blank_to_null(cell))
    )
