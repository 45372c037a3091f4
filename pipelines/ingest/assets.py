"""The ingest layer's Dagster assets: each reference file, and each row source as one
multi-asset ``raw/<source>`` + ``quarantine/<source>`` partitioned by quarter, with checks.

The sources themselves are declarative (`SourceDefinition` in each source's module); what
they share lives beside this module: reading.py (files -> text blocks with lineage),
validation.py (parse + pandera -> valid or quarantined with a reason), loading.py (the
run's quarters into the warehouse, with raw.files accounting).
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.ingest import blocked
from pipelines.ingest.context import reference_context
from pipelines.ingest.loading import LoadRun, SourceLoad, load_source
from pipelines.ingest.reference import REFERENCES, ReferenceTable
from pipelines.ingest.registry import DEFINITIONS
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.validation import reasons_markdown
from pipelines.ingest.window import QuarterWindow
from pipelines.partitions import QUARTERS
from pipelines.partitions import label as quarter_label
from pipelines.rules.pseudonym import load_key
from pipelines.settings import SOURCES, Settings
from pipelines.warehouse import replace_tables

FILES_SPEC = dg.AssetSpec(
    dg.AssetKey(["raw", "files"]),
    deps=[dg.AssetKey(["raw", source]) for source in SOURCES],
    group_name="ingestion",
    kinds={"duckdb"},
    description=(
        "Rows read, loaded and quarantined per export file and quarter, with the file's "
        "sha256 and why a file was rejected whole. Written by each ingest asset in the same "
        "transaction as its tables; dbt staging reads it to leave blocked quarters out."
    ),
)


def run_window(context: AssetExecutionContext) -> QuarterWindow:
    """The quarters of this run (a partition or a range of them)."""
    everything = QuarterWindow.everything()
    time_window = context.partition_time_window
    return QuarterWindow(
        time_window.start.date(), time_window.end.date(), everything.first, everything.last_end
    )


def build_source_assets(source: SourceDefinition) -> dg.AssetsDefinition:
    """``raw/<source>`` + ``quarantine/<source>`` as one multi-asset, partitioned by quarter,
    with its checks. A quarter whose export is broken (ingest.blocked) is written to
    raw.blocked_quarters and dbt's staging leaves it out; its check fails at ERROR severity
    but does not block: one broken source-quarter must not hold the whole refresh hostage."""
    raw_key = dg.AssetKey(["raw", source.name])
    quarantine_key = dg.AssetKey(["quarantine", source.name])
    checks = [
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset=raw_key,
            description="Rows read = rows loaded + distinct rows quarantined.",
        ),
        dg.AssetCheckSpec(
            "quarantine_share_within_limit",
            asset=raw_key,
            description=(
                "No quarter of the run is blocked: from KINERJA_QUARANTINE_MIN_ROWS (default "
                "20) rows read on, at most KINERJA_MAX_QUARANTINE_SHARE (default 20%) of them "
                "quarantined; below that, not every row. A blocked quarter is left out of the "
                "marts (raw.blocked_quarters) and the rest of the run is published."
            ),
        ),
        dg.AssetCheckSpec(
            "all_files_readable",
            asset=raw_key,
            description=(
                "Every export file could be read. A file that cannot be read is rejected "
                "whole (raw.files.error says why) and listed here; the other files load."
            ),
        ),
    ]

    @dg.multi_asset(
        name=f"ingest_{source.name}",
        specs=[
            dg.AssetSpec(
                raw_key,
                deps=[dg.AssetKey(["raw", name]) for name in source.references],
                group_name="ingestion",
                kinds={"duckdb", "polars"},
                description=source.description,
            ),
            dg.AssetSpec(
                quarantine_key,
                deps=[dg.AssetKey(["raw", name]) for name in source.references],
                group_name="ingestion",
                kinds={"duckdb", "polars"},
                description=(
                    f"Rejected {source.name} rows: one row per (input row, failing column) "
                    "with file, row number, column, reason, quarter and the original values."
                ),
            ),
        ],
        check_specs=checks,
        partitions_def=QUARTERS,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _ingest(
        context: AssetExecutionContext,
        duckdb: DuckDBResource,
        settings: dg.ResourceParam[Settings],
    ):
        key = load_key(settings.data_dir, settings.pseudonym_key)
        window = run_window(context)
        rule = blocked.BlockRule.of(settings)
        with duckdb.get_connection() as conn:
            run = LoadRun(
                settings.data_dir,
                reference_context(conn),
                key,
                window,
                block_bytes=settings.read_block_bytes,
            )
            load = load_source(conn, source, run)
            # Judged over every quarter of the source, so the table matches raw.files.
            blocked.refresh(conn, source.name, rule, load.window.placed)
        for file in load.files:
            if file.error:
                context.log.warning(file.error)
        quarantine = load.quarantine
        rejected_rows = load.files_frame.get_column("n_rows_quarantined").sum()
        rejected = [f for f in load.files if f.error]
        skipped = [f for f in load.files if f.skipped]
        rejected_md = dg.MetadataValue.md(
            "\n".join(f"- `{f.source_file}`: {f.error}" for f in rejected) if rejected else "none"
        )
        common = {
            "quarters": window.label(),
            "rows_read": load.rows_read,
            "rows_loaded": load.rows_loaded,
            "rows_quarantined": rejected_rows,
            "files": len(load.files),
            "files_unchanged_not_read": len(skipped),
            "files_rejected": len(rejected),
            "rejected_files": rejected_md,
        }
        yield dg.MaterializeResult(
            asset_key=raw_key,
            metadata={**common, "dagster/row_count": load.rows_loaded},
        )
        yield dg.MaterializeResult(
            asset_key=quarantine_key,
            metadata={
                **common,
                "dagster/row_count": quarantine.height,
                "reasons": dg.MetadataValue.md(reasons_markdown(quarantine)),
            },
        )
        accounted = load.rows_loaded + rejected_rows
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="rows_accounted_for",
            passed=accounted == load.rows_read,
            metadata={"rows_read": load.rows_read, "loaded_plus_rejected": accounted},
        )
        yield _share_check(raw_key, source.name, load, rule)
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="all_files_readable",
            passed=not rejected,
            metadata={
                "unreadable_files": len(rejected),
                "rejected_files": rejected_md,
                "rejected_file_names": dg.MetadataValue.json([f.source_file for f in rejected]),
            },
            description=(
                f"{len(rejected)} file(s) rejected whole: "
                + ", ".join(f.source_file for f in rejected)
                if rejected
                else f"all {len(load.files)} file(s) read"
            ),
        )

    return _ingest


def _share_check(
    raw_key: dg.AssetKey, source: str, load: SourceLoad, rule: blocked.BlockRule
) -> dg.AssetCheckResult:
    """Fails (ERROR, not blocking) naming each blocked quarter of the run's window; the
    rule is the one raw.blocked_quarters is written with (see ingest.blocked)."""
    shares = rule.judge(load.quarter_shares())
    over = shares.filter(pl.col("blocked"))
    table = "\n".join(
        ["| quarter | rows read | quarantined | share | blocked |", "|---|---|---|---|---|"]
        + [
            f"| {quarter_label(q)} | {n} | {bad} | {share:.1%} | {'yes' if b else ''} |"
            for q, n, bad, share, b, _ in shares.iter_rows()
        ]
    )
    if over.height:
        worst = "; ".join(
            f"{quarter_label(q)}: {reason}" for q, reason in over.select("quarter", "reason").rows()
        )
        description = (
            f"BLOCKED: {source} {worst}. Left out of the marts (raw.blocked_quarters); the "
            f"rest of the run is published. Fix the export (quarantine.{source} says why each "
            "row was rejected) and drop it again."
        )
    else:
        description = (
            f"no quarter blocked (limit {rule.max_share:.0%} from {rule.min_rows} rows read; "
            "below that, a quarter blocks only when every row was quarantined)"
        )
    return dg.AssetCheckResult(
        asset_key=raw_key,
        check_name="quarantine_share_within_limit",
        passed=over.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "limit": rule.max_share,
            "min_rows": rule.min_rows,
            "max_share": float(shares.get_column("share").max() or 0.0),
            "blocked_quarters": dg.MetadataValue.json(
                [quarter_label(q) for q in over.get_column("quarter")]
            ),
            "shares": dg.MetadataValue.md(table),
        },
    )


def build_reference_asset(table: ReferenceTable) -> dg.AssetsDefinition:
    """``raw/<name>`` replaced whole from its reference file (no partitions: a reference
    file describes every quarter)."""

    @dg.asset(
        key=["raw", table.name],
        group_name="reference",
        kinds={"duckdb", "polars"},
        description=table.description,
    )
    def _asset(
        context: AssetExecutionContext,
        duckdb: DuckDBResource,
        settings: dg.ResourceParam[Settings],
    ) -> dg.MaterializeResult:
        frame = table.read(settings.data_dir)
        with duckdb.get_connection() as conn:
            replace_tables(conn, {f"raw.{table.name}": frame})
        context.log.info(f"raw.{table.name}: {frame.height} rows")
        return dg.MaterializeResult(metadata={"dagster/row_count": frame.height})

    return _asset


reference_assets = [build_reference_asset(table) for table in REFERENCES]
source_assets = [build_source_assets(DEFINITIONS[name]) for name in SOURCES]
