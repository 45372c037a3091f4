"""`kinerja lake`: the pipeline into a DuckLake with parallel partition runs, compared with
the single-file warehouse (the command behind `make lake`)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path

import click

from pipelines.settings import Settings


@click.command("lake")
@click.option("--workers", default=4, show_default=True, help="Partition runs at once.")
@click.option(
    "--compare/--no-compare",
    default=True,
    show_default=True,
    help="Compare every table with the single-file warehouse (KINERJA_WAREHOUSE).",
)
@click.option(
    "--result",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the run's stage and partition times and the comparison as JSON here.",
)
def lake_command(workers: int, compare: bool, result: Path | None) -> None:
    """Build the warehouse as a DuckLake: references, every pemda x quarter partition in
    parallel runs, then dbt, analyses and reports. Without KINERJA_LAKE, a PostgreSQL
    catalog of its own runs in <data_dir>/lake/catalog for the command's duration."""
    from pipelines.cli import runlog
    from pipelines.cli.lake_run import run_lake
    from pipelines.lake.catalog import local_catalog

    settings = Settings.from_env()
    if compare and not settings.warehouse.exists():
        raise click.ClickException(
            f"no single-file warehouse at {settings.warehouse} to compare with: `make run` "
            "first, or --no-compare"
        )
    log = runlog.new_log_path(settings)
    with ExitStack() as stack:
        if not settings.lake:
            catalog = stack.enter_context(local_catalog(settings.lake_catalog_dir))
            click.echo(f"lake catalog: PostgreSQL on 127.0.0.1:{catalog.port} (stopped after)")
            settings = replace(settings, lake=catalog.lake)
        click.echo(f"lake data: {settings.lake_data_path}; log: {log}")
        started = time.perf_counter()
        with runlog.python_logs_to(log):
            outcome = run_lake(settings, log, workers, echo=click.echo)
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.seconds.items())
        click.echo(f"lake run: {time.perf_counter() - started:.1f} s ({stages})")
        if not outcome.success:
            raise click.ClickException(
                f"failed: {', '.join(outcome.failed)} (details in {log}); what committed "
                "stays, a rerun replaces it"
            )
        line = _compare(settings) if compare else None
        if result is not None:
            record = asdict(outcome) | {"workers": workers, "comparison": line}
            result.write_text(json.dumps(record, indent=2), encoding="utf-8")
        if line:
            click.echo(line)


def _compare(settings: Settings) -> str:
    from pipelines.ducklake import connect
    from pipelines.lake.compare import compare

    assert settings.lake
    with connect(settings.lake, settings.lake_data_path) as conn:
        conn.execute(f"ATTACH '{settings.warehouse}' AS single_file (READ_ONLY)")
        return compare(conn, "lake", "single_file").line()
