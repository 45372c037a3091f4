"""BKN SIASN performance records (``data/raw/siasn/``): one row per record, annual SKP 2022+
(``rw-skp22``) or periodic (``rw-kinerjaperiodik``), as JSON responses, JSON lines or tables
with the same column names (headers are compared in canonical form, so the capital K/P of
``KuadranKinerjaNilai``/``PerilakuKerjaNilai`` do not matter).

A record is annual unless it carries a periodic field (periodikId, bulanMulaiPenilaian,
bulanSelesaiPenilaian). Codes become our canonical values: hasilKinerjaNilai and
perilakuKerjaNilai 1/2/3 -> DI ATAS/SESUAI/DI BAWAH EKSPEKTASI, kuadranKinerjaNilai (or
kuadranNilai) 1..5 -> Sangat Baik .. Sangat Kurang, periodikId 1 monthly (BULAN m of
bulanSelesaiPenilaian), 2 quarterly (TW q of the quarter bulanSelesaiPenilaian falls in); an
annual record is TAHUNAN. Without a code its label is read (BKN's 'DIATAS ESPEKTASI' and
our spelling alike); a code and a label that disagree, an unknown code or label is
quarantined with the column and value.

Placing a record: its NIP is the record's ``nip``, else the roster's NIP of its
``pnsDinilaiId`` (SIASN's internal id, not a NIP); the agency, unit and groups come from the
roster row of that NIP (reference/pegawai.csv, ``ReferenceContext.roster``). A record that
cannot be placed is quarantined naming the id: never guessed.

Names (nama, namaPenilai) and ``path`` (a document link) are not columns of this source:
the reader drops them, so they reach neither raw.siasn nor quarantine.siasn's raw_record.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipelines.ingest.context import Known, ReferenceContext
from pipelines.ingest.reading import LINEAGE, quarter_of_columns
from pipelines.ingest.siasn_codes import (
    KUADRAN_CODES,
    PERIODIC_FIELDS,
    RATER_STATUSES,
    RATING_CODES,
    RECORD_KINDS,
    graded,
    month,
    periode_of,
    predikat_label,
    rating_label,
)
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.validation import (
    ROW,
    Validated,
    as_code_set,
    failures_from_reasons,
    per_distinct,
    split_valid,
    with_row_ids,
)
from pipelines.rules import parsing
from pipelines.rules.cells import blank_to_null, quote
from pipelines.rules.nip import clean_nip, nip_reason
from pipelines.rules.pseudonym import pseudonymise

SOURCE = "siasn"
ROSTER_FILE = "reference/pegawai.csv"
REQUIRED = ["tahun"]
OPTIONAL = [
    "id",
    "nip",
    "pnsdinilaiid",
    "periodikid",
    "periodiknama",
    "bulanmulaipenilaian",
    "bulanselesaipenilaian",
    "hasilkinerjanilai",
    "hasilkinerja",
    "perilakukerjanilai",
    "perilakukerja",
    "kuadrankinerjanilai",
    "kuadrannilai",
    "kuadrankinerja",
    "nipnrppenilai",
    "penilainipnrp",
    "statuspenilai",
    "instansiid",
    "unorid",
]
COLUMNS = [*REQUIRED, *OPTIONAL]
ROSTER_GROUPS = ["kode_opd", "unit_kerja", "jabatan", "jenis_jabatan", "golongan"]
OUTPUT = [
    "nip",
    "employee_key",
    "pns_id",
    "record_kind",
    "siasn_id",
    "tahun",
    "periode",
    *ROSTER_GROUPS,
    "rating_hasil_kerja",
    "rating_perilaku",
    "predikat",
    "nip_penilai",
    "penilai_key",
    "status_penilai",
]


def siasn_schema(known_agencies: set[str]) -> pa.DataFrameSchema:
    """The typed frame; required-ness of derived values is said by validate's reasons
    (naming the SIASN column), so those columns are nullable here."""
    text = pl.String

    def one_of(values: list[str], nullable: bool = True) -> pa.Column:
        return pa.Column(
            text, pa.Check.isin(values, error=f"is not one of: {', '.join(values)}"), nullable
        )

    return pa.DataFrameSchema(
        name=SOURCE,
        columns={
            "record_kind": one_of(RECORD_KINDS, nullable=False),
            "tahun": pa.Column(
                pl.Int32, pa.Check.in_range(2000, 2100, error="is not a year in 2000..2100")
            ),
            "periode": one_of(parsing.PERIODS),
            "kode_opd": pa.Column(
                text,
                pa.Check.isin(sorted(known_agencies), error="is not a known agency (raw.agencies)"),
                nullable=True,
            ),
            "jenis_jabatan": one_of(parsing.POSITION_TYPES),
            "golongan": one_of(parsing.GOLONGANS),
            "rating_hasil_kerja": one_of(parsing.RATINGS),
            "rating_perilaku": one_of(parsing.RATINGS),
            "predikat": one_of(parsing.PREDIKATS),
            "status_penilai": one_of(RATER_STATUSES),
        },
        strict=False,
        coerce=False,
    )


def _place(frame: pl.DataFrame, context: ReferenceContext, key: bytes) -> pl.DataFrame:
    """nip, employee_key, pns_id and the roster's groups of every row, and the reasons a row
    cannot be placed (columns nip, pnsdinilaiid)."""
    nips = per_distinct(
        frame, "nip", {"value": clean_nip(pl.col("nip")), "reason": nip_reason(pl.col("nip"))}
    )
    roster, by_id = context.placeable_roster, context.roster_by_id
    given = pl.DataFrame(
        {
            ROW: frame.get_column(ROW),
            "given_nip": nips.get_column("value"),
            "nip_reason": nips.get_column("reason"),
            "given_id": frame.select(blank_to_null(pl.col("pnsdinilaiid"))).to_series(),
        }
    )
    placed = (
        given.join(
            by_id.select(pl.col("pns_id").alias("given_id"), pl.col("nip").alias("id_nip")),
            on="given_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            pl.when(pl.col("nip_reason").is_null())
            .then(pl.coalesce("given_nip", "id_nip"))
            .alias("nip")
        )
        .join(
            roster.select("nip", pl.col("pns_id").alias("roster_id"), *ROSTER_GROUPS),
            on="nip",
            how="left",
            maintain_order="left",
        )
    )
    in_roster = pl.col("kode_opd").is_not_null() | pl.col("roster_id").is_not_null()
    other_employee = (
        pl.col("id_nip").is_not_null() & (pl.col("id_nip") != pl.col("given_nip"))
    ) | (
        pl.col("roster_id").is_not_null()
        & pl.col("given_id").is_not_null()
        & (pl.col("roster_id") != pl.col("given_id"))
    )
    id_reason = (
        pl.when(pl.col("given_nip").is_null() & pl.col("given_id").is_null())
        .then(pl.lit("the record has neither nip nor pnsdinilaiid: it cannot be placed"))
        .when(pl.col("given_nip").is_null() & pl.col("id_nip").is_null())
        .then(
            quote("pnsdinilaiid", pl.col("given_id"))
            + pl.lit(f" is not in {ROSTER_FILE}: the employee cannot be placed")
        )
        .when(pl.col("nip_reason").is_null() & other_employee)
        .then(
            quote("pnsdinilaiid", pl.col("given_id"))
            + pl.lit(" and ")
            + quote("nip", pl.col("given_nip"))
            + pl.lit(f" are different employees in {ROSTER_FILE}")
        )
    )
    nip_problem = (
        pl.when(pl.col("nip_reason").is_not_null())
        .then(pl.col("nip_reason"))
        .when(pl.col("nip").is_not_null() & ~in_roster)
        .then(
            quote("NIP", pl.col("nip"))
            + pl.lit(f" is not in {ROSTER_FILE}: the employee's agency is unknown")
        )
    )
    keys = per_distinct(
        placed,
        "nip",
        {"key": pl.col("nip").map_batches(lambda v: pseudonymise(v, key), return_dtype=pl.String)},
    )
    return placed.select(
        "nip",
        keys.get_column("key").alias("employee_key"),
        pl.coalesce("given_id", "roster_id").alias("pns_id"),
        *ROSTER_GROUPS,
        nip_problem.alias("nip_problem"),
        id_reason.alias("id_problem"),
    )


def _rater(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """nip_penilai (annual nipNrpPenilai, periodic penilaiNipNrp), its pseudonym and the
    rater's status; a NIP reason only for an ASN rater (a non-ASN rater has no NIP)."""
    work = frame.select(
        pl.coalesce(
            blank_to_null(pl.col("nipnrppenilai")), blank_to_null(pl.col("penilainipnrp"))
        ).alias("rater"),
        pl.col("statuspenilai"),
    )
    squeezed = blank_to_null(pl.col("statuspenilai")).str.to_uppercase()
    squeezed = squeezed.str.replace_all(r"[^A-Z]", "")
    status = per_distinct(
        work,
        "statuspenilai",
        {
            "value": squeezed.replace_strict(
                {"ASN": "ASN", "NONASN": "NON ASN"},
                default=blank_to_null(pl.col("statuspenilai")),
            )
        },
    )
    cleaned = clean_nip(pl.col("rater"))
    raters = per_distinct(
        work,
        "rater",
        {
            "value": cleaned,
            "reason": nip_reason(pl.col("rater"), "nip_penilai"),
            "key": cleaned.map_batches(lambda v: pseudonymise(v, key), return_dtype=pl.String),
        },
    )
    rows = pl.DataFrame(
        {
            "nip_penilai": raters.get_column("value"),
            "penilai_key": raters.get_column("key"),
            "status_penilai": status.get_column("value"),
            "reason": raters.get_column("reason"),
        }
    )
    asn = pl.col("status_penilai").ne_missing("NON ASN")
    return rows.with_columns(pl.when(asn).then(pl.col("reason")).alias("reason"))


