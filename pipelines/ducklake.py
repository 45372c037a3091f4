"""Opening the lake (DuckLake, see pipelines/lake) from DuckDB without a network, and the
warehouse resource of the lake mode. The extensions come from their PyPI packages (DuckDB's
own INSTALL downloads from a server these machines cannot reach)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_extension_ducklake
import duckdb_extension_postgres_scanner
from dagster_duckdb import DuckDBResource

ALIAS = "lake"
# Installed once per environment, beside the DuckDB they were built for.
EXTENSION_DIRECTORY = Path(sys.prefix) / "duckdb_extensions"
_PACKAGES = {
    "postgres_scanner": duckdb_extension_postgres_scanner,
    "ducklake": duckdb_extension_ducklake,
}


def extension_config() -> dict[str, str | bool]:
    """DuckDB settings under which ATTACH 'ducklake:…' loads the installed extensions and
    never tries to download one."""
    return {
        "extension_directory": str(EXTENSION_DIRECTORY),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def _binary(name: str) -> Path:
    package = Path(_PACKAGES[name].__file__).parent / "extensions"
    found = sorted(package.glob(f"v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        shipped = sorted(p.parent.name for p in package.glob(f"*/{name}.duckdb_extension"))
        raise RuntimeError(
            f"duckdb-extension-{name.replace('_', '-')} ships {shipped}, not DuckDB "
            f"v{duckdb.__version__}: install the DuckDB version pinned in pyproject.toml"
        )
    return found[0]


def install_extensions(conn: duckdb.DuckDBPyConnection) -> None:
    """INSTALL both extensions from their package files into EXTENSION_DIRECTORY (idempotent;
    a later process finds them there) and LOAD them."""
    for name in _PACKAGES:
        installed = EXTENSION_DIRECTORY / f"v{duckdb.__version__}"
        if not any(installed.glob(f"*/{name}.duckdb_extension")):
            conn.execute(f"INSTALL '{_binary(name)}'")
        conn.execute(f"LOAD {name}")


def attach_sql(lake: str, data_path: Path, alias: str = ALIAS) -> str:
    data = str(data_path).rstrip("/") + "/"
    return f"ATTACH IF NOT EXISTS 'ducklake:{lake}' AS {alias} (DATA_PATH '{data}')"


def attach(conn: duckdb.DuckDBPyConnection, lake: str, data_path: Path) -> None:
    """Attach the lake as ``lake`` and make it the default catalog: the code's unqualified
    ``schema.table`` names then read and write the lake."""
    install_extensions(conn)
    data_path.mkdir(parents=True, exist_ok=True)
    conn.execute(attach_sql(lake, data_path))
    conn.execute(f"USE {ALIAS}")


def connect(
    lake: str, data_path: Path, config: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached and in use."""
    conn = duckdb.connect(config={**(config or {}), **extension_config()})
    attach(conn, lake, data_path)
    return conn


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
