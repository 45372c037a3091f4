"""Numbers in the exports' text cells, read in their file's number format.

Whether '.' or ',' is the decimal separator is a property of a file, not of a cell: in a
decimal-comma file '1.500' is 1500, in a decimal-point file 1.5. A file's own numbers
decide (see ``number_evidence``); a value whose reading depends on the decision is never
guessed when the file does not decide. Callers reach these through ``pipelines.rules.parsing``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.rules.cells import Parsed, blank_to_null, quote

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
    text, finite, quoted = pl.col("text"), pl.col("finite"), quote(label, pl.col("text"))
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
        quote(label, text)
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
    return pl.coalesce(message, quote(label, text) + " could be read two ways")


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
        quote(label, text)
        + " does not fit the file's number format: its other numbers use a "
        + name
        + shown
        + "; write it as "
        + rewritten,
        quote(label, text) + " does not fit the file's number format",
    )
