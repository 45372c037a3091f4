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

from pipelines.rules import golongan, periods, predikat

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


# ---------------------------------------------------------------- numbers
#
# Whether '.' or ',' is the decimal separator is a property of a file, not of a cell: in a
# decimal-comma file '1.500' is 1500, in a decimal-point file 1.5. A file's own numbers
# decide (see ``number_evidence``); a value whose reading depends on the decision is never
# guessed when the file does not decide.

DECIMAL_COMMA = ","
DECIMAL_POINT = "."
# Columns a caller joins to each cell (see ``IN_FILE``): its file's decimal separator (null
# when the file's numbers do not decide it) and the file's first number proving each.
DECIMAL = "_decimal"
COMMA_EXAMPLE = "_comma_example"
POINT_EXAMPLE = "_point_example"

_SIGN = r"^[+-]?"
_LEAD = r"[1-9][0-9]{0,2}"  # first group of a grouped number: 1-3 digits, no leading zero
# One separator followed by exactly three digits ('1.500', '2,024'): 1.5 or 1500?
_AMBIGUOUS = rf"{_SIGN}{_LEAD}[.,][0-9]{{3}}$"
_PLAIN = rf"{_SIGN}[0-9]+$"
# Two or more separators of one kind can only group thousands ('1.234.567').
_GROUPED = {sep: rf"{_SIGN}{_LEAD}(?:\{sep}[0-9]{{3}}){{2,}}$" for sep in ".,"}
# A decimal separator the cell proves: a lone one not followed by exactly three digits
# ('87,5', '0,500', '1234,567'), or the last of two kinds after valid grouping ('1.234,5').
_PROVES = {
    dec: rf"{_SIGN}(?:[0-9]+\{dec}[0-9]*|\{dec}[0-9]+|{_LEAD}(?:\{grp}[0-9]{{3}})+\{dec}[0-9]*)$"
    for dec, grp in ((",", "."), (".", ","))
}


@dataclass(frozen=True)
class NumberFormat:
    """A file's number format as expressions: ``decimal`` is ',' or '.' when decided, null
    when not; the examples (null when the file has none) are quoted in reasons."""

    decimal: pl.Expr
    comma_example: pl.Expr
    point_example: pl.Expr


# The format of each cell's file, from the columns DECIMAL, COMMA_EXAMPLE and POINT_EXAMPLE.
IN_FILE = NumberFormat(pl.col(DECIMAL), pl.col(COMMA_EXAMPLE), pl.col(POINT_EXAMPLE))


def _number_chars(cell: pl.Expr) -> pl.Expr:
    """Trimmed text without the spaces and apostrophes some exports group digits with."""
    return blank_to_null(cell).str.replace_all(r"[\s\u00a0']", "")


def number_evidence(cell: pl.Expr) -> pl.Expr:
    """',' or '.' when the cell proves its file's decimal separator ('87,5', '1.234,5' /
    '87.5', '1,234.5', '0.25'), else null ('1500', '1.500', '1.234.567' prove nothing)."""
    s = _number_chars(cell)
    ambiguous = s.str.contains(_AMBIGUOUS)
    return (
        pl.when(~ambiguous & s.str.contains(_PROVES[","]))
        .then(pl.lit(DECIMAL_COMMA))
        .when(~ambiguous & s.str.contains(_PROVES["."]))
        .then(pl.lit(DECIMAL_POINT))
    )


def decide_decimal(comma_example: pl.Expr, point_example: pl.Expr) -> pl.Expr:
    """The file's decimal separator: the one its numbers prove, null when they prove none
    or both (contradicting evidence is no decision)."""
    return (
        pl.when(comma_example.is_not_null() & point_example.is_null())
        .then(pl.lit(DECIMAL_COMMA))
        .when(point_example.is_not_null() & comma_example.is_null())
        .then(pl.lit(DECIMAL_POINT))
    )


def parse_decimal(cell: pl.Expr, label: str, fmt: NumberFormat | None = None) -> Parsed:
    """Decimal number in its file's format ``fmt`` (see ``IN_FILE``; None: the cell alone),
    with thousands separators; ambiguous or contradicting text gets a reason, not a guess."""
    return _parse_number(cell, label, fmt, whole=False)


