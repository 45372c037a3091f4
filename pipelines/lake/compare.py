"""Are two warehouses the same? Compares the lake with the single-file warehouse built from
the same exports, table by table.

First one checksum per table: row count and an order-free sum of row hashes, floats rounded
to 9 decimals (sums over another row order differ in the last bits). A float that sits on a
rounding boundary can still hash differently, so a table whose checksums differ is then
compared row by row, both sides sorted, floats equal within 1e-9 (relative above 1)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

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
TOLERANCE = 1e-9
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
            difference = _row_by_row(conn, left, right, table, a[table])
            if difference:
                differences.append(
                    f"{table}: {ours[0]} rows in {left}, {theirs[0]} in {right}; {difference}"
                )
    return Comparison(len(a.keys() | b.keys()), differences)


def _row_by_row(
    conn: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    table: str,
    columns: list[tuple[str, str]],
) -> str | None:
    """None when the rows agree within TOLERANCE, else the first row that differs."""
    floats = [c for c, kind in columns if kind.upper() in _FLOATS]
    exact = [c for c, kind in columns if kind.upper() not in _FLOATS]
    order = ", ".join([f'"{c}"' for c in exact] + [f'round("{c}", 6)' for c in floats])
    sides = [
        conn.execute(f"SELECT * FROM {cat}.{table} ORDER BY {order}").pl() for cat in (left, right)
    ]
    ours, theirs = sides
    if ours.height != theirs.height:
        return "row counts differ"
    same = pl.Series([True] * ours.height)
    for name in exact:
        same &= ours[name].eq_missing(theirs[name])
    x, y = pl.col("x"), pl.col("y")
    close = (
        ((x - y).abs() <= TOLERANCE * pl.max_horizontal(x.abs(), pl.lit(1.0))).fill_null(False)
        | (x.is_null() & y.is_null())
        | (x.is_nan() & y.is_nan()).fill_null(False)
    )
    for name in floats:
        pair = pl.DataFrame(
            {"x": ours[name], "y": theirs[name]}, schema={"x": pl.Float64, "y": pl.Float64}
        )
        same &= pair.select(close).to_series()
    if same.all():
        return None
    first = int(same.arg_min() or 0)
    return f"first differing row in {left}: {ours.row(first)}, in {right}: {theirs.row(first)}"
