"""The warehouse resource of the lake mode: the code's unqualified ``schema.table`` names
read and write the lake, so every asset runs unchanged on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.lake.connection import attach, extension_config


class LakeDuckDBResource(DuckDBResource):
    """An in-memory DuckDB per connection, with the lake attached as ``lake`` and in use."""

    lake: str
    lake_data: str

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as conn:
            attach(conn, self.lake, Path(self.lake_data))
            yield conn


def lake_resource(lake: str, lake_data: Path, config: dict[str, str]) -> LakeDuckDBResource:
    return LakeDuckDBResource(
        database=":memory:",
        connection_config={**config, **extension_config()},
        lake=lake,
        lake_data=str(lake_data),
    )
