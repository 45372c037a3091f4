"""Competency-development (training) records: one row per course attendance."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipelines.exports import TRAINING_COLUMNS
from pipelines.ingest.context import Known
from pipelines.ingest.reading import LINEAGE, quarter_of_date
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.validation import (
    ROW,
    Validated,
    failures_from_reasons,
    number_formats,
    per_distinct,
    split_valid,
    with_row_ids,
)
from pipelines.rules import parsing
from pipelines.rules.nip import clean_nip, nip_reason
from pipelines.rules.pseudonym import pseudonymise

SOURCE = "training"
REQUIRED = ["nip", "nama_pelatihan", "jenis", "tanggal_mulai", "tanggal_selesai", "jp"]
COLUMNS = TRAINING_COLUMNS
OPTIONAL = [c for c in COLUMNS if c not in REQUIRED]
OUTPUT = ["nip", "employee_key", *COLUMNS[1:]]
MAX_JP = 1000
NUMBERS = ["jp"]  # its text decides each file's number format


def training_schema() -> pa.DataFrameSchema:
    """Schema of the typed training frame."""
    return pa.DataFrameSchema(
        name="training",
        columns={
            "nip": pa.Column(pl.String),
            "nama_pelatihan": pa.Column(pl.String),
            "jenis": pa.Column(
                pl.String,
                pa.Check.isin(parsing.TRAINING_KINDS, error="is not klasikal or nonklasikal"),
            ),
            "tanggal_mulai": pa.Column(pl.Date),
            "tanggal_selesai": pa.Column(pl.Date),
            "jp": pa.Column(
                pl.Float64,
                [
                    pa.Check.gt(0, error="must be greater than 0"),
                    pa.Check.le(MAX_JP, error=f"is more than {MAX_JP} JP"),
                ],
            ),
            "sertifikat": pa.Column(pl.Boolean, nullable=True),
        },
        strict=False,
        coerce=False,
    )


def validate_training(
    frame: pl.DataFrame,
    known_agencies: Known,
    key: bytes,
    formats: pl.DataFrame | None = None,
) -> Validated:
    """Text frame (COLUMNS + lineage) -> typed valid rows + quarantine rows with reasons.

    Training rows carry no kode_opd; ``known_agencies`` is accepted so every source
    validates alike. ``formats``: each file's number format, from the frame when not given.
    """
    del known_agencies
    if formats is None:
        formats = number_formats(frame, NUMBERS)
    frame = with_row_ids(frame)
    nip = per_distinct(
        frame,
        "nip",
        {
            "value": clean_nip(pl.col("nip")),
            "reason": nip_reason(pl.col("nip")),
            "key": clean_nip(pl.col("nip")).map_batches(
                lambda values: pseudonymise(values, key), return_dtype=pl.String
            ),
        },
    )
    parsed = {
        "tanggal_mulai": parsing.parse_date(pl.col("tanggal_mulai"), "tanggal_mulai"),
        "tanggal_selesai": parsing.parse_date(pl.col("tanggal_selesai"), "tanggal_selesai"),
        "jp": parsing.parse_decimal(pl.col("jp"), "jp", parsing.IN_FILE),
        "sertifikat": parsing.parse_flag(pl.col("sertifikat"), "sertifikat"),
    }
    mapped = {
        column: per_distinct(
            frame,
            column,
            {"value": p.value, "reason": p.reason},
            formats if column in NUMBERS else None,
        )
        for column, p in parsed.items()
    }
    kinds = per_distinct(
        frame, "jenis", {"value": parsing.normalise_training_kind(pl.col("jenis"))}
    )
    typed = pl.concat(
        [
            frame.select(
                ROW,
                *LINEAGE,
                parsing.blank_to_null(pl.col("nama_pelatihan")).alias("nama_pelatihan"),
                parsing.blank_to_null(pl.col("penyelenggara")).alias("penyelenggara"),
            ),
            nip.select(pl.col("value").alias("nip"), pl.col("key").alias("employee_key")),
            kinds.select(pl.col("value").alias("jenis")),
            *[m.select(pl.col("value").alias(column)) for column, m in mapped.items()],
        ],
        how="horizontal",
    )
    ends_before_start = pl.when(pl.col("tanggal_selesai") < pl.col("tanggal_mulai")).then(
        pl.lit("tanggal_selesai ")
        + pl.col("tanggal_selesai").cast(pl.String)
        + " is before tanggal_mulai "
        + pl.col("tanggal_mulai").cast(pl.String)
    )
    reasons = pl.concat(
        [
            frame.select(ROW),
            nip.select(pl.col("reason").alias("nip")),
            *[m.select(pl.col("reason").alias(column)) for column, m in mapped.items()],
        ],
        how="horizontal",
    ).with_columns(pl.coalesce("tanggal_selesai", typed.select(ends_before_start).to_series()))
    return split_valid(
        frame, typed, failures_from_reasons(reasons), training_schema(), COLUMNS, OUTPUT
    )


definition = SourceDefinition(
    name=SOURCE,
    required=REQUIRED,
    optional=OPTIONAL,
    validate=validate_training,
    quarter=quarter_of_date("tanggal_mulai"),
    numbers=NUMBERS,
    description=(
        "Valid training records from data/raw/training: dates, JP and certificate flag "
        "typed, employee_key pseudonym, with file lineage."
    ),
)
