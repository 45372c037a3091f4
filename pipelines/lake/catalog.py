"""A PostgreSQL cluster of the project's own, for the lake's catalog on one machine.

`make lake` and the tests start one in a folder of theirs on a free loopback port and stop
it afterwards; production points KINERJA_LAKE at a shared PostgreSQL instead. PostgreSQL
refuses to run as root, so as root the cluster runs as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DATABASE = "kinerja_lake"
START_TIMEOUT_S = 60


class CatalogError(RuntimeError):
    """The local PostgreSQL could not be found, initialised or started."""


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are: Debian keeps them off PATH, `pg_config --bindir` knows."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise CatalogError(
        "PostgreSQL is not installed (no initdb): `apt-get install postgresql` "
        "(the lake keeps its catalog there), or set KINERJA_LAKE to an existing catalog"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _let_postgres_through(folder: Path) -> None:
    """The ``postgres`` user must reach its folder: folders above it that only root may
    enter (a temporary folder is 0700) get search permission, nothing more."""
    for parent in folder.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass(frozen=True)
class LocalCatalog:
    """One PostgreSQL cluster in ``root`` listening on 127.0.0.1:``port``."""

    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def lake(self) -> str:
        """The KINERJA_LAKE value for this catalog (DuckLake's metadata connection)."""
        return f"postgres:dbname={DATABASE} host=127.0.0.1 port={self.port} user=postgres"

    def _as_owner(self, *command: str | Path) -> list[str]:
        args = [str(c) for c in command]
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _run(self, *command: str | Path) -> None:
        done = subprocess.run(self._as_owner(*command), capture_output=True, text=True)
        if done.returncode:
            raise CatalogError(f"{' '.join(map(str, command))} failed: {done.stderr.strip()}")

    def start(self) -> None:
        bindir = postgres_bindir()
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            _let_postgres_through(self.root)
            shutil.chown(self.root, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(bindir / "initdb", "-D", self.data_dir, "-A", "trust", "-U", "postgres")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(
            bindir / "pg_ctl",
            "-D",
            self.data_dir,
            "-o",
            options,
            "-l",
            self.log_file,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )
        self._ensure_database(bindir)

    def _ensure_database(self, bindir: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            done = subprocess.run(
                self._as_owner(
                    bindir / "createdb",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    DATABASE,
                ),
                capture_output=True,
                text=True,
            )
            if done.returncode == 0 or "already exists" in done.stderr:
                return
            if time.monotonic() > deadline:
                raise CatalogError(f"createdb {DATABASE} failed: {done.stderr.strip()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(postgres_bindir() / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")


@contextmanager
def local_catalog(root: Path, port: int | None = None) -> Iterator[LocalCatalog]:
    """A started cluster for the block; stopped after it, whatever happens inside."""
    catalog = LocalCatalog(Path(root).resolve(), port or free_port())
    catalog.start()
    try:
        yield catalog
    finally:
        catalog.stop()
