"""Reference tables a user supplies with the exports: agencies, organisation predikat per
agency-year, and each service unit's yearly population (for the SKM sample size).

These files are expected to be clean: any problem fails the asset with a one-line
ReferenceFileError naming the file, what is wrong and what to do (`kinerja run` prints it
without a traceback), rather than quarantining, because every source depends on them.

agencies.csv and predikat_organisasi.csv are required. service_population.csv is optional:
missing, empty or a header row alone all mean "none given" (the SKM sample-size audit then
says "not assessable" instead of guessing; everything else runs). So is pegawai.csv, the
roster that places SIASN records (NIP, SIASN pns_id, agency and groups): without it every
SIASN record is quarantined as one that cannot be placed, and the other sources run.
indikator.csv is optional too: each individual indicator's aspek, arah and jenis_agregasi
(rules.indicator) for exports that do not carry them; an indicator it does not declare
either defaults downstream (naik, terakhir).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl

from pipelines.ingest.context import ROSTER_COLUMNS, empty_roster
from pipelines.ingest.formats import ExportReadError, read_export, require_columns
from pipelines.ingest.validation import FORMAT_COLUMNS, number_formats
from pipelines.rules import indicator, predikat
from pipelines.rules.nip import clean_nip, nip_reason
from pipelines.rules.parsing import IN_FILE, blank_to_null, parse_integer

AGENCY_SCHEMA = pa.DataFrameSchema(
    {
        "kode_opd": pa.Column(pl.String, unique=True),
        "nama_opd": pa.Column(pl.String),
        "pemda": pa.Column(pl.String, nullable=True),
    },
    name="agencies",
    strict=True,
)
PREDIKAT_SCHEMA = pa.DataFrameSchema(
    {
        "kode_opd": pa.Column(pl.String),
        "tahun": pa.Column(pl.Int32, pa.Check.in_range(2000, 2100)),
        "predikat": pa.Column(pl.String, pa.Check.isin(list(predikat.ORGANISATION_PREDIKATS))),
    },
    name="predikat_organisasi",
    strict=True,
    unique=["kode_opd", "tahun"],
)
# How formats.read_export words a file without data rows (pinned by a test).
NO_DATA = ("has a header row but no data rows", "the file is empty")


class ReferenceFileError(ValueError):
    """A reference file the run cannot use: one line naming the file, the problem and the fix
    (a data problem, not a bug: the CLI shows it without a traceback)."""


POPULATION_SCHEMA = pa.DataFrameSchema(
    {
        "kode_opd": pa.Column(pl.String),
        "unit_layanan": pa.Column(pl.String),
        "tahun": pa.Column(pl.Int32, pa.Check.in_range(2000, 2100)),
        "populasi": pa.Column(pl.Int32, pa.Check.ge(0)),
    },
    name="service_population",
    strict=True,
    unique=["kode_opd", "unit_layanan", "tahun"],
)


def _typed_reference(
    path: Path,
    data_dir: Path,
    text: list[str],
    integers: list[str],
    schema: pa.DataFrameSchema,
    optional: bool = False,
) -> pl.DataFrame | None:
    """Read one reference CSV, type it and validate it (ReferenceFileError with the reasons
    otherwise). An ``optional`` file that is missing, empty or a header row alone gives None
    (read once: the roster has a row per employee, 1M at the national scale)."""
    columns = text + integers
    name = path.relative_to(data_dir).as_posix()
    required = f"it is required (columns: {', '.join(columns)})"
    if optional and not path.exists():
        return None
    if not path.exists():
        raise ReferenceFileError(f"{name} is missing under {data_dir}: {required}; add it")
    try:
        frame = read_export(path, () if optional else columns, display_name=name)
        require_columns(frame.columns, columns, name)
    except ExportReadError as error:
        if optional and str(error).endswith(NO_DATA):
            return None
        problem = str(error).removeprefix(f"{name}: ")
        raise ReferenceFileError(f"{name}: {problem}: {required}; fix it") from error
    # The file's number format, as for the exports: '1.200' is 1200 only beside '87,5'.
    found = number_formats(frame.with_columns(source_file=pl.lit(name)), integers)
    frame = frame.with_columns(pl.lit(found[c].first(), pl.String).alias(c) for c in FORMAT_COLUMNS)
    parsed = {c: parse_integer(pl.col(c), c, IN_FILE) for c in integers}
    reasons = [p.reason for p in parsed.values()]
    if reasons:
        problems = (
            frame.select("source_row", pl.concat_list(reasons).alias("reason"))
            .explode("reason")
            .drop_nulls("reason")
        )
        if problems.height:
            listed = "; ".join(f"row {r}: {m}" for r, m in problems.head(10).iter_rows())
            raise ReferenceFileError(f"{name}: {listed}; fix these rows")
    typed = frame.select(
        *[blank_to_null(pl.col(c)).alias(c) for c in text],
        *[p.value.alias(c) for c, p in parsed.items()],
    ).select(columns)
    try:
        return schema.validate(typed, lazy=True).sort(columns)
    except pa.errors.SchemaErrors as errors:
        raise ReferenceFileError(
            f"{name}: {_schema_problems(errors, frame.get_column('source_row'))}; fix these rows"
        ) from errors


def _schema_problems(errors: pa.errors.SchemaErrors, rows: pl.Series, limit: int = 5) -> str:
    """pandera's failure cases in one line: 'row 3: kode_opd 'OPD01' field_uniqueness'."""
    cases = errors.failure_cases
    listed = []
    for column, check, value, index in (
        cases.select("column", "check", "failure_case", "index").head(limit).iter_rows()
    ):
        where = f"row {rows[index]}: " if index is not None else ""
        value = "empty" if value is None else f"'{value}'"
        listed.append(f"{where}{column} {value} fails {check}")
    more = f" (and {cases.height - limit} more)" if cases.height > limit else ""
    return "; ".join(listed) + more