def validate_siasn(
    frame: pl.DataFrame,
    known_agencies: Known,
    key: bytes,
    formats: pl.DataFrame | None = None,
) -> Validated:
    """Text frame (COLUMNS + lineage) -> one typed row per record placed, or quarantine rows
    with reasons. ``known_agencies``: the load's ReferenceContext (its roster places the
    records; agency codes alone mean no roster: nothing can be placed). Numbers here are
    codes and years, not amounts: ``formats`` is accepted so every source validates alike."""
    del formats
    context = ReferenceContext.of(known_agencies)
    frame = with_row_ids(frame)
    tahun = parsing.parse_integer(pl.col("tahun"), "tahun")
    years = per_distinct(frame, "tahun", {"value": tahun.value, "reason": tahun.reason})
    placed = _place(frame, context, key)
    rater = _rater(frame, key)
    period = periode_of(frame)
    grades = {
        "rating_hasil_kerja": graded(
            frame, ["hasilkinerjanilai"], "hasilkinerja", RATING_CODES, rating_label
        ),
        "rating_perilaku": graded(
            frame, ["perilakukerjanilai"], "perilakukerja", RATING_CODES, rating_label
        ),
        "predikat": graded(
            frame,
            ["kuadrankinerjanilai", "kuadrannilai"],
            "kuadrankinerja",
            KUADRAN_CODES,
            predikat_label,
        ),
    }
    typed = pl.concat(
        [
            frame.select(ROW, *LINEAGE, blank_to_null(pl.col("id")).alias("siasn_id")),
            placed.drop("nip_problem", "id_problem"),
            years.select(pl.col("value").alias("tahun")),
            period.select("record_kind", "periode"),
            rater.drop("reason"),
            pl.DataFrame([value.alias(name) for name, (value, _) in grades.items()]),
        ],
        how="horizontal",
    ).with_columns(
        parsing.normalise_golongan(pl.col("golongan")).alias("golongan"),
        parsing.normalise_position_type(pl.col("jenis_jabatan")).alias("jenis_jabatan"),
    )
    reasons = pl.concat(
        [
            frame.select(ROW),
            placed.select(
                pl.col("nip_problem").alias("nip"), pl.col("id_problem").alias("pnsdinilaiid")
            ),
            years.select(pl.col("reason").alias("tahun")),
            period.drop("record_kind", "periode"),
            rater.select(pl.col("reason").alias("nip_penilai")),
            pl.DataFrame(
                [
                    reason.alias(codes)
                    for codes, (_, reason) in zip(
                        ["hasilkinerjanilai", "perilakukerjanilai", "kuadrankinerjanilai"],
                        grades.values(),
                        strict=True,
                    )
                ]
            ),
        ],
        how="horizontal",
    )
    schema = siasn_schema(as_code_set(context))
    return split_valid(frame, typed, failures_from_reasons(reasons), schema, COLUMNS, OUTPUT)


