"""Start `dagster dev` as `make ui` does and talk to it over HTTP; shared by the UI test and
bench/ui_start.py so that what is measured is what is tested."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name pipelines { name } } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message stack }
  }
}
"""


GRAPHQL_TIMEOUT_S = 180


class UiError(RuntimeError):
    """The UI did not answer, or answered with an error, in time."""


def free_port() -> int:
    """A port nobody listens on now (the OS picks it), so parallel runs never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install_dagster_home(dagster_home: Path) -> Path:
    """A DAGSTER_HOME holding the repo's dagster.yaml (the one-run-at-a-time queue)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    return dagster_home


@dataclass
class DagsterDev:
    """A running `dagster dev` in its own process group, with its output in `log`."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise UiError(f"dagster dev exited with {self.proc.returncode}:\n{self.log_tail()}")

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL query; GraphQL-level errors raise, `data` is returned."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        # A launch is answered after the run's snapshot is built; with a run executing and
        # another test worker on the same 2 cores that took over 60 s once (make test,
        # 2026-12-01): wait up to GRAPHQL_TIMEOUT_S before calling the webserver unresponsive.
        with urllib.request.urlopen(request, timeout=GRAPHQL_TIMEOUT_S) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise UiError(f"GraphQL errors: {json.dumps(payload['errors'])[:4000]}")
        return payload["data"]

    def wait_http(self, timeout: float = 120.0) -> float:
        """Seconds (from now) until GET /server_info answers 200: the webserver is up."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise UiError(f"no HTTP 200 on /server_info after {timeout:.0f} s:\n{self.log_tail()}")

    def wait_loaded(self, timeout: float = 180.0) -> tuple[float, list[dict[str, Any]]]:
        """Seconds (from now) until every code location is LOADED, and the locations.

        A location that loads with an error raises with its Python error."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self._check_alive()
            try:
                workspace = self.graphql(WORKSPACE_QUERY)["workspaceOrError"]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
                continue
            if workspace["__typename"] != "Workspace":
                raise UiError(f"workspace error: {workspace.get('message')}")
            entries = workspace["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                for entry in entries:
                    location = entry["locationOrLoadError"] or {}
                    if location.get("__typename") != "RepositoryLocation":
                        raise UiError(
                            f"code location {entry['name']} failed to load: "
                            f"{location.get('message')}\n{location.get('stack')}"
                        )
                return time.monotonic() - start, [e["locationOrLoadError"] for e in entries]
            time.sleep(0.2)
        raise UiError(f"code location not loaded after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the whole process group (webserver, daemon, code servers, run workers);
        SIGKILL to whatever is left of it after `timeout`."""
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextmanager
def dagster_dev(
    env: Mapping[str, str],
    log: Path,
    port: int | None = None,
    workspace: Path = ROOT / "workspace.yaml",
) -> Iterator[DagsterDev]:
    """Run `dagster dev -w workspace.yaml` from the repo root, as `make ui` does, on a free
    port; stopped on exit. `env` overrides the environment (DAGSTER_HOME, KINERJA_*).

    A new session: `dagster dev` then gets default signal handling (started from a
    non-interactive shell it would ignore SIGTERM) and can be stopped as one group."""
    port = port or free_port()
    full_env = {**os.environ, **env}
    # The venv's tools (dbt, dagster) and this checkout's `pipelines` (not the editable one).
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)]
            + ["-w", str(workspace)],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = DagsterDev(proc, port, log)
    try:
        yield dev
    finally:
        dev.stop()
