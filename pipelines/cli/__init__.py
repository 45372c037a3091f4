"""`kinerja generate | run | summary | calibrate`: the commands behind `make run`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipelines.cli.lake import lake_command
from pipelines.cli.status import status_command
from pipelines.settings import SOURCES, Settings, dagster_home

if TYPE_CHECKING:
    import dagster as dg


def _raw_is_empty(raw_dir: Path) -> bool:
    return not any(p.is_file() for s in SOURCES for p in (raw_dir / s).glob("*"))


@click.group()
def main() -> None:
    """kinerja: ASN performance warehouse (Dagster + DuckDB + dbt)."""


main.add_command(lake_command)
main.add_command(status_command)


@main.command()
@click.option("--employees", default=1500, show_default=True, help="Employees to simulate.")
@click.option("--seed", type=int, default=None, help="Default 7; 0 with --scenario.")
@click.option("--errors/--no-errors", default=True, help="Plant bad rows to be quarantined.")
@click.option("--effects/--no-effects", default=True, help="Plant effects for the analyses.")
@click.option("--force", is_flag=True, help="Write even if data/raw already holds exports.")
@click.option(
    "--scenario",
    default=None,
    help="Write a fairness-audit scenario (quarterly_gap, lenient_rater, null_ceiling) instead "
    "of the sample (ignores --employees, --errors, --effects).",
)
def generate(
    employees: int, seed: int | None, errors: bool, effects: bool, force: bool, scenario: str | None
) -> None:
    """Write realistic, deterministic sample exports into KINERJA_DATA_DIR."""
    from pipelines.generate import generate_dataset

    settings = Settings.from_env()
    if not force and not _raw_is_empty(settings.raw_dir):
        raise click.ClickException(
            f"{settings.raw_dir} already holds exports; pass --force to overwrite them."
        )
    if scenario:
        # imported here, not at the top: every `kinerja` command would pay for it
        from pipelines.generate.scenarios import SCENARIOS, write_scenario
        from pipelines.rules.pseudonym import load_key

        if scenario not in SCENARIOS:
            raise click.BadParameter(
                f"choose one of {', '.join(SCENARIOS)}", param_hint="--scenario"
            )
        truth = write_scenario(
            scenario,
            settings.data_dir,
            seed=0 if seed is None else seed,
            key=load_key(settings.data_dir, settings.pseudonym_key),
        )
        click.echo(f"scenario {scenario}: wrote {len(truth['files'])} export files")
        click.echo(f"truth file: {settings.data_dir / 'truth.json'}")
        return
    truth = generate_dataset(
        settings.data_dir,
        employees=employees,
        seed=7 if seed is None else seed,
        errors=errors,
        effects=effects,
    )
    click.echo(f"wrote {len(truth['files'])} export files under {settings.raw_dir}")
    click.echo(f"truth file: {settings.data_dir / 'truth.json'}")


@main.command()
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
def run(generate_if_empty: bool, quarters: str | None) -> None:
    """Materialize every asset (ingest, validate, dbt build) and print a summary."""
    settings = Settings.from_env()
    if _raw_is_empty(settings.raw_dir):
        if not generate_if_empty:
            raise click.ClickException(f"no exports under {settings.raw_dir}")
        from pipelines.generate import generate_dataset

        click.echo(f"{settings.raw_dir} is empty: generating the sample exports")
        generate_dataset(settings.data_dir)

    from pipelines.cli import runlog
    from pipelines.definitions import build_defs
    from pipelines.partitions import QUARTERS, range_tags

    keys = QUARTERS.get_partition_keys()
    first, _, last = (quarters or f"{keys[0]}..{keys[-1]}").partition("..")
    last = last or first
    unknown = [k for k in (first, last) if k not in keys]
    if unknown or keys.index(first) > keys.index(last):
        raise click.ClickException(
            f"--quarters {quarters}: quarters are {keys[0]} .. {keys[-1]} (first month of each)"
        )
    count = keys.index(last) - keys.index(first) + 1
    log = runlog.new_log_path(settings)
    click.echo(f"materializing quarters {first} .. {last} ({count}) in one run; log: {log}")
    with runlog.python_logs_to(log):
        try:
            job = build_defs(settings).resolve_job_def("materialize_all")
            result = job.with_logger_defs(runlog.LOGGERS).execute_in_process(
                instance=_instance(),
                raise_on_error=False,
                tags=range_tags(first, last),
                run_config=runlog.run_config(log),
            )
        except Exception as error:  # not a step: a bug or the environment; no traceback here
            logging.getLogger(__name__).exception("kinerja run failed")
            raise click.ClickException(
                f"{type(error).__name__}: {error} (traceback in {log})"
            ) from error
    failed_checks = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    if not result.success:
        for check in failed_checks:
            name = f"{check.asset_key.to_user_string()} {check.check_name}"
            click.echo(f"{name}: {check.description}")
        for line in runlog.failure_lines(result):
            click.echo(line)
        raise click.ClickException(
            f"nothing was published (the previous warehouse at {settings.warehouse} is "
            f"unchanged). Full log, with tracebacks: {log}"
        )
    _echo_summary(settings)
    if failed_checks:
        click.echo(f"\n{len(failed_checks)} asset checks did not pass:")
        for check in failed_checks:
            click.echo(f"  - {check.asset_key.to_user_string()}: {check.check_name}")


def _instance() -> dg.DagsterInstance | None:
    """The DAGSTER_HOME instance, so runs show in the UI; created when the directory is
    missing (a fresh clone before `make ui`). Without DAGSTER_HOME: an ephemeral one."""
    import dagster as dg

    home = dagster_home()
    if home is None:
        return None
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


@main.command("export-quarantine")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export_quarantine_command(out_dir: Path) -> None:
    """Write every rejected row (quarantine.*) to CSV and XLSX for the data owners, with
    spreadsheet formulas neutralised."""
    import duckdb

    from pipelines.publish.safe_export import export_quarantine

    with duckdb.connect(str(Settings.from_env().warehouse), read_only=True) as conn:
        for path in export_quarantine(conn, out_dir):
            click.echo(str(path))


@main.command()
def summary() -> None:
    """Print rows read / loaded / quarantined per source and the marts built."""
    _echo_summary(Settings.from_env())


@main.command()
@click.option("--runs", default=200, show_default=True, help="Permutations (null data sets).")
@click.option("--seed", default=0, show_default=True)
def calibrate(runs: int, seed: int) -> None:
    """Measure each findings family's false-finding rate on the built warehouse: shuffle
    group labels, raters, indicators and trend order, re-run every family `runs` times."""
    import datetime as dt
    import json

    import duckdb

    from pipelines.analysis import calibration
    from pipelines.analysis.tables import read_inputs
    from pipelines.reports.fairness import build_fairness_report
    from pipelines.reports.findings_text import CALIBRATION_FILE

    settings = Settings.from_env()
    if not settings.warehouse.exists():
        raise click.ClickException(f"no warehouse at {settings.warehouse}: run `make run` first")
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        inputs = read_inputs(conn)
    with click.progressbar(length=runs, label=f"calibrating ({runs} permutations)") as bar:
        table = calibration.calibrate(
            inputs, runs, settings.min_group_size, seed, progress=lambda: bar.update(1)
        )
    record = {
        "runs": runs,
        "seed": seed,
        "warehouse": str(settings.warehouse),
        "employee_years": inputs.employee_period.select("employee_key", "tahun").n_unique(),
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "families": table.to_dicts(),
    }
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / CALIBRATION_FILE
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    markdown = calibration.markdown(table)
    path.with_suffix(".md").write_text(markdown + "\n", encoding="utf-8")
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        build_fairness_report(
            conn,
            settings.reports_dir / "fairness.html",
            min_group_size=settings.min_group_size,
        )
    click.echo(markdown)
    click.echo(f"written: {path}, {path.with_suffix('.md')}; fairness.html re-rendered")


def _echo_summary(settings: Settings) -> None:
    """Counts per source and marts, then what the user must act on (blocked quarters,
    unreadable files, optional references not given), one line each."""
    from pipelines.cli import problems
    from pipelines.cli.summary import render

    click.echo(render(settings.warehouse, settings.reports_dir))
    lines = problems.render(settings.warehouse)
    if lines:
        click.echo(lines)


if __name__ == "__main__":
    sys.exit(main())
