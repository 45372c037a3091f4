"""`kinerja export`: the marts as an Excel workbook for planners, from the published planners'
extract (small groups already hidden there), with Indonesian headers and a Keterangan sheet."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.settings import Settings


@click.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Workbook to write (default: <reports dir>/kinerja_<YYYY-MM-DD>.xlsx).",
)
def export_command(out: Path | None) -> None:
    """Write the marts of the published planners' extract to an Excel workbook: a sheet per
    mart (Indonesian headers, the extract's rows and values, suppressed cells empty) and a
    Keterangan sheet describing every column."""
    # imported here, not at the top: every `kinerja` command would pay for polars and xlsxwriter
    from pipelines.publish import workbook

    settings = Settings.from_env()
    extract = workbook.planners_extract(settings)
    if extract.exists() and not workbook.MANIFEST.exists():
        # importing the dbt assets parses the project (writes the manifest) when it is missing
        import pipelines.transform.assets  # noqa: F401
    try:
        path = workbook.write_workbook(
            extract,
            out.resolve() if out else workbook.default_path(settings),
            settings.min_group_size,
        )
    except workbook.WorkbookError as error:
        raise click.ClickException(str(error)) from error
    click.echo(str(path))
