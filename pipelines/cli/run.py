"""`kinerja run`: materialize everything, show progress per stage, end with the summary.

Exit status (documented in the README), so a scheduler can tell a clean run from one that
published with something held back:
  0  published; nothing held back
  1  nothing published (a step failed; the previous warehouse is unchanged)
  2  the command was called wrongly (click's usage errors)
  3  published, but something was held back or a check failed (listed, one line each)
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from pipelines.settings import Settings

if TYPE_CHECKING:
    import dagster as dg

EXIT_HELD_BACK = 3


def quarter_range(quarters: str | None) -> tuple[str, str, int]:
    """'2025-01..2025-10' -> (first, last, how many quarters); every quarter when None."""
    from pipelines.partitions import QUARTERS

    keys = QUARTERS.get_partition_keys()
    first, _, last = (quarters or f"{keys[0]}..{keys[-1]}").partition("..")
    last = last or first
    unknown = [k for k in (first, last) if k not in keys]
    if unknown or keys.index(first) > keys.index(last):
        raise click.BadParameter(
            f"{quarters}: quarters are {keys[0]} .. {keys[-1]} (first month of each)",
            param_hint="--quarters",
        )
    return first, last, keys.index(last) - keys.index(first) + 1


@contextlib.contextmanager
def _output_to(log: Path, verbose: bool) -> Iterator[IO[str]]:
    """Yields where progress is drawn (the console). Unless verbose, whatever the run prints
    itself (dbt's lines, Dagster's notices) goes to the log file instead."""
    console = sys.stdout
    if verbose:
        yield console
        return
    with (
        log.open("a", encoding="utf-8", buffering=1) as file,
        contextlib.redirect_stdout(file),
        contextlib.redirect_stderr(file),
    ):
        yield console


def execute(
    settings: Settings, first: str, last: str, log: Path, verbose: bool
) -> dg.ExecuteInProcessResult:
    """One in-process run of `materialize_all` over the quarters, logging to `log`."""
    from pipelines.cli import progress, runlog
    from pipelines.definitions import build_defs
    from pipelines.partitions import range_tags

    job = build_defs(settings).resolve_job_def("materialize_all")
    with runlog.python_logs_to(log), _output_to(log, verbose) as console:
        loggers = dict(runlog.LOGGERS)
        # --verbose streams the log itself: no bars drawn over it
        stages: contextlib.AbstractContextManager = contextlib.nullcontext()
        if not verbose:
            stages = progress.RunProgress(progress.stages_of(job), console, console.isatty())
            loggers["console"] = progress.progress_logger(stages)
        try:
            with stages:
                return job.with_logger_defs(loggers).execute_in_process(
                    instance=runlog.dagster_instance(),
                    raise_on_error=False,
                    tags=range_tags(first, last),
                    run_config=runlog.run_config(log, level="INFO" if verbose else ""),
                )
        except Exception as error:  # not a step: a bug or the environment; no traceback here
            logging.getLogger(__name__).exception("kinerja run failed")
            raise click.ClickException(
                f"{type(error).__name__}: {error} (traceback in {log})"
            ) from error


@click.command("run")
@click.option(
    "--generate-if-empty/--no-generate",
    default=True,
    show_default=True,
    help="Generate the sample exports first when data/raw is empty.",
)
@click.option(
    "--quarters",
    default=None,
    metavar="FIRST[..LAST]",
    help="Only these quarters (partition keys, e.g. 2025-10 or 2025-01..2025-10); "
    "default: every quarter. Analyses, reports and publishing always run.",
)
@click.option(
    "--verbose", is_flag=True, help="Stream Dagster's and dbt's full log instead of progress."
)
def run_command(generate_if_empty: bool, quarters: str | None, verbose: bool) -> None:
    """Materialize every asset (ingest, validate, dbt build, analyses, reports, publish),
    then print a summary. Exit status: 0 clean, 1 nothing published, 3 published with
    something held back (see the README)."""
    from pipelines.cli import problems, runlog
    from pipelines.cli.summary import render
    from pipelines.settings import SOURCES

    settings = Settings.from_env()
    if not any(p.is_file() for s in SOURCES for p in settings.source_dir(s).glob("*")):
        if not generate_if_empty:
            raise click.ClickException(f"no exports under {settings.raw_dir}")
        from pipelines.generate import generate_dataset

        click.echo(f"{settings.raw_dir} is empty: generating the sample exports")
        generate_dataset(settings.data_dir)
    first, last, count = quarter_range(quarters)
    log = runlog.new_log_path(settings)
    click.echo(f"materializing quarters {first} .. {last} ({count}) in one run")
    result = execute(settings, first, last, log, verbose)
    checks = result.get_asset_check_evaluations()
    if not result.success:
        for line in [*problems.check_lines(checks), *runlog.failure_lines(result)]:
            click.echo(line)
        raise click.ClickException(
            f"nothing was published (the previous warehouse at {settings.warehouse} is "
            f"unchanged). Full log, with tracebacks: {log}"
        )
    click.echo("")
    click.echo(render(settings.warehouse, settings.reports_dir))
    click.echo(f"log: {log}")
    lines = problems.render(settings.warehouse, checks)
    if lines:
        click.echo(lines)
    if problems.held_back(lines):
        sys.exit(EXIT_HELD_BACK)
