"""Are two warehouses the same? One checksum per table: row count and an order-free sum of
row hashes, floats rounded to 9 decimals (sums over another row order differ in the last
bits). Compares the lake with the single-file warehouse built from the same exports."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

SCHEMAS = (
    "raw",
    "quarantine",
    "reference",
    "staging",
    "intermediate",
    "marts",
    "audit",
    "analysis",
)
FLOAT_DECIMALS = 9
_FLOATS = ("FLOAT", "DOUBLE", "REAL")


@dataclass(frozen=True)
class Comparison:
    tables: int
    differences: list[str]

    @property
    def identical(self) -> bool:
        return not self.differences

    def line(self) -> str:
        if self.identical:
            return f"{self.tables} tables compared: identical"
        first = self.differences[0]
        return f"{self.tables} tables compared: {len(self.differences)} differ; first: {first}"


def _columns(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = conn.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND list_contains(?, schema_name) "
        "ORDER BY schema_name, table_name, column_index",
        [catalog, list(SCHEMAS)],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        tables.setdefault(f"{schema}.{table}", []).append((column, kind))
    return tables


def _projection(columns: list[tuple[str, str]]) -> str:
    return ", ".join(
        f'round("{c}", {FLOAT_DECIMALS})' if kind.upper() in _FLOATS else f'"{c}"'
        for c, kind in columns
    )


def checksum(conn: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]):
    projected = _projection(columns)
    return conn.execute(
        f"SELECT count(*), coalesce(sum(hash({projected})::HUGEINT), 0) FROM {relation}"
    ).fetchone()


def compare(conn: duckdb.DuckDBPyConnection, left: str, right: str) -> Comparison:
    """Every table of the SCHEMAS in catalog ``left`` against ``right`` (both attached)."""
    a, b = _columns(conn, left), _columns(conn, right)
    differences = [f"{t}: only in {left}" for t in sorted(a.keys() - b.keys())]
    differences += [f"{t}: only in {right}" for t in sorted(b.keys() - a.keys())]
    for table in sorted(a.keys() & b.keys()):
        if a[table] != b[table]:
            differences.append(f"{table}: columns differ ({a[table]} vs {b[table]})")
            continue
        ours, theirs = (checksum(conn, f"{cat}.{table}", a[table]) for cat in (left, right))
        if ours != theirs:
            projected = _projection(a[table])
            sample = conn.execute(
                f"SELECT {projected} FROM {left}.{table} EXCEPT ALL "
                f"SELECT {projected} FROM {right}.{table} LIMIT 1"
            ).fetchone()
            differences.append(
                f"{table}: {ours[0]} rows in {left}, {theirs[0]} in {right}; "
                f"a row only in {left}: {sample}"
            )
    return Comparison(len(a.keys() | b.keys()), differences)
