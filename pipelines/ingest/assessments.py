"""Employee performance assessments (SKP exports): one row per employee x period x indicator.

Parsing (numbers, NIPs, enum spelling) happens first, with reasons; the pandera schema then
checks the typed frame (required values, ranges, enumerations, known agency).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipelines.exports import (
    ASSESSMENT_COLUMNS,
    ASSESSMENT_COLUMNS_WITH_INDICATOR,
    ASSESSMENT_INDICATOR_COLUMNS,
)
from pipelines.ingest.context import Known
from pipelines.ingest.reading import LINEAGE, quarter_of_columns
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.validation import (
    ROW,
    Validated,
    as_code_set,
    failures_from_reasons,
    number_formats,
    per_distinct,
    split_valid,
    with_row_ids,
)
from pipelines.rules import indicator, parsing, periods
from pipelines.rules.nip import clean_nip, is_pppk, nip_reason
from pipelines.rules.pseudonym import pseudonymise

SOURCE = "assessments"
REQUIRED = [
    "nip",
    "kode_opd",
    "tahun",
    "periode",
    "kode_indikator",
    "target",
    "realisasi",
    "rating_hasil_kerja",
    "rating_perilaku",
    "predikat",
]
COLUMNS = ASSESSMENT_COLUMNS
# Optional: aspek, arah, jenis_agregasi (rules.indicator), loaded as their canonical value,
# NULL when the file has no such column or the cell is blank.
INDICATOR_COLUMNS = ASSESSMENT_INDICATOR_COLUMNS
RECORD = ASSESSMENT_COLUMNS_WITH_INDICATOR  # every column an export may carry
OPTIONAL = [c for c in RECORD if c not in REQUIRED]
# The typed row written to raw.assessments: the export's columns with the pseudonyms beside
# the NIPs they replace downstream, and the PPPK flag.
OUTPUT = ["nip", "employee_key", *RECORD[1:], "penilai_key", "is_pppk"]


_DECIMALS = ["target", "realisasi", "nilai_mandiri", "nilai_atasan"]
NUMBERS = ["tahun", *_DECIMALS]  # their text decides each file's number format
_PLAIN_TEXT = [
    "nama",
    "kode_opd",
    "nama_opd",
    "unit_kerja",
    "jabatan",
    "kode_indikator",
    "indikator",
    "satuan",
]


def _one_of(values: list[str]) -> pa.Check:
    return pa.Check.isin(values, error=f"is not one of: {', '.join(values)}")


def assessment_schema(known_agencies: set[str]) -> pa.DataFrameSchema:
    """Schema of the typed assessment frame; known agencies come from raw.agencies."""
    text = pl.String
    return pa.DataFrameSchema(
        name="assessments",
        columns={
            "nip": pa.Column(text, nullable=False),
            "kode_opd": pa.Column(
                text,
                pa.Check.isin(sorted(known_agencies), error="is not a known agency (raw.agencies)"),
                nullable=False,
            ),
            "jenis_jabatan": pa.Column(text, _one_of(parsing.POSITION_TYPES), nullable=True),
            "golongan": pa.Column(text, _one_of(parsing.GOLONGANS), nullable=True),
            "tahun": pa.Column(
                pl.Int32, pa.Check.in_range(2000, 2100, error="is not a year in 2000..2100")
            ),
            "periode": pa.Column(text, _one_of(parsing.PERIODS)),
            "kode_indikator": pa.Column(text),
            "target": pa.Column(pl.Float64, pa.Check.gt(0, error="must be greater than 0")),
            "realisasi": pa.Column(pl.Float64, pa.Check.ge(0, error="must not be negative")),
            "nilai_mandiri": pa.Column(
                pl.Float64, pa.Check.in_range(0, 120, error="is outside 0..120"), nullable=True
            ),
            "nilai_atasan": pa.Column(
                pl.Float64, pa.Check.in_range(0, 120, error="is outside 0..120"), nullable=True
            ),
            "rating_hasil_kerja": pa.Column(text, _one_of(parsing.RATINGS)),
            "rating_perilaku": pa.Column(text, _one_of(parsing.RATINGS)),
            "predikat": pa.Column(text, _one_of(parsing.PREDIKATS)),
            "is_pppk": pa.Column(pl.Boolean, nullable=False),
        },
        strict=False,
        coerce=False,
    )


def validate_assessments(
    frame: pl.DataFrame,
    known_agencies: Known,
    key: bytes,
    formats: pl.DataFrame | None = None,
) -> Validated:
    """Text frame (COLUMNS + lineage) -> typed valid rows + quarantine rows with reasons.

    ``formats``: each file's number format (``number_formats``), decided from the frame
    itself when not given (a caller validating part of a file passes the whole file's)."""
    if formats is None:
        formats = number_formats(frame, NUMBERS)
    frame = with_row_ids(
        frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(c) for c in INDICATOR_COLUMNS if c not in frame
        )
    )
    nip = per_distinct(frame, "nip", _nip_outputs("nip", "NIP", key))
    rater = per_distinct(frame, "nip_penilai", _nip_outputs("nip_penilai", "nip_penilai", key))
    tahun = parsing.parse_integer(pl.col("tahun"), "tahun", parsing.IN_FILE)
    years = per_distinct(frame, "tahun", {"value": tahun.value, "reason": tahun.reason}, formats)
    numbers = {}
    for column in _DECIMALS:
        parsed = parsing.parse_decimal(pl.col(column), column, parsing.IN_FILE)
        numbers[column] = per_distinct(
            frame, column, {"value": parsed.value, "reason": parsed.reason}, formats
        )
    enums = {
        column: per_distinct(frame, column, {"value": normalise(pl.col(column))})
        for column, normalise in _ENUMS.items()
    }
    declared = {
        column: per_distinct(frame, column, _indicator_outputs(frame, column))
        for column in INDICATOR_COLUMNS
    }
    typed = pl.concat(
        [
            frame.select(
                ROW,
                *LINEAGE,
                *[parsing.blank_to_null(pl.col(c)).alias(c) for c in _PLAIN_TEXT],
            ),
            nip.select(
                pl.col("value").alias("nip"),
                pl.col("key").alias("employee_key"),
                pl.col("pppk").fill_null(False).alias("is_pppk"),
            ),
            rater.select(pl.col("value").alias("nip_penilai"), pl.col("key").alias("penilai_key")),
            years.select(pl.col("value").alias("tahun")),
            *[parsed.select(pl.col("value").alias(c)) for c, parsed in numbers.items()],
            *[normalised.select(pl.col("value").alias(c)) for c, normalised in enums.items()],
            *[parsed.select(pl.col("value").alias(c)) for c, parsed in declared.items()],
        ],
        how="horizontal",
    )
    reasons = pl.concat(
        [
            frame.select(ROW),
            nip.select(pl.col("reason").alias("nip")),
            rater.select(pl.col("reason").alias("nip_penilai")),
            years.select(pl.col("reason").alias("tahun")),
            *[parsed.select(pl.col("reason").alias(c)) for c, parsed in numbers.items()],
            *[parsed.select(pl.col("reason").alias(c)) for c, parsed in declared.items()],
        ],
        how="horizontal",
    )
    known = as_code_set(known_agencies)
    return split_valid(
        frame, typed, failures_from_reasons(reasons), assessment_schema(known), RECORD, OUTPUT
    )


