"""What a user must know after a run that succeeded, read back from the warehouse: blocked
source-quarters (left out of the marts), files rejected whole, optional reference files not
given, analyses that could not be assessed, checks that failed. One line each, saying what to
do; printed by `kinerja run`, `kinerja summary` and `kinerja status`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines.ingest import blocked

if TYPE_CHECKING:
    import dagster as dg


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
    lines.extend(not_assessable_lines(con))
    return lines


def not_assessable_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Per findings family, how many tests could not be assessed and the commonest reason (the
    reasons are the report's own, in Indonesian)."""
    if not con.execute(
        "select 1 from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'analysis' and table_name = 'findings'"
    ).fetchall():
        return []
    rows = con.execute(
        "select family, reason, count(*) filter (where verdict = 'not_assessable'), count(*) "
        "from analysis.findings group by family, reason order by family, 3 desc, reason"
    ).fetchall()
    lines = []
    for family in dict.fromkeys(row[0] for row in rows):
        of_family = [row for row in rows if row[0] == family]
        n = sum(row[2] for row in of_family)
        if n:
            reason = of_family[0][1]
            total = sum(row[3] for row in of_family)
            lines.append(
                f"NOT ASSESSABLE: {n} of {total} {family} tests, mostly: {reason} (no verdict "
                "either way, see the reports; more quarters or larger groups make them testable)"
            )
    return lines


# Checks whose failure the warehouse's own lines above already tell (BLOCKED, UNREADABLE).
TOLD_ABOVE = {"quarantine_share_within_limit", "all_files_readable"}
# Lines saying something was left out of what was published: `kinerja run` exits 3.
HELD_BACK = ("BLOCKED:", "UNREADABLE:", "CHECK FAILED:")


def check_lines(checks: Iterable[dg.AssetCheckEvaluation]) -> list[str]:
    """One line per asset check of a run that did not pass, with its own description."""
    return [
        f"CHECK FAILED: {c.asset_key.to_user_string()} {c.check_name}"
        + (f": {c.description.splitlines()[0]}" if c.description else "")
        + " (the run's log file and the UI's asset page have the details)"
        for c in checks
        if not c.passed and c.check_name not in TOLD_ABOVE
    ]


def held_back(text: str) -> bool:
    return any(line.startswith(HELD_BACK) for line in text.splitlines())


def render(warehouse: Path, checks: Iterable[dg.AssetCheckEvaluation] = ()) -> str:
    """The problem lines of the published warehouse (and a run's failed checks), after a blank
    line; '' when none."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = problem_lines(con)
    lines.extend(check_lines(checks))
    return "\n".join(["", *lines]) if lines else ""
