"""`kinerja`: the commands behind `make run` (each larger command in its own module)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipelines.cli.export import export_command
from pipelines.cli.lake import lake_command
from pipelines.cli.run import run_command
from pipelines.cli.status import status_command
from pipelines.settings import SOURCES, Settings


def _raw_is_empty(raw_dir: Path) -> bool:
    return not any(p.is_file() for s in SOURCES for p in (raw_dir / s).glob("*"))


@click.group()
def main() -> None:
    """kinerja: ASN performance warehouse (Dagster + DuckDB + dbt)."""


main.add_command(run_command)
main.add_command(lake_command)
main.add_command(status_command)
main.add_command(export_command)


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
    """Counts per source and marts, then what the user must act on, one line each."""
    from pipelines.cli import problems
    from pipelines.cli.summary import render

    click.echo(render(settings.warehouse, settings.reports_dir))
    lines = problems.render(settings.warehouse)
    if lines:
        click.echo(lines)


if __name__ == "__main__":
    sys.exit(main())
