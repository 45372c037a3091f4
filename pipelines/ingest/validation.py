"""The validation framework every source uses: parse each distinct value once, turn parse
failures and pandera failure cases into quarantine rows with a reason, split valid from
rejected. Rows are tracked by ``_row`` so every rejection names (source_file, source_row).
"""

from collections.abc import Sequence
from typing import NamedTuple

import pandera.polars as pa
import polars as pl

from pipelines.ingest.context import Known, ReferenceContext
from pipelines.ingest.formats import NUMBER_CELLS
from pipelines.ingest.reading import LINEAGE, LINEAGE_SCHEMA, ROW_PROBLEM
from pipelines.rules import parsing

# Tracks a row from reading to the final split, so every rejection names (file, row).
ROW = "_row"
# Excel's cell limit: a longer value did not come from a spreadsheet and cannot go back to one.
MAX_CELL_CHARS = 32_767
# Longer values are shortened in quarantine raw_record (the file keeps the original).
RECORD_VALUE_CHARS = 1_000

QUARANTINE_SCHEMA = {
    **LINEAGE_SCHEMA,
    "column_name": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
}


class Validated(NamedTuple):
    valid: pl.DataFrame
    quarantine: pl.DataFrame


def per_distinct(
    frame: pl.DataFrame,
    column: str,
    outputs: dict[str, pl.Expr],
    formats: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Evaluate expressions of one column on its distinct values, then map them back to every
    row (same order, same length as ``frame``).

    Exports repeat the same values millions of times (years, periods, targets, NIPs on every
    indicator row); parsing each distinct value once keeps the regex-heavy parsers cheap.
    With ``formats`` (see ``number_formats``) the outputs may read ``parsing.IN_FILE``: the
    same text means different numbers in different files, so the key is (file, value).
    """
    if formats is not None:
        return _per_distinct_in_file(frame, column, outputs, formats)
    key = "__distinct_value"
    distinct = frame.select(pl.col(column).unique())
    computed = distinct.select(
        pl.col(column).alias(key), *[expr.alias(name) for name, expr in outputs.items()]
    )
    return (
        frame.select(pl.col(column).alias(key))
        .join(computed, on=key, how="left", nulls_equal=True, maintain_order="left")
        .drop(key)
    )


FORMAT_COLUMNS = [parsing.DECIMAL, parsing.COMMA_EXAMPLE, parsing.POINT_EXAMPLE]
_EXCEL_NUMBER = "__excel_number"


def _excel_number(frame: pl.DataFrame, column: str) -> pl.Expr | None:
    """Is the cell an Excel number cell (xlsx)? None when the frame has none at all."""
    if NUMBER_CELLS not in frame.columns or frame.get_column(NUMBER_CELLS).null_count() == (
        frame.height
    ):
        return None
    return pl.col(NUMBER_CELLS).list.contains(column).fill_null(False)


def _per_distinct_in_file(
    frame: pl.DataFrame, column: str, outputs: dict[str, pl.Expr], formats: pl.DataFrame
) -> pl.DataFrame:
    """per_distinct keyed by (file, value, Excel number cell or not), with each file's
    number format as columns. An Excel number cell is Excel's own decimal-point rendering,
    whatever the file's text cells do. One file (a block of ``load_source``): no file key."""
    keys = {column: pl.col(column)}
    several_files = frame.get_column("source_file").n_unique() > 1
    if several_files:
        keys["source_file"] = pl.col("source_file")
    excel = _excel_number(frame, column)
    if excel is not None:
        keys[_EXCEL_NUMBER] = excel
    rows = frame.select(*[expr.alias(name) for name, expr in keys.items()])
    distinct = rows.unique()
    if several_files:
        distinct = distinct.join(formats, on="source_file", how="left")
    else:
        file = frame.get_column("source_file").first() if frame.height else None
        found = formats.filter(pl.col("source_file").eq_missing(file))
        distinct = distinct.with_columns(
            pl.lit(found.get_column(c).first() if found.height else None, dtype=pl.String).alias(c)
            for c in FORMAT_COLUMNS
        )
    if excel is not None:
        distinct = distinct.with_columns(
            pl.when(pl.col(_EXCEL_NUMBER))
            .then(pl.lit(parsing.DECIMAL_POINT))
            .otherwise(pl.col(parsing.DECIMAL))
            .alias(parsing.DECIMAL)
        )
    computed = distinct.select(*keys, *[expr.alias(name) for name, expr in outputs.items()])
    return rows.join(
        computed, on=list(keys), how="left", nulls_equal=True, maintain_order="left"
    ).drop(list(keys))


def number_formats(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Each file's number format, decided by its own numbers (text cells of ``columns``; not
    Excel number cells): source_file, the decimal separator (null when undecided) and the
    file's first value proving each separator (by row, then column order), for reasons."""
    found = []
    # One file (a block of load_source): its distinct values, without hashing the file name.
    one_file = frame.get_column("source_file").n_unique() <= 1
    by = [] if one_file else ["source_file"]
    file = [pl.col("source_file").first()] if one_file else []
    for position, column in enumerate(c for c in columns if c in frame.columns):
        excel = _excel_number(frame, column)
        cells = frame if excel is None else frame.filter(~excel)
        found.append(
            cells.group_by(*by, pl.col(column).alias("value"))
            .agg(pl.col("source_row").min(), *file)
            .filter(pl.col("value").str.contains(r"[.,]"))
            .with_columns(
                parsing.number_evidence(pl.col("value")).alias("evidence"),
                pl.lit(position).alias("position"),
            )
            .drop_nulls("evidence")
        )
    schema = {"source_file": pl.String, "value": pl.String, "source_row": pl.Int32}
    schema |= {"evidence": pl.String, "position": pl.Int32}
    found = [f.select(list(schema)).cast(schema) for f in found]
    evidence = pl.concat([pl.DataFrame(schema=schema), *found])
    evidence = evidence.sort("source_file", "source_row", "position")
    value, kind = pl.col("value"), pl.col("evidence")
    examples = evidence.group_by("source_file").agg(
        value.filter(kind == parsing.DECIMAL_COMMA).first().alias(parsing.COMMA_EXAMPLE),
        value.filter(kind == parsing.DECIMAL_POINT).first().alias(parsing.POINT_EXAMPLE),
    )
    files = frame.select(pl.col("source_file").unique(maintain_order=True))
    return _decided(files.join(examples, on="source_file", how="left"))


def merge_number_formats(first: pl.DataFrame, later: pl.DataFrame) -> pl.DataFrame:
    """The formats of a file's earlier blocks and a later block: first example of each kind."""
    merged = (
        pl.concat([first, later])
        .group_by("source_file", maintain_order=True)
        .agg(pl.col(parsing.COMMA_EXAMPLE, parsing.POINT_EXAMPLE).drop_nulls().first())
    )
    return _decided(merged)


def _decided(examples: pl.DataFrame) -> pl.DataFrame:
    comma, point = pl.col(parsing.COMMA_EXAMPLE), pl.col(parsing.POINT_EXAMPLE)
    return examples.select(
        "source_file",
        parsing.decide_decimal(comma, point).alias(parsing.DECIMAL),
        comma.cast(pl.String),
        point.cast(pl.String),
    )


def failures_from_reasons(reasons: pl.DataFrame) -> pl.DataFrame:
    """(_row, column_name, reason) for every non-null cell of ``reasons`` (_row + one reason
    column per input column)."""
    if reasons.width == 1:
        return pl.DataFrame(schema={ROW: pl.UInt32, "column_name": pl.String, "reason": pl.String})
    # Almost every row has no reason at all: unpivot only the rows that have one.
    columns = [c for c in reasons.columns if c != ROW]
    reasons = reasons.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in columns))
    return (
        reasons.unpivot(index=ROW, variable_name="column_name", value_name="reason")
        .filter(pl.col("reason").is_not_null())
        .select(ROW, "column_name", pl.col("reason").cast(pl.String))
    )


