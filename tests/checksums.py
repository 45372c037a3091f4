"""Content checksums of warehouse tables, for tests that compare whole warehouses."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lake.compare import SCHEMAS as PUBLISHED_SCHEMAS


def table_checksums(
    warehouse: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> dict[str, tuple[int, str]]:
    """Row count and content hash per table. Doubles are compared to 9 decimals: DuckDB's
    parallel aggregation may sum floats in a different order, changing the last bits only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema || '.' || table_name, column_name, data_type "
            "from information_schema.columns where list_contains(?, table_schema) "
            "order by table_schema, table_name, ordinal_position",
            [list(schemas)],
        ).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column, data_type in columns:
            expr = f'"{column}"'
            if data_type in ("DOUBLE", "FLOAT"):
                expr = f"round({expr}, 9)"
            tables.setdefault(table, []).append(expr)
        checksums = {}
        for table, exprs in tables.items():
            row = f"concat_ws('|', {', '.join(f'coalesce({e}::varchar, chr(0))' for e in exprs)})"
            checksums[table] = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f"from (select {row} as r from {table})"
            ).fetchone()
        return checksums