def parse_integer(cell: pl.Expr, label: str, fmt: NumberFormat | None = None) -> Parsed:
    """Whole number: '2024', '2024.0', and '2.024' where the file's decimal comma makes the
    dot a thousands separator (see ``parse_decimal``)."""
    return _parse_number(cell, label, fmt, whole=True)


def _parse_number(cell: pl.Expr, label: str, fmt: NumberFormat | None, whole: bool) -> Parsed:
    """The reading runs as a few column steps over each batch (``_read_numbers``): one
    expression holding every step would repeat its sub-expressions thousands of times."""
    given = fmt or NumberFormat(*[pl.lit(None, dtype=pl.String)] * 3)
    inputs = pl.struct(
        cell.cast(pl.String).alias("cell"),
        given.decimal.cast(pl.String).alias("decimal"),
        given.comma_example.cast(pl.String).alias("comma_example"),
        given.point_example.cast(pl.String).alias("point_example"),
    )
    dtype = pl.Int32 if whole else pl.Float64
    parsed = inputs.map_batches(
        lambda batch: _read_numbers(batch, label, whole, alone=fmt is None),
        return_dtype=pl.Struct({"value": dtype, "reason": pl.String}),
    )
    return Parsed(parsed.struct.field("value"), parsed.struct.field("reason"))