def _indicator_outputs(frame: pl.DataFrame, column: str) -> dict[str, pl.Expr]:
    """Canonical value of an aspek / arah / jenis_agregasi cell (seed indicator_vocabulary,
    via rules.indicator) and the reason when it is not a known spelling; blank is NULL."""
    known = {}
    for text in frame.get_column(column).drop_nulls().unique().to_list():
        try:
            value = indicator.canonical(column, text)
        except KeyError:
            continue
        if value is not None:
            known[text] = value
    cell = pl.col(column)
    value = cell.replace_strict(known, default=None, return_dtype=pl.String)
    accepted = ", ".join(dict.fromkeys(indicator.vocabulary()[column].values()))
    unknown = cell.str.strip_chars().ne("") & value.is_null()
    reason = pl.when(unknown).then(
        pl.lit(f"{column} '")
        + cell.str.slice(0, 200)
        + pl.lit(f"' is not a known value ({accepted})")
    )
    return {"value": value, "reason": reason}


def _nip_outputs(column: str, label: str, key: bytes) -> dict[str, pl.Expr]:
    """Cleaned NIP, its reason, PPPK flag and pseudonym, computed per distinct NIP."""
    cleaned = clean_nip(pl.col(column))
    return {
        "value": cleaned,
        "reason": nip_reason(pl.col(column), label),
        "pppk": is_pppk(pl.col(column)),
        "key": cleaned.map_batches(
            lambda values: pseudonymise(values, key), return_dtype=pl.String
        ),
    }


def assessment_quarter(frame: pl.DataFrame) -> pl.Series:
    """The quarter a period's end falls in (seed ``periods``, see rules.periods): TW n is
    quarter n, BULAN m the quarter of month m, TAHUNAN the last quarter (the annual
    evaluation closes the year); null when tahun or periode cannot be read.

    A year with a thousands separator ('2.024') is placed in 2024 whatever its file's number
    format: the quarter only places the row, validation decides whether it loads."""
    periode = parsing.normalise_period(pl.col("periode"))
    number = periode.replace_strict(periods.QUARTER_OF, default=None, return_dtype=pl.Int32)
    year = pl.col("tahun").str.strip_chars().str.replace(r"^([0-9])[.,]([0-9]{3})$", "${1}${2}")
    tahun = parsing.parse_integer(year, "tahun").value
    return quarter_of_columns(frame, ["tahun", "periode"], tahun, number)


_ENUMS = {
    "jenis_jabatan": parsing.normalise_position_type,
    "golongan": parsing.normalise_golongan,
    "periode": parsing.normalise_period,
    "rating_hasil_kerja": parsing.normalise_rating,
    "rating_perilaku": parsing.normalise_rating,
    "predikat": parsing.normalise_predikat,
}
definition = SourceDefinition(
    name=SOURCE,
    required=REQUIRED,
    optional=OPTIONAL,
    validate=validate_assessments,
    quarter=assessment_quarter,
    numbers=NUMBERS,
    description=(
        "Valid assessment rows from data/raw/assessments (CSV/xlsx), typed and normalised, "
        "with employee_key/penilai_key pseudonyms and file lineage."
    ),
)