def siasn_quarter(frame: pl.DataFrame) -> pl.Series:
    """The quarter a record's period ends in: an annual record's is the year's last (as
    TAHUNAN assessments), a periodic record's that of bulanSelesaiPenilaian; null when tahun
    or that month cannot be read."""
    periodic = pl.any_horizontal(blank_to_null(pl.col(c)).is_not_null() for c in PERIODIC_FIELDS)
    end = month(pl.col("bulanselesaipenilaian"))
    number = pl.when(periodic).then((end - 1) // 3 + 1).otherwise(pl.lit(4)).cast(pl.Int32)
    year = pl.col("tahun").str.strip_chars().str.replace(r"^([0-9])[.,]([0-9]{3})$", "${1}${2}")
    tahun = parsing.parse_integer(year, "tahun").value
    return quarter_of_columns(frame, ["tahun", *PERIODIC_FIELDS], tahun, number)


definition = SourceDefinition(
    name=SOURCE,
    required=REQUIRED,
    optional=OPTIONAL,
    validate=validate_siasn,
    quarter=siasn_quarter,
    references=("agencies", "pegawai"),
    description=(
        "BKN SIASN performance records from data/raw/siasn (JSON responses, JSON lines, "
        "CSV/xlsx): annual SKP and periodic ratings, one row per record, placed by the "
        "roster (reference/pegawai.csv) with employee_key/penilai_key pseudonyms and file "
        "lineage. Names and document paths are not read."
    ),
)
