"""Writing frames into the warehouse: whole tables replaced in one transaction, so a reader
never sees half of a set of related tables and a re-run leaves no duplicates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import polars as pl


@contextmanager
def registered(
    conn: duckdb.DuckDBPyConnection, frame: pl.DataFrame, name: str = "incoming_frame"
) -> Iterator[str]:
    """The frame as a view named `name` (handed over through Arrow) for as long as needed."""
    conn.register(name, frame.to_arrow())
    try:
        yield name
    finally:
        conn.unregister(name)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: committed when the block ends, rolled back when anything (an
    interrupt too) escapes it."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def replace_tables(conn: duckdb.DuckDBPyConnection, tables: Mapping[str, pl.DataFrame]) -> None:
    """CREATE OR REPLACE each `schema.table` from its frame, all or nothing."""
    with transaction(conn):
        for qualified, frame in tables.items():
            schema, _, name = qualified.partition(".")
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            with registered(conn, frame) as view:
                conn.execute(f'CREATE OR REPLACE TABLE "{schema}"."{name}" AS SELECT * FROM {view}')


def read_frame(conn: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """A query result as a polars frame (DuckDB hands it over through Arrow, no copy per row)."""
    return conn.sql(sql).pl()