def _read_numbers(batch: pl.Series, label: str, whole: bool, alone: bool) -> pl.Series:
    """Cells (with their file's format) -> struct of value and reason, in column steps."""
    cell, decimal = pl.col("cell"), pl.col("decimal")
    s = pl.col("s")
    frame = batch.struct.unnest().with_columns(
        blank_to_null(cell).alias("text"), _number_chars(cell).alias("s")
    )
    frame = frame.with_columns(
        s.str.contains(_AMBIGUOUS).fill_null(False).alias("ambiguous"),
        s.str.contains(_PLAIN).fill_null(False).alias("plain"),
        s.str.contains(_GROUPED["."]).fill_null(False).alias("grouped_dot"),
        s.str.contains(_GROUPED[","]).fill_null(False).alias("grouped_comma"),
        s.str.contains(_PROVES[","]).fill_null(False).alias("proves_comma"),
        s.str.contains(_PROVES["."]).fill_null(False).alias("proves_point"),
        s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True).alias("c"),
        s.str.replace_all(",", "", literal=True).alias("p"),
    )
    ambiguous = pl.col("ambiguous")
    proves_comma = ~ambiguous & pl.col("proves_comma")
    proves_point = ~ambiguous & pl.col("proves_point")
    frame = frame.with_columns(
        proves_comma.alias("proves_comma"), proves_point.alias("proves_point")
    )
    proves_comma, proves_point = pl.col("proves_comma"), pl.col("proves_point")
    if alone:  # the cell is its own file: its own evidence decides
        text = pl.col("text")
        frame = frame.with_columns(
            pl.when(proves_comma)
            .then(pl.lit(DECIMAL_COMMA))
            .when(proves_point)
            .then(pl.lit(DECIMAL_POINT))
            .alias("decimal"),
            pl.when(proves_comma).then(text).alias("comma_example"),
            pl.when(proves_point).then(text).alias("point_example"),
        )
    grouped_dot, grouped_comma = pl.col("grouped_dot"), pl.col("grouped_comma")
    comma_file, point_file = decimal == DECIMAL_COMMA, decimal == DECIMAL_POINT
    # What the cell says on its own, whatever its file: the text a reason suggests.
    frame = frame.with_columns(
        pl.when(proves_comma | grouped_dot)
        .then(pl.col("c"))
        .when(proves_point | grouped_comma)
        .then(pl.col("p"))
        .alias("own"),
        (
            ((proves_comma | grouped_dot) & point_file)
            | ((proves_point | grouped_comma) & comma_file)
        )
        .fill_null(False)
        .alias("contradicts"),
    )
    contradicts = pl.col("contradicts")
    frame = frame.with_columns(
        pl.when(pl.col("plain"))
        .then(s)
        .when(ambiguous & comma_file)
        .then(pl.col("c"))
        .when(ambiguous & point_file)
        .then(pl.col("p"))
        .when(ambiguous | contradicts)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("own"))
        .alias("number_text"),
        pl.when(ambiguous & decimal.is_null())
        .then(_ambiguity(label, whole))
        .when(contradicts)
        .then(_contradiction(label))
        .alias("format_reason"),
    )
    number_text = pl.col("number_text")
    # ASCII digits only: regex \d would also match other scripts' digits ('٨٧'), which the
    # cast then turns into a silent null.
    frame = frame.with_columns(
        number_text.str.contains(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
        .fill_null(False)
        .alias("ok"),
        number_text.cast(pl.Float64, strict=False).alias("number"),
    )
    number = pl.col("number")
    frame = frame.with_columns(
        (pl.col("ok") & number.is_finite().fill_null(False)).alias("finite"),
    )
    text, finite, quoted = pl.col("text"), pl.col("finite"), _quote(label, pl.col("text"))
    if whole:
        fits = finite & (number == number.floor()) & (number.abs() < 2**31)
        value = pl.when(fits).then(number.cast(pl.Int32, strict=False))
        problem = pl.when(~fits).then(quoted + " is not a whole number")
    else:
        value = pl.when(finite).then(number)
        problem = (
            pl.when(~pl.col("ok"))
            .then(quoted + " is not a number")
            .when(~finite)
            .then(quoted + " is too large to be a number")
        )
    reason = (
        pl.when(text.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.coalesce(pl.col("format_reason"), problem))
    )
    return frame.select(pl.struct(value.alias("value"), reason.alias("reason"))).to_series()


def _ambiguity(label: str, whole: bool) -> pl.Expr:
    """The reason for an ambiguous cell: both readings, why the file does not decide, and
    how to write it so that it reads one way only."""
    parts = pl.col("s").str.extract_groups(r"^([+-]?)([0-9]+)[.,]([0-9]{3})$")
    sign, lead, tail = (parts.struct.field(k) for k in ("1", "2", "3"))
    thousands = sign + lead + tail
    fraction = tail.str.strip_chars_end("0")
    as_decimal = pl.when(fraction == "").then(sign + lead).otherwise(sign + lead + "." + fraction)
    # Written with a decimal comma (the Indonesian convention), unambiguous: '1,5'; a
    # three-digit fraction gets a trailing zero ('2,0240') so it cannot be read as thousands.
    suggested = (
        pl.when(fraction == "")
        .then(sign + lead)
        .when(fraction.str.len_chars() == 3)
        .then(sign + lead + "," + fraction + "0")
        .otherwise(sign + lead + "," + fraction)
    )
    comma, point = pl.col("comma_example"), pl.col("point_example")
    why = (
        pl.when(comma.is_not_null() & point.is_not_null())
        .then(
            pl.lit("the file's numbers use both a decimal comma (e.g. '")
            + comma
            + "') and a decimal point (e.g. '"
            + point
            + "')"
        )
        .otherwise(pl.lit("the file gives no other number with a decimal separator"))
    )
    # A whole-number column has no use for '2,0240'; '1' for '1.000' it has.
    advice = thousands + " or " + suggested
    if whole:
        advice = pl.when(fraction == "").then(advice).otherwise(thousands)
    text = pl.col("text")
    message = (
        _quote(label, text)
        + " could be "
        + as_decimal
        + " or "
        + thousands
        + ": "
        + why
        + "; write it as "
        + advice
    )
    # Never a null reason for a cell that has text (that would be a silent null value).
    return pl.coalesce(message, _quote(label, text) + " could be read two ways")


def _contradiction(label: str) -> pl.Expr:
    """The reason for a cell the file's decided format cannot read ('1,234,567' among
    decimal commas), with the same number written in that format."""
    comma_file = pl.col("decimal") == DECIMAL_COMMA
    name = pl.when(comma_file).then(pl.lit("decimal comma")).otherwise(pl.lit("decimal point"))
    example = pl.when(comma_file).then(pl.col("comma_example")).otherwise(pl.col("point_example"))
    shown = pl.when(example.is_not_null()).then(" (e.g. '" + example + "')").otherwise(pl.lit(""))
    own = pl.col("own")
    rewritten = pl.when(comma_file).then(own.str.replace(".", ",", literal=True)).otherwise(own)
    text = pl.col("text")
    return pl.coalesce(
        _quote(label, text)
        + " does not fit the file's number format: its other numbers use a "
        + name
        + shown
        + "; write it as "
        + rewritten,
        _quote(label, text) + " does not fit the file's number format",
    )


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
