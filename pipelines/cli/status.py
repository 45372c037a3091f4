"""`kinerja status`: what the published warehouse holds now (issue 17), read-only: when it
was published, which quarters each source has rows for, what is blocked, row counts."""

from __future__ import annotations

import datetime as dt
from datetime import date

import click
import duckdb

from pipelines.partitions import label, quarter_start
from pipelines.settings import SOURCES, Settings


def _ranges(quarters: list[date]) -> str:
    """'2023-Q1..2024-Q2, 2025-Q1 (7)': consecutive quarters as ranges."""
    spans: list[list[date]] = []
    for quarter in sorted(quarters):
        if spans:
            previous = spans[-1][-1]
            following = quarter_start(date(previous.year, previous.month, 28) + dt.timedelta(92))
            if quarter == following:
                spans[-1].append(quarter)
                continue
        spans.append([quarter])
    text = ", ".join(
        label(s[0]) if len(s) == 1 else f"{label(s[0])}..{label(s[-1])}" for s in spans
    )
    return f"{text} ({len(quarters)})"


def quarter_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per source: the quarters with loaded rows."""
    rows = con.execute(
        "select source, list(distinct quarter) from raw.files "
        "where quarter is not null and n_rows_loaded > 0 group by source"
    ).fetchall()
    present = dict(rows)
    return [
        f"  {source:<12}{_ranges(present[source]) if present.get(source) else 'none'}"
        for source in SOURCES
    ]


def render(settings: Settings) -> str:
    from pipelines.cli.problems import render as render_problems
    from pipelines.cli.summary import render as render_counts

    warehouse = settings.warehouse
    if not warehouse.exists():
        exports = sum(1 for s in SOURCES for p in settings.source_dir(s).rglob("*") if p.is_file())
        return (
            f"no warehouse yet at {warehouse}: `make run` builds one from the "
            f"{exports} export file(s) under {settings.raw_dir}"
        )
    stat = warehouse.stat()
    published = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarters = quarter_lines(con)
    problems = render_problems(warehouse)
    return "\n".join(
        [
            f"warehouse: {warehouse}, published {published}, {stat.st_size / 2**20:.1f} MiB",
            "quarters with loaded rows:",
            *quarters,
            "",
            render_counts(warehouse, settings.reports_dir),
        ]
    ) + (f"\n{problems}" if problems else "")


@click.command("status")
def status_command() -> None:
    """What the published warehouse holds now: when it was published, quarters per source,
    rows read / loaded / quarantined, marts, blocked quarters and other problems. Reads
    only; never writes."""
    click.echo(render(Settings.from_env()))
