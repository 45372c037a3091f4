"""Citizen satisfaction survey (SKM) responses: one row per respondent.

Answer columns are stored as the canonical elements u1..u9 (PermenPANRB 14/2017 order):
exports naming their elements, in any order, and exports numbering them in another order
are mapped through the seed dbt_project/seeds/skm_elements.csv (see pipelines.rules.skm).

An answer outside 1..4 (or unreadable) makes that answer missing and is counted in
n_invalid_answers; it does not reject the respondent (PermenPANRB 14/2017 computes each
element's NRR over the respondents who answered it).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipelines.exports import SKM_ELEMENTS, SURVEY_COLUMNS
from pipelines.ingest.context import Known
from pipelines.ingest.reading import LINEAGE, quarter_of_date
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
from pipelines.rules import parsing, skm

SOURCE = "surveys"
ANSWERS = SKM_ELEMENTS
REQUIRED = ["id_responden", "tanggal", "kode_opd", "unit_layanan"]
COLUMNS = SURVEY_COLUMNS
ELEMENTS = skm.seed_elements()
# Element-named answer columns are read too; validation maps them onto u1..u9.
OPTIONAL = [c for c in COLUMNS if c not in REQUIRED] + skm.named_headers(ELEMENTS)
OUTPUT = [c for c in COLUMNS if c != "saran"] + ["n_invalid_answers", "saran"]
_PLAIN_TEXT = ["id_responden", "kode_opd", "unit_layanan", "jenis_layanan", "pendidikan"]
_PLAIN_TEXT += ["pekerjaan", "saran"]
# Their text decides each file's number format (answers under either kind of header).
NUMBERS = ["usia", *ANSWERS, *skm.named_headers(ELEMENTS)]


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
    frame: pl.DataFrame,
    known_agencies: Known,
    key: bytes,
    formats: pl.DataFrame | None = None,
) -> Validated:
    """Text frame (COLUMNS + lineage) -> typed valid rows + quarantine rows with reasons.

    ``key`` is unused (surveys hold no NIP) but kept so every source validates alike.
    ``formats``: each file's number format, from the frame itself when not given.
    """
    del key
    if formats is None:
        formats = number_formats(frame, NUMBERS)
    frame = with_row_ids(skm.to_canonical_elements(frame, ELEMENTS))
    tanggal = parsing.parse_date(pl.col("tanggal"), "tanggal")
    usia = parsing.parse_integer(pl.col("usia"), "usia", parsing.IN_FILE)
    dates = per_distinct(frame, "tanggal", {"value": tanggal.value, "reason": tanggal.reason})
    ages = per_distinct(frame, "usia", {"value": usia.value, "reason": usia.reason}, formats)
    genders = per_distinct(
        frame, "jenis_kelamin", {"value": parsing.normalise_gender(pl.col("jenis_kelamin"))}
    )
    answers = [
        per_distinct(frame, a, _answer_outputs(a), formats).rename(_suffixed(a)) for a in ANSWERS
    ]
    typed = pl.concat(
        [
            frame.select(
                ROW,
                *LINEAGE,
                *[parsing.blank_to_null(pl.col(c)).alias(c) for c in _PLAIN_TEXT],
            ),
            dates.select(pl.col("value").alias("tanggal")),
            ages.select(pl.col("value").alias("usia")),
            genders.select(pl.col("value").alias("jenis_kelamin")),
            *answers,
        ],
        how="horizontal",
    ).with_columns(
        pl.sum_horizontal(f"{a}_invalid" for a in ANSWERS).cast(pl.Int32).alias("n_invalid_answers")
    )
    reasons = pl.concat(
        [
            frame.select(ROW),
            dates.select(pl.col("reason").alias("tanggal")),
            ages.select(pl.col("reason").alias("usia")),
        ],
        how="horizontal",
    )
    known = as_code_set(known_agencies)
    return split_valid(
        frame, typed, failures_from_reasons(reasons), survey_schema(known), COLUMNS, OUTPUT
    )


def _answer_outputs(answer: str) -> dict[str, pl.Expr]:
    """An answer in 1..4, else null; ``invalid`` when text was given but is not in 1..4."""
    value = parsing.parse_integer(pl.col(answer), answer, parsing.IN_FILE).value
    in_scale = value.is_between(1, 4).fill_null(False)
    given = parsing.blank_to_null(pl.col(answer)).is_not_null()
    return {"value": pl.when(in_scale).then(value), "invalid": given & ~in_scale}


def _suffixed(answer: str) -> dict[str, str]:
    return {"value": answer, "invalid": f"{answer}_invalid"}


definition = SourceDefinition(
    name=SOURCE,
    required=REQUIRED,
    optional=OPTIONAL,
    validate=validate_surveys,
    quarter=quarter_of_date("tanggal"),
    numbers=NUMBERS,
    description=(
        "Valid SKM survey responses from data/raw/surveys: answers as the canonical elements "
        "u1..u9 (mapped by element name or the order in seed skm_elements) in 1..4 (others "
        "nulled and counted in n_invalid_answers), with file lineage."
    ),
)
