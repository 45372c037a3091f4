"""What a run did, read back from the warehouse: rows per source and what the marts hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.settings import SOURCES

# Valid rows staging leaves out, by the audit rows listing them: re-submitted assessments and
# SIASN records, and repeated training attendances (their JP would count twice).
DROPPED_IN_STAGING = {
    "assessments": "audit.audit_superseded_submissions where source = 'assessments'",
    "siasn": "audit.audit_superseded_submissions where source = 'siasn'",
    "training": "audit.audit_training_duplicates",
}


@dataclass(frozen=True)
class SourceCounts:
    source: str
    files: int
    files_rejected: int
    read: int
    quarantined: int
    superseded: int

    @property
    def loaded(self) -> int:
        """Rows that reach staging: everything read that was neither rejected nor superseded."""
        return self.read - self.quarantined - self.superseded


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def source_counts(con: duckdb.DuckDBPyConnection) -> list[SourceCounts]:
    counts = []
    for source in SOURCES:
        valid = _scalar(con, f"select count(*) from raw.{source}")
        rejected = _scalar(
            con,
            f"select count(*) from (select distinct source_file, source_row "
            f"from quarantine.{source})",
        )
        files = _scalar(
            con, f"select count(distinct source_file) from raw.files where source = '{source}'"
        )
        files_rejected = _scalar(
            con, f"select count(error) from raw.files where source = '{source}'"
        )
        superseded = (
            _scalar(con, f"select count(*) from {DROPPED_IN_STAGING[source]}")
            if source in DROPPED_IN_STAGING
            else 0
        )
        counts.append(
            SourceCounts(source, files, files_rejected, valid + rejected, rejected, superseded)
        )
    return counts


def mart_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' order by table_name"
    ).fetchall()
    return {name: _scalar(con, f"select count(*) from marts.{name}") for (name,) in tables}


def render(warehouse: Path, reports_dir: Path | None = None) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sources = source_counts(con)
        marts = mart_counts(con)
    lines = [
        f"{'source':<12}{'files':>7}{'unreadable':>12}{'read':>10}{'loaded':>10}"
        f"{'quarantined':>13}{'superseded':>12}"
    ]
    for c in sources:
        lines.append(
            f"{c.source:<12}{c.files:>7}{c.files_rejected:>12}{c.read:>10}{c.loaded:>10}"
            f"{c.quarantined:>13}"
            f"{c.superseded:>12}"
        )
    lines.append("")
    lines.append("marts: " + ", ".join(f"marts.{name} ({n} rows)" for name, n in marts.items()))
    lines.append("(unreadable files are rejected whole; raw.files.error says why)")
    lines.append(
        "(superseded: re-submitted assessments and SIASN records, repeated training records;"
        " in audit.*)"
    )
    lines.append(f"warehouse: {warehouse}")
    if reports_dir is not None:
        for report in sorted(reports_dir.glob("*.html")):
            lines.append(f"report: {report}")
    return "\n".join(lines)