def read_agencies(data_dir: Path) -> pl.DataFrame:
    return _typed_reference(
        data_dir / "reference" / "agencies.csv",
        data_dir,
        ["kode_opd", "nama_opd", "pemda"],
        [],
        AGENCY_SCHEMA,
    )


def read_predikat_organisasi(data_dir: Path) -> pl.DataFrame:
    return _typed_reference(
        data_dir / "reference" / "predikat_organisasi.csv",
        data_dir,
        ["kode_opd", "predikat"],
        ["tahun"],
        PREDIKAT_SCHEMA,
    ).select("kode_opd", "tahun", "predikat")


def read_service_population(data_dir: Path) -> pl.DataFrame:
    """Optional: without it the SKM sample-size audit has no population to compare with
    (audit_survey_sample_size leaves ``adequate`` NULL: not assessable) - not a reason to
    stop the whole run. A header row alone is how a user says "none": the same as missing."""
    path = data_dir / "reference" / "service_population.csv"
    population = _typed_reference(
        path,
        data_dir,
        ["kode_opd", "unit_layanan"],
        ["tahun", "populasi"],
        POPULATION_SCHEMA,
        optional=True,
    )
    if population is None:
        return pl.DataFrame(
            schema={c: col.dtype.type for c, col in POPULATION_SCHEMA.columns.items()}
        )
    return population


def _has_no_rows(path: Path, data_dir: Path) -> bool:
    """The file is empty or holds a header row only (any other problem is reported by the
    read that follows)."""
    try:
        read_export(path, display_name=path.relative_to(data_dir).as_posix())
    except ExportReadError as error:
        return str(error).endswith(NO_DATA)
    return False


ROSTER_SCHEMA = pa.DataFrameSchema(
    {
        "nip": pa.Column(pl.String, unique=True),
        "pns_id": pa.Column(pl.String, nullable=True),
        "kode_opd": pa.Column(pl.String),
        **{c: pa.Column(pl.String, nullable=True) for c in ROSTER_COLUMNS[3:]},
    },
    name="pegawai",
    strict=True,
)


