"""What a user must know after a run that succeeded, read back from the warehouse: blocked
source-quarters (left out of the marts), files rejected whole, optional reference files not
given. One line each, saying what to do; printed by `kinerja run` and `kinerja summary`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.ingest import blocked


def problem_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    lines = blocked.summary_lines(con)
    unreadable = con.execute(
        "select distinct source_file, error from raw.files where error is not null "
        "order by source_file"
    ).fetchall()
    for name, error in unreadable:
        first = (error.strip().splitlines() or [""])[0].removeprefix(f"{name}: ")
        lines.append(f"UNREADABLE: {name}: {first}; the file was left out")
    if unreadable:
        lines.append("  fix or replace these files and run again (the other files loaded)")
    population = con.execute("select count(*) from raw.service_population").fetchone()
    if not (population and population[0]):
        lines.append(
            "NOT ASSESSABLE: SKM sample sizes, reference/service_population.csv was not given "
            "(audit.audit_survey_sample_size.adequate is NULL); add it to assess them"
        )
    return lines


def render(warehouse: Path) -> str:
    """The problem lines of the published warehouse, after a blank line; '' when none."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = problem_lines(con)
    return "\n".join(["", *lines]) if lines else ""