def failures_from_schema(typed: pl.DataFrame, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Run pandera lazily and turn its failure cases into (_row, column_name, reason).

    Checks carry their readable wording in ``error=``; pandera reports that text in the
    ``check`` column, so the reason is "<column> '<value>' <wording>". A null in a
    non-nullable column becomes "<column> is required but empty".
    """
    empty = pl.DataFrame(schema={ROW: pl.UInt32, "column_name": pl.String, "reason": pl.String})
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return empty
    unlocated = cases.filter(pl.col("index").is_null())
    if unlocated.height:  # schema-level problem (missing column, wrong dtype): a code bug
        raise ValueError(f"schema {schema.name} failed as a whole:\n{unlocated}")
    rows = typed.get_column(ROW).gather(cases.get_column("index"))
    reason = (
        pl.when(pl.col("check") == "not_nullable")
        .then(pl.col("column") + " is required but empty")
        .otherwise(pl.col("column") + " '" + pl.col("failure_case") + "' " + pl.col("check"))
    )
    return cases.select(
        rows.alias(ROW), pl.col("column").alias("column_name"), reason.alias("reason")
    )


def split_valid(
    frame: pl.DataFrame,
    typed: pl.DataFrame,
    parse_failures: pl.DataFrame,
    schema: pa.DataFrameSchema,
    record_columns: Sequence[str],
    output_columns: Sequence[str],
) -> Validated:
    """Combine parse failures and schema failures; rejected rows leave ``valid``.

    ``frame`` is the text input with ``_row`` and lineage; ``typed`` the parsed frame with
    ``_row``. A fully empty row is reported once, as column '*', instead of once per
    required column; so is a row with values beyond the header (``_row_problem``). Every
    text cell is also checked for length and damaged text (``_cell_reason``). Schema
    failures on a column that already failed to parse are dropped (the parse reason says
    more than "required but empty").
    """
    if ROW_PROBLEM not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(ROW_PROBLEM))
    row_failures = frame.filter(pl.col(ROW_PROBLEM).is_not_null()).select(
        ROW, pl.lit("*").alias("column_name"), pl.col(ROW_PROBLEM).alias("reason")
    )
    empty_rows = frame.filter(
        pl.all_horizontal(pl.col(c).is_null() for c in record_columns)
        & pl.col(ROW_PROBLEM).is_null()
    ).select(
        ROW,
        pl.lit("*").alias("column_name"),
        pl.lit("row is empty").alias("reason"),
    )
    cell_failures = failures_from_reasons(
        frame.select(ROW, *[_cell_reason(c).alias(c) for c in record_columns])
    )
    parse_failures = parse_failures.join(cell_failures, on=[ROW, "column_name"], how="anti")
    schema_failures = (
        failures_from_schema(typed, schema)
        .join(parse_failures, on=[ROW, "column_name"], how="anti")
        .join(cell_failures, on=[ROW, "column_name"], how="anti")
    )
    # A shifted row's column failures are noise caused by the shift: its '*' reason says it.
    column_failures = pl.concat(
        [
            cell_failures,
            parse_failures.join(empty_rows, on=ROW, how="anti"),
            schema_failures.join(empty_rows, on=ROW, how="anti"),
        ]
    ).join(row_failures, on=ROW, how="anti")
    failures = pl.concat([row_failures, column_failures, empty_rows]).unique(maintain_order=True)
    rejected = failures.get_column(ROW).unique()
    records = frame.filter(pl.col(ROW).is_in(rejected.implode())).select(
        ROW,
        *LINEAGE,
        pl.struct(_record_value(c) for c in record_columns)
        .struct.json_encode()
        .alias("raw_record"),
    )
    quarantine = (
        failures.join(records, on=ROW, how="left")
        .sort(["source_file", "source_row", "column_name", "reason"])
        .select(list(QUARANTINE_SCHEMA))
        .cast(QUARANTINE_SCHEMA)
    )
    valid = (
        typed.filter(~pl.col(ROW).is_in(rejected.implode()))
        .sort(["source_file", "source_row"])
        .select(*output_columns, *LINEAGE)
    )
    return Validated(valid, quarantine)


def _cell_reason(column: str) -> pl.Expr:
    """Problems of a text cell whatever its column: too long for any spreadsheet, or text
    that was damaged in decoding (U+FFFD stands where bytes could not be read)."""
    cell = pl.col(column)
    length = cell.str.len_chars()
    return (
        pl.when(length > MAX_CELL_CHARS)
        .then(
            pl.lit(f"{column} is ")
            + length.cast(pl.String)
            + pl.lit(f" characters long, more than the {MAX_CELL_CHARS} a spreadsheet cell holds")
        )
        .when(cell.str.contains("\ufffd", literal=True))
        .then(
            pl.lit(f"{column} '")
            + cell.str.slice(0, 200)
            + pl.lit(
                "' contains undecodable bytes (shown as \ufffd): neither UTF-8 nor Windows-1252"
            )
        )
    )


def _record_value(column: str) -> pl.Expr:
    """The original text for raw_record, shortened (with its length) when it is huge."""
    cell = pl.col(column)
    length = cell.str.len_chars()
    return (
        pl.when(length > RECORD_VALUE_CHARS)
        .then(
            cell.str.slice(0, RECORD_VALUE_CHARS)
            + pl.lit("… [")
            + length.cast(pl.String)
            + pl.lit(" characters in all]")
        )
        .otherwise(cell)
        .alias(column)
    )


def with_row_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Input frame with a ``_row`` id that survives filtering."""
    return frame.with_row_index(ROW)


def as_code_set(codes: Known) -> set[str]:
    """Agency codes as a set, whether a caller passes a set, a column of raw.agencies or the
    load's ReferenceContext."""
    return set(ReferenceContext.of(codes).agencies)


def reasons_markdown(quarantine: pl.DataFrame, limit: int = 25) -> str:
    """Markdown table of rejection reasons by count, values masked so that reasons group."""
    if quarantine.height == 0:
        return "No rows quarantined."
    summary = (
        quarantine.with_columns(pl.col("reason").str.replace_all(r"'[^']*'", "'…'"))
        .group_by("column_name", "reason")
        .agg(rows=pl.len())
        .sort(["rows", "column_name", "reason"], descending=[True, False, False])
    )
    lines = ["| column | reason | rows |", "|---|---|---|"]
    for column, reason, rows in summary.head(limit).iter_rows():
        lines.append(f"| {column} | {reason.replace('|', '/')} | {rows} |")
    if summary.height > limit:
        lines.append(f"| … | {summary.height - limit} more kinds | |")
    return "\n".join(lines)


# ---------------------------------------------------------------- Dagster