def read_pegawai(data_dir: Path) -> pl.DataFrame:
    """Optional roster (reference/pegawai.csv); missing or a header row alone: empty. NIPs
    must be valid and unique, and so must the SIASN ids given: a record must never be
    placed on a guess."""
    path = data_dir / "reference" / "pegawai.csv"
    roster = _typed_reference(path, data_dir, ROSTER_COLUMNS, [], ROSTER_SCHEMA, optional=True)
    if roster is None:
        return empty_roster()
    name = path.relative_to(data_dir).as_posix()
    problems = roster.select(nip_reason(pl.col("nip"))).to_series().drop_nulls()
    repeated = roster.get_column("pns_id").drop_nulls()
    repeated = repeated.filter(repeated.is_duplicated()).unique().sort()
    listed = [*problems.head(5), *[f"pns_id '{p}' is listed twice" for p in repeated.head(5)]]
    if listed:
        raise ReferenceFileError(f"{name}: {'; '.join(listed)}; fix these rows")
    return roster.with_columns(clean_nip(pl.col("nip")).alias("nip"))


INDIKATOR_COLUMNS = ["kode_indikator", *indicator.ATTRIBUTES]


def read_indikator(data_dir: Path) -> pl.DataFrame:
    """Optional reference/indikator.csv: kode_indikator (required, unique) and its aspek,
    arah, jenis_agregasi (columns optional, cells may be blank) as canonical values; missing
    or a header row alone: empty. A spelling the seed indicator_vocabulary does not know, a
    blank code or a code listed twice fails with the file, the row and the column."""
    empty = pl.DataFrame(schema=dict.fromkeys(INDIKATOR_COLUMNS, pl.String))
    path = data_dir / "reference" / "indikator.csv"
    if not path.exists() or _has_no_rows(path, data_dir):
        return empty
    name = path.relative_to(data_dir).as_posix()
    try:
        frame = read_export(path, ["kode_indikator"], display_name=name)
    except ExportReadError as error:
        problem = str(error).removeprefix(f"{name}: ")
        columns = f"columns: kode_indikator, optional {', '.join(indicator.ATTRIBUTES)}"
        raise ReferenceFileError(f"{name}: {problem} ({columns}); fix it") from error
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in indicator.ATTRIBUTES if c not in frame
    )
    rows, problems, first_row = [], [], {}
    for record in frame.select("source_row", *INDIKATOR_COLUMNS).iter_rows(named=True):
        where, code = f"row {record['source_row']}", record["kode_indikator"]
        if code is None:
            problems.append(f"{where}: kode_indikator is required but empty")
        elif code in first_row:
            problems.append(
                f"{where}: kode_indikator '{code}' is listed twice (first in row {first_row[code]})"
            )
        else:
            first_row[code] = record["source_row"]
        values = {}
        for attribute in indicator.ATTRIBUTES:
            try:
                values[attribute] = indicator.canonical(attribute, record[attribute])
            except KeyError:
                accepted = ", ".join(dict.fromkeys(indicator.vocabulary()[attribute].values()))
                problems.append(
                    f"{where}: {attribute} '{record[attribute]}' is not a known value ({accepted})"
                )
        rows.append({"kode_indikator": code, **values})
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ReferenceFileError(f"{name}: {'; '.join(problems[:10])}{more}; fix these rows")
    return pl.DataFrame(rows, schema=empty.schema).sort("kode_indikator")


@dataclass(frozen=True)
class ReferenceTable:
    """One reference file: the ``raw.<name>`` table it becomes and how it is read."""

    name: str
    read: Callable[[Path], pl.DataFrame]
    description: str


REFERENCES = (
    ReferenceTable(
        "agencies",
        read_agencies,
        "Agencies (OPD) from reference/agencies.csv: kode_opd, nama_opd, pemda.",
    ),
    ReferenceTable(
        "predikat_organisasi",
        read_predikat_organisasi,
        "Organisation predikat per agency-year from reference/predikat_organisasi.csv.",
    ),
    ReferenceTable(
        "service_population",
        read_service_population,
        "Yearly service users per agency unit from reference/service_population.csv "
        "(for the Krejcie & Morgan sample size).",
    ),
    ReferenceTable(
        "pegawai",
        read_pegawai,
        "Employee roster from reference/pegawai.csv (optional): nip, SIASN pns_id, kode_opd, "
        "unit_kerja, jabatan, jenis_jabatan, golongan; places SIASN records.",
    ),
    ReferenceTable(
        "indikator",
        read_indikator,
        "Individual indicators from reference/indikator.csv (optional): kode_indikator and its "
        "aspek, arah (naik/turun) and jenis_agregasi (jumlah/terakhir), canonical values.",
    ),
)
