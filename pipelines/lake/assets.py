"""The lake mode's own assets: every row source ingested per partition (pemda x quarter),
and raw.files judged once all partitions are in (which quarters are blocked)."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.ingest import blocked
from pipelines.ingest.assets import FILES_SPEC
from pipelines.ingest.window import QuarterWindow
from pipelines.lake.groups import pemda_codes
from pipelines.lake.ingest import Partition, load_partition
from pipelines.partitions import QUARTERS, date_of
from pipelines.partitions import label as quarter_label
from pipelines.rules.pseudonym import load_key
from pipelines.settings import SOURCES, Settings

PEMDA = dg.DynamicPartitionsDefinition(name="pemda")
PARTITIONS = dg.MultiPartitionsDefinition({"pemda": PEMDA, "quarter": QUARTERS})
SOURCE_KEYS = [dg.AssetKey([schema, name]) for name in SOURCES for schema in ("raw", "quarantine")]


@dg.multi_asset(
    name="lake_ingest",
    specs=[
        dg.AssetSpec(
            key,
            deps=[dg.AssetKey(["raw", "agencies"]), dg.AssetKey(["raw", "pegawai"])],
            group_name="ingestion",
            kinds={"duckdb", "polars"},
            description=f"{key.to_user_string()} in the lake, one pemda x quarter per run.",
        )
        for key in SOURCE_KEYS
    ],
    partitions_def=PARTITIONS,
)
def lake_ingest(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: dg.ResourceParam[Settings],
):
    """Every source's rows of one pemda and quarter, committed in one lake snapshot."""
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    partition = Partition(keys["pemda"], date_of(keys["quarter"]))
    key = load_key(settings.data_dir, settings.pseudonym_key)
    with duckdb.get_connection() as conn:
        agencies = conn.execute("SELECT kode_opd, pemda FROM raw.agencies").pl()
        load = load_partition(conn, settings, key, pemda_codes(agencies), partition)
    context.log.info(f"{partition}: {load.files} files, {load.seconds:.1f} s, {load.rows}")
    for asset_key in SOURCE_KEYS:
        table = ".".join(asset_key.path)
        yield dg.MaterializeResult(
            asset_key=asset_key,
            metadata={"rows_in_partition": load.rows[table], "files": load.files},
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FILES_SPEC.key,
            deps=SOURCE_KEYS,
            group_name="ingestion",
            kinds={"duckdb"},
            description=FILES_SPEC.description,
        )
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "quarantine_share_within_limit",
            asset=FILES_SPEC.key,
            description="No source-quarter is blocked (the rule of ingest.blocked, over every "
            "pemda's rows).",
        )
    ],
    name="lake_files",
)
def lake_files(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: dg.ResourceParam[Settings],
):
    """Blocked quarters judged over every partition's raw.files rows (a quarter's share is
    over every pemda, as in the single-file warehouse)."""
    rule = blocked.BlockRule.of(settings)
    window = QuarterWindow.everything()
    with duckdb.get_connection() as conn:
        judged = [blocked.refresh(conn, name, rule, window.placed) for name in SOURCES]
        files = conn.execute("SELECT count(DISTINCT source_file) FROM raw.files").fetchone()[0]
    over = pl.concat(judged)
    context.log.info(f"raw.files: {files} files; blocked quarters: {over.height}")
    yield dg.MaterializeResult(metadata={"files": files, "blocked_quarters": over.height})
    listed = "; ".join(
        f"{source} {quarter_label(quarter)}: {reason}"
        for source, quarter, reason in over.select("source", "quarter", "reason").rows()
    )
    yield dg.AssetCheckResult(
        check_name="quarantine_share_within_limit",
        passed=over.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"BLOCKED, left out of the marts: {listed}" if listed else "none blocked",
    )


ASSETS = [lake_ingest, lake_files]
