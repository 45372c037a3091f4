"""Reference tables a user supplies with the exports: agencies, organisation predikat per
agency-year, and each service unit's yearly population (for the SKM sample size).

These files are expected to be clean: any problem fails the asset with the reasons, rather
than quarantining, because every source depends on them.
"""

from pathlib import Path

import dagster as dg
import pandera.polars as pa
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.readers import read_export
from pipelines.rules.parsing import blank_to_null, parse_integer
from pipelines.settings import load_settings
from pipelines.warehouse import replace_tables

ORGANISATION_PREDIKATS = ["Istimewa", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"]

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
        "predikat": pa.Column(pl.String, pa.Check.isin(ORGANISATION_PREDIKATS)),
    },
    name="predikat_organisasi",
    strict=True,
    unique=["kode_opd", "tahun"],
)
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
    path: Path, data_dir: Path, text: list[str], integers: list[str], schema: pa.DataFrameSchema
) -> pl.DataFrame:
    """Read one reference CSV, type it and validate it (raising with reasons)."""
    columns = text + integers
    if not path.exists():
        raise FileNotFoundError(
            f"{path.relative_to(data_dir).as_posix()} is missing under {data_dir}: this reference"
            f" file is required (columns: {', '.join(columns)})"
        )
    frame = read_export(path, columns, display_name=path.relative_to(data_dir).as_posix())
    parsed = {c: parse_integer(pl.col(c), c) for c in integers}
    reasons = [p.reason for p in parsed.values()]
    if reasons:
        problems = (
            frame.select("source_row", pl.concat_list(reasons).alias("reason"))
            .explode("reason")
            .drop_nulls("reason")
        )
        if problems.height:
            listed = "; ".join(f"row {r}: {m}" for r, m in problems.head(10).iter_rows())
            raise ValueError(f"{path.name}: {listed}")
    typed = frame.select(
        *[blank_to_null(pl.col(c)).alias(c) for c in text],
        *[p.value.alias(c) for c, p in parsed.items()],
    ).select(columns)
    return schema.validate(typed, lazy=True).sort(columns)


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
    """Optional: without it the SKM sample-size audit has no population to compare with (the
    marts then leave the adequacy flag NULL) - not a reason to stop the whole run."""
    path = data_dir / "reference" / "service_population.csv"
    if not path.exists():
        return pl.DataFrame(
            schema={c: col.dtype.type for c, col in POPULATION_SCHEMA.columns.items()}
        )
    return _typed_reference(
        path,
        data_dir,
        ["kode_opd", "unit_layanan"],
        ["tahun", "populasi"],
        POPULATION_SCHEMA,
    )


def _reference_asset(name: str, reader, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", name],
        group_name="reference",
        kinds={"duckdb", "polars"},
        description=description,
    )
    def _asset(context: AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        frame = reader(load_settings().data_dir)
        with duckdb.get_connection() as conn:
            replace_tables(conn, {f"raw.{name}": frame})
        context.log.info(f"raw.{name}: {frame.height} rows")
        return dg.MaterializeResult(metadata={"dagster/row_count": frame.height})

    return _asset


agencies = _reference_asset(
    "agencies",
    read_agencies,
    "Agencies (OPD) from reference/agencies.csv: kode_opd, nama_opd, pemda.",
)
predikat_organisasi = _reference_asset(
    "predikat_organisasi",
    read_predikat_organisasi,
    "Organisation predikat per agency-year from reference/predikat_organisasi.csv.",
)
service_population = _reference_asset(
    "service_population",
    read_service_population,
    "Yearly service users per agency unit from reference/service_population.csv "
    "(for the Krejcie & Morgan sample size).",
)

assets: list = [agencies, predikat_organisasi, service_population]
asset_checks: list = []
