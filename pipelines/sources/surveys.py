"""Citizen satisfaction survey (SKM) responses: one row per respondent.

An answer outside 1..4 (or unreadable) makes that answer missing and is counted in
n_invalid_answers; it does not reject the respondent (PermenPANRB 14/2017 computes each
element's NRR over the respondents who answered it).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipelines.rules import parsing
from pipelines.sources._ingest import (
    ROW,
    SourceDefinition,
    Validated,
    build_source_assets,
    failures_from_reasons,
    split_valid,
    with_row_ids,
)

SOURCE = "surveys"
ANSWERS = [f"u{i}" for i in range(1, 10)]
REQUIRED = ["id_responden", "tanggal", "kode_opd", "unit_layanan"]
COLUMNS = [
    "id_responden",
    "tanggal",
    "kode_opd",
    "unit_layanan",
    "jenis_layanan",
    "jenis_kelamin",
    "usia",
    "pendidikan",
    "pekerjaan",
    *ANSWERS,
    "saran",
]
OPTIONAL = [c for c in COLUMNS if c not in REQUIRED]
OUTPUT = [c for c in COLUMNS if c != "saran"] + ["n_invalid_answers", "saran"]
_PLAIN_TEXT = ["id_responden", "kode_opd", "unit_layanan", "jenis_layanan", "pendidikan"]
_PLAIN_TEXT += ["pekerjaan", "saran"]


def survey_schema(known_agencies: set[str]) -> pa.DataFrameSchema:
    """Schema of the typed survey frame; known agencies come from raw.agencies."""
    text = pl.String
    return pa.DataFrameSchema(
        name="surveys",
        columns={
            "id_responden": pa.Column(text),
            "tanggal": pa.Column(pl.Date),
            "kode_opd": pa.Column(
                text,
                pa.Check.isin(sorted(known_agencies), error="is not a known agency (raw.agencies)"),
            ),
            "unit_layanan": pa.Column(text),
            "jenis_kelamin": pa.Column(
                text, pa.Check.isin(parsing.GENDERS, error="is not L or P"), nullable=True
            ),
            "usia": pa.Column(
                pl.Int32, pa.Check.in_range(10, 100, error="is outside 10..100"), nullable=True
            ),
            **{
                answer: pa.Column(pl.Int32, pa.Check.in_range(1, 4), nullable=True)
                for answer in ANSWERS
            },
            "n_invalid_answers": pa.Column(pl.Int32, pa.Check.in_range(0, len(ANSWERS))),
        },
        strict=False,
        coerce=False,
    )


def validate_surveys(
    frame: pl.DataFrame, known_agencies: set[str] | pl.Series, key: bytes
) -> Validated:
    """Text frame (COLUMNS + lineage) -> typed valid rows + quarantine rows with reasons.

    ``key`` is unused (surveys hold no NIP) but kept so every source validates alike.
    """
    del key
    frame = with_row_ids(frame)
    tanggal = parsing.parse_date(pl.col("tanggal"), "tanggal")
    usia = parsing.parse_integer(pl.col("usia"), "usia")
    answers = {a: parsing.parse_integer(pl.col(a), a).value for a in ANSWERS}
    in_scale = {a: value.is_between(1, 4) for a, value in answers.items()}
    invalid = [
        (parsing.blank_to_null(pl.col(a)).is_not_null() & ~in_scale[a].fill_null(False))
        for a in ANSWERS
    ]
    typed = frame.select(
        ROW,
        "source_file",
        "source_row",
        "file_sha256",
        *[parsing.blank_to_null(pl.col(c)).alias(c) for c in _PLAIN_TEXT],
        tanggal.value.alias("tanggal"),
        parsing.normalise_gender(pl.col("jenis_kelamin")).alias("jenis_kelamin"),
        usia.value.alias("usia"),
        *[pl.when(in_scale[a]).then(answers[a]).alias(a) for a in ANSWERS],
        pl.sum_horizontal(invalid).cast(pl.Int32).alias("n_invalid_answers"),
    )
    parse_failures = failures_from_reasons(frame, {"tanggal": tanggal.reason, "usia": usia.reason})
    known = set(
        known_agencies.to_list() if isinstance(known_agencies, pl.Series) else known_agencies
    )
    return split_valid(frame, typed, parse_failures, survey_schema(known), COLUMNS, OUTPUT)


ingest_surveys = build_source_assets(
    SourceDefinition(
        name=SOURCE,
        required=REQUIRED,
        optional=OPTIONAL,
        validate=validate_surveys,
        description=(
            "Valid SKM survey responses from data/raw/surveys: answers u1..u9 in 1..4 (others "
            "nulled and counted in n_invalid_answers), with file lineage."
        ),
    )
)

assets: list = [ingest_surveys]
asset_checks: list = []
