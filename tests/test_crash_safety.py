"""Crash safety and readers during writes, with real processes: a `kinerja run` killed with
SIGKILL at several points leaves the published warehouse (and its extracts) exactly as they
were; a reader querying in a loop during a run is never locked out and only ever sees the
old or the new warehouse; the next run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.run import EXIT_HELD_BACK
from pipelines.generate import generate_dataset
from tests.checksums import table_checksums

pytestmark = pytest.mark.xdist_group("crash")

RUN_TIMEOUT = 300
# Log lines that show the run is inside a stage: ingestion, the dbt build, the reports
# (after the analyses, just before publishing).
KILL_POINTS = {
    "ingest": "raw__agencies",
    "dbt": "OK created sql table model intermediate.",
    "reports": "reports__fairness_html",
}
MART_STATE = (
    "select count(*), md5(string_agg(kode_opd || tahun || n_assessed || coalesce(jp_total, 0), ','"
    " order by kode_opd, tahun)) from marts.mart_agency_year"
)


@dataclass(frozen=True)
class Workspace:
    data_dir: Path
    env: dict[str, str]

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def extracts(self) -> list[Path]:
        return sorted((self.data_dir / "published").glob("*.duckdb"))

    def start_run(self, verbose: bool = True) -> subprocess.Popen[str]:
        """--verbose: the kill points are lines of Dagster's and dbt's log."""
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run", "--no-generate"]
            + (["--verbose"] if verbose else []),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def run(self, verbose: bool = True) -> str:
        process = self.start_run(verbose)
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
        # the sample plants an unreadable file: published, with it held back
        assert process.returncode == EXIT_HELD_BACK, output[-3000:]
        return output

    def state(self) -> dict[str, object]:
        state: dict[str, object] = {"warehouse": table_checksums(self.warehouse)}
        for extract in self.extracts:
            state[extract.name] = table_checksums(extract, ("marts", "analysis", "audit"))
        return state


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    data_dir = tmp_path_factory.mktemp("crash")
    generate_dataset(data_dir, employees=100, seed=21)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KINERJA_", "DAGSTER_"))}
    env |= {
        "KINERJA_DATA_DIR": str(data_dir),
        "KINERJA_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
        "KINERJA_REPORTS_DIR": str(data_dir / "reports"),
        "KINERJA_PSEUDONYM_KEY": "crash-test-key",
        "KINERJA_REPORT_PNG": "0",
    }
    workspace = Workspace(data_dir, env)
    first_output.append(workspace.run(verbose=False))
    yield workspace


# The console of the workspace's first run (not a terminal, not verbose).
first_output: list[str] = []


def test_without_a_terminal_the_run_prints_stages_and_the_summary(workspace: Workspace) -> None:
    """Issue 17: a run's console is its stages and the summary, well under 40 lines; the full
    log (Dagster's events, dbt's lines) is in the file the summary names."""
    lines = first_output[0].splitlines()
    assert len(lines) < 40, first_output[0]
    stage_lines = [line.split()[0:2] for line in lines[1:10]]
    assert ["dbt", "build"] in stage_lines and ["ingest", "assessments"] in stage_lines
    assert any(line.startswith("warehouse: ") for line in lines)
    assert lines.count(next(line for line in lines if line.startswith("source "))) == 1
    assert "OK created sql table model" not in first_output[0]
    (log_line,) = [line for line in lines if line.startswith("log: ")]
    log = Path(log_line.removeprefix("log: ")).read_text(encoding="utf-8")
    assert "OK created sql table model marts.mart_agency_quarter" in log
    assert "STEP_SUCCESS" in log


def _kill_at(process: subprocess.Popen[str], marker: str) -> list[str]:
    """Read the run's log until `marker` appears, then SIGKILL the whole process group."""
    seen: list[str] = []
    deadline = time.monotonic() + RUN_TIMEOUT
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return seen
        assert time.monotonic() < deadline, "marker never appeared"
    raise AssertionError(f"run ended before {marker!r}:\n{''.join(seen[-40:])}")


def test_sigkill_at_any_stage_leaves_published_warehouse_unchanged(workspace: Workspace) -> None:
    published = workspace.state()
    assert len(published) == 3  # warehouse + planners + evaluators
    # New input, so a completed run would change the marts: drop one training export.
    next(iter(sorted((workspace.data_dir / "raw" / "training").glob("*.csv")))).unlink()
    for stage, marker in KILL_POINTS.items():
        _kill_at(workspace.start_run(), marker)
        assert workspace.state() == published, f"published warehouse changed by a kill in {stage}"

    # The reader and the next full run, side by side.
    observed: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read_in_a_loop() -> None:
        while not done.is_set():
            try:
                with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
                    observed.append(con.execute(MART_STATE).fetchone())
            except BaseException as error:  # noqa: BLE001 - every failure is a finding
                errors.append(error)
            time.sleep(0.05)

    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        old_state = con.execute(MART_STATE).fetchone()
    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        workspace.run()
    finally:
        done.set()
        reader.join()
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        new_state = con.execute(MART_STATE).fetchone()

    assert not errors, errors[:3]
    assert new_state != old_state
    assert len(observed) > 50
    assert set(observed) <= {old_state, new_state}
    assert observed[0] == old_state
    after = workspace.state()
    assert after != published
    assert after["warehouse"]["raw.training"][0] < published["warehouse"]["raw.training"][0]
