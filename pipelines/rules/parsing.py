"""Vectorized parsing of the exports' text cells into typed values, with reasons on failure.

Every parser returns a ``Parsed`` pair of polars expressions: the typed ``value`` and a
``reason`` (readable sentence, null when the cell is fine or empty). An empty cell is not a
parse failure: required-ness is the schema's job. A cell that has text but cannot be read
becomes a failure with a reason, never a silent NULL.

Enum normalisers return the canonical spelling when they recognise a variant and the
trimmed original otherwise, so the schema's ``isin`` check reports the value as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

PERIODS = ["TW I", "TW II", "TW III", "TW IV", "TAHUNAN"] + [f"BULAN {m}" for m in range(1, 13)]
RATINGS = ["DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI", "DI BAWAH EKSPEKTASI"]
PREDIKATS = ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"]
GOLONGANS = [f"{r}/{x}" for r in ("I", "II", "III") for x in "abcd"] + [f"IV/{x}" for x in "abcde"]
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


@dataclass(frozen=True)
class Parsed:
    value: pl.Expr
    reason: pl.Expr


def blank_to_null(cell: pl.Expr) -> pl.Expr:
    """Trimmed text; empty or whitespace-only -> null."""
    text = cell.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _quote(label: str, text: pl.Expr) -> pl.Expr:
    return pl.lit(f"{label} '") + text + pl.lit("'")


def _normalise_number_text(text: pl.Expr) -> pl.Expr:
    """'1.234,5' / '1,234.5' / '87,5' / '1 234' -> '1234.5' style text (not yet validated).

    The separator that comes last is the decimal separator; the other one groups thousands.
    A lone comma is a decimal comma (Indonesian convention). Dots alone are a decimal point,
    unless there are two or more of them ('1.234.567'), which can only be thousands.
    """
    s = text.str.replace_all(r"[\s\u00a0']", "")
    has_comma = s.str.contains(",", literal=True)
    has_dot = s.str.contains(".", literal=True)
    comma_is_decimal = has_comma & (~has_dot | s.str.contains(r"\.[^,]*,[^.]*$"))
    comma_groups = s.str.contains(r"^[+-]?[0-9]{1,3}(,[0-9]{3}){2,}(\.[0-9]*)?$")
    dot_groups = s.str.contains(r"^[+-]?[0-9]{1,3}(\.[0-9]{3}){2,}$")
    return (
        pl.when(comma_is_decimal & (s.str.count_matches(",") == 1))
        .then(s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(has_comma & ~comma_is_decimal & (s.str.count_matches(",") == 1))
        .then(s.str.replace_all(",", "", literal=True))
        .when(comma_groups)  # '1,234,567': several commas can only group thousands
        .then(s.str.replace_all(",", "", literal=True))
        .when(dot_groups)  # '1.234.567': several dots can only group thousands
        .then(s.str.replace_all(".", "", literal=True))
        .otherwise(s)
    )


def parse_decimal(cell: pl.Expr, label: str) -> Parsed:
    """Decimal number, accepting decimal comma and thousands separators."""
    text = blank_to_null(cell)
    number_text = _normalise_number_text(text)
    # ASCII digits only: regex \d would also match other scripts' digits ('٨٧'), which the
    # cast then turns into a silent null.
    ok = number_text.str.contains(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
    number = number_text.cast(pl.Float64, strict=False)
    finite = number.is_finite().fill_null(False)
    value = pl.when(ok & finite).then(number)
    reason = (
        pl.when(text.is_not_null() & ~ok)
        .then(_quote(label, text) + " is not a number")
        .when(text.is_not_null() & ~finite)
        .then(_quote(label, text) + " is too large to be a number")
    )
    return Parsed(value, reason)


def parse_integer(cell: pl.Expr, label: str) -> Parsed:
    """Whole number; '2024', '2024.0' and '2.024' (thousands) are accepted."""
    text = blank_to_null(cell)
    number = parse_decimal(cell, label)
    whole = number.value.is_not_null() & (number.value == number.value.floor())
    in_range = number.value.abs() < 2**31
    value = pl.when(whole & in_range).then(number.value.cast(pl.Int32, strict=False))
    reason = (
        pl.when(number.reason.is_not_null())
        .then(_quote(label, text) + " is not a whole number")
        .when(text.is_not_null() & ~(whole & in_range))
        .then(_quote(label, text) + " is not a whole number")
    )
    return Parsed(value, reason)


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
        .then(_quote(label, text) + " is not a real calendar date")
        .when(serial.is_not_null())
        .then(_quote(label, text) + " is out of range for an Excel date serial number")
        .otherwise(
            _quote(label, text)
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
        _quote(label, text) + " is not Y or N"
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
    """'KURANG / MISCONDUCT', 'sangat baik' -> canonical; lone 'Kurang' or 'Misconduct' ->
    'Kurang/Misconduct' (the only employee-level category that contains either word)."""
    key = _upper_words(cell).str.replace_all(r"\s*/\s*", "/")
    mapping = {p.upper(): p for p in PREDIKATS} | {
        "KURANG": "Kurang/Misconduct",
        "MISCONDUCT": "Kurang/Misconduct",
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
