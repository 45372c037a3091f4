"""Reading what the reports need from the warehouse, tolerating analysis tables not built yet."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.warehouse import read_frame


def has_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, name = qualified.partition(".")
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def optional_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> pl.DataFrame | None:
    """The whole table, or None when its asset has not been materialized in this warehouse."""
    return read_frame(conn, f"select * from {qualified}") if has_table(conn, qualified) else None


def table(conn: duckdb.DuckDBPyConnection, qualified: str) -> pl.DataFrame:
    return read_frame(conn, f"select * from {qualified}")
