"""The Dagster UI and the dbt docs as a person uses them: `dagster dev` started as `make ui`
does, a run of materialize_all launched through the UI's GraphQL API, the asset graph looked
at in headless Chromium, and `make docs` opened as a static page.

One module-scoped `dagster dev` and one full run (~1.5 min on 2 cores) serve both UI tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.ui_support import ROOT, DagsterDev, dagster_dev, install_dagster_home

pytestmark = pytest.mark.xdist_group("ui")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JOB = "materialize_all"
QUARTER_MART = ["marts", "mart_agency_quarter"]
# The generator's minimum (8 employees in each of its 12 agencies): the smallest full run.
UI_EMPLOYEES = 96
UI_SEED = 3
RUN_TIMEOUT_S = 360
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

PARTITION_KEYS_QUERY = """
query ($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { partitionKeysOrError { partitionKeys } }
    ... on PythonError { message }
  }
}
"""

LAUNCH_MUTATION = """
mutation ($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUN_QUERY = """
query ($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      tags { key value }
      assetMaterializations { assetKey { path } partition }
    }
    ... on PythonError { message }
  }
}
"""

RUN_ERRORS_QUERY = """
query ($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run {
      eventConnection(limit: 5000) {
        events {
          __typename
          ... on MessageEvent { message level stepKey }
          ... on ErrorEvent { error { message stack } }
        }
      }
    }
  }
}
"""

STATUS_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }
"""

TERMINATE_MUTATION = """
mutation ($runId: String!) {
  terminateRun(runId: $runId) { __typename ... on Error { message } }
}
"""

ASSET_NODES_QUERY = """
query ($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    isPartitioned
    partitionStats { numMaterialized numPartitions numFailed }
  }
}
"""


@dataclass(frozen=True)
class UiRun:
    dev: DagsterDev
    run: dict[str, Any]
    partition_keys: list[str]
    reports_dir: Path
    # (first run's status, second run's status) sampled while both existed; second's end.
    queue_samples: list[tuple[str, str]]
    second_final: str

    @property
    def materialized(self) -> list[list[str]]:
        return [m["assetKey"]["path"] for m in self.run["assetMaterializations"]]


def job_selector(dev: DagsterDev, locations: list[dict[str, Any]]) -> dict[str, str]:
    """The one code location and repository that define the job (names are not hard-coded:
    workspace.yaml may name the location)."""
    found = [
        {"pipelineName": JOB, "repositoryName": repo["name"], "repositoryLocationName": loc["name"]}
        for loc in locations
        for repo in loc["repositories"]
        if JOB in {p["name"] for p in repo["pipelines"]}
    ]
    assert len(found) == 1, f"job {JOB} defined {len(found)} times: {json.dumps(locations)}"
    return found[0]


def partition_keys(dev: DagsterDev, selector: dict[str, str]) -> list[str]:
    """The job's partition keys (quarters such as '2023-01'), or [] when it is unpartitioned."""
    job = dev.graphql(PARTITION_KEYS_QUERY, {"selector": selector})["pipelineOrError"]
    assert job["__typename"] == "Pipeline", job
    return list(job["partitionKeysOrError"]["partitionKeys"])


def launch(dev: DagsterDev, selector: dict[str, str], keys: list[str]) -> str:
    """One run of the job; a partitioned job gets one run over its whole range of quarters."""
    tags = (
        [{"key": RANGE_START_TAG, "value": keys[0]}, {"key": RANGE_END_TAG, "value": keys[-1]}]
        if keys
        else []
    )
    params = {"selector": selector, "runConfigData": {}, "executionMetadata": {"tags": tags}}
    result = dev.graphql(LAUNCH_MUTATION, {"params": params})["launchPipelineExecution"]
    assert result["__typename"] == "LaunchRunSuccess", f"launch refused: {json.dumps(result)}"
    return str(result["run"]["runId"])


def run_errors(dev: DagsterDev, run_id: str) -> str:
    """Every failure and error-level message of a run, with tracebacks, for the report."""
    run = dev.graphql(RUN_ERRORS_QUERY, {"runId": run_id})["runOrError"]
    lines = []
    for event in run["eventConnection"]["events"]:
        error = event.get("error")
        if error or event.get("level") in ("ERROR", "CRITICAL"):
            lines.append(
                f"[{event['__typename']}] {event.get('stepKey') or ''}: {event['message']}"
            )
            if error:
                lines.append(error["message"] + "".join(error["stack"]))
    return "\n".join(lines) or "(no error events)"


def wait_for_run(dev: DagsterDev, run_id: str, timeout: float = RUN_TIMEOUT_S) -> dict[str, Any]:
    """Poll until the run ends; a failed or cancelled run fails the test with its errors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = dev.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] == "SUCCESS":
            return run
        if run["status"] in ("FAILURE", "CANCELED"):
            pytest.fail(f"run {run_id} ended {run['status']}:\n{run_errors(dev, run_id)}")
        time.sleep(2)
    pytest.fail(f"run {run_id} not finished after {timeout:.0f} s (status {run['status']})")


def status(dev: DagsterDev, run_id: str) -> str:
    return str(dev.graphql(STATUS_QUERY, {"runId": run_id})["runOrError"]["status"])


def wait_until_started(dev: DagsterDev, run_id: str, timeout: float = 120.0) -> None:
    """Until the run leaves the queue (or ends: wait_for_run reports how)."""
    deadline = time.monotonic() + timeout
    while status(dev, run_id) in ("QUEUED", "NOT_STARTED") and time.monotonic() < deadline:
        time.sleep(0.5)


def second_run_in_queue(
    dev: DagsterDev, selector: dict[str, str], keys: list[str], first: str
) -> tuple[list[tuple[str, str]], str]:
    """Launch a second run while the first one runs, watch it for ~8 s (four dequeue
    intervals of dagster.yaml, more than Dagster's default 5 s), then cancel it. With one run
    at a time it never leaves the queue; without dagster.yaml it starts within that time."""
    second = launch(dev, selector, keys)
    samples = []
    for _ in range(16):
        samples.append((status(dev, first), status(dev, second)))
        time.sleep(0.5)
    # If it did start (the test then fails), it is let finish: runs never overlap here.
    dev.graphql(TERMINATE_MUTATION, {"runId": second})
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while status(dev, second) not in ("CANCELED", "FAILURE", "SUCCESS"):
        assert time.monotonic() < deadline, "the second run neither cancelled nor ended"
        time.sleep(0.5)
    return samples, status(dev, second)


@pytest.fixture(scope="module")
def ui_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiRun]:
    """Generated exports, `dagster dev` on a free port, one run of materialize_all through
    the GraphQL API (what the UI's Materialize button sends), kept up for the browser."""
    from pipelines.generate import generate_dataset

    tmp = tmp_path_factory.mktemp("ui")
    data = tmp / "data"
    generate_dataset(data, employees=UI_EMPLOYEES, seed=UI_SEED)
    env = {
        "KINERJA_DATA_DIR": str(data),
        "KINERJA_WAREHOUSE": str(data / "warehouse.duckdb"),
        "KINERJA_REPORTS_DIR": str(tmp / "reports"),
        "KINERJA_REPORT_PNG": "0",
        "DAGSTER_HOME": str(install_dagster_home(tmp / "dagster_home")),
    }
    with dagster_dev(env, tmp / "dagster_dev.log") as dev:
        start = time.monotonic()
        dev.wait_http()
        _, locations = dev.wait_loaded()
        print(f"dagster dev up and code loaded in {time.monotonic() - start:.1f} s")
        selector = job_selector(dev, locations)
        keys = partition_keys(dev, selector)
        run_id = launch(dev, selector, keys)
        wait_until_started(dev, run_id)
        samples, second_final = second_run_in_queue(dev, selector, keys, run_id)
        run = wait_for_run(dev, run_id)
        print(f"run {run_id} succeeded {time.monotonic() - start:.1f} s after start")
        yield UiRun(dev, run, keys, tmp / "reports", samples, second_final)


def test_dagster_yaml_queues_one_run_at_a_time(tmp_path: Path) -> None:
    """DuckDB allows one writer: the instance the Makefile installs must queue runs."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(install_dagster_home(tmp_path / "home")))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


def test_second_run_waits_in_the_queue(ui_run: UiRun) -> None:
    """Under `dagster dev` with the repo's dagster.yaml, a run launched while another is in
    progress stays QUEUED (DuckDB: one writer) until it is cancelled."""
    assert ui_run.queue_samples
    for first, second in ui_run.queue_samples:
        if first in ("STARTING", "STARTED"):
            assert second == "QUEUED", ui_run.queue_samples
    assert any(first == "STARTED" for first, _ in ui_run.queue_samples), ui_run.queue_samples
    assert ui_run.second_final == "CANCELED"


def test_ui_run_materializes_the_marts(ui_run: UiRun) -> None:
    """The run launched through the UI's API built the quarter mart (every quarter, if the
    job is partitioned) and nothing failed."""
    assert QUARTER_MART in ui_run.materialized, ui_run.materialized
    tags = {t["key"]: t["value"] for t in ui_run.run["tags"]}
    if ui_run.partition_keys:
        assert tags[RANGE_START_TAG] == ui_run.partition_keys[0]
        assert tags[RANGE_END_TAG] == ui_run.partition_keys[-1]
    marts = [k for k in ui_run.materialized if k[0] == "marts"]
    nodes = ui_run.dev.graphql(ASSET_NODES_QUERY, {"keys": [{"path": k} for k in marts]})
    for node in nodes["assetNodes"]:
        stats = node["partitionStats"]
        if node["isPartitioned"]:
            assert stats["numFailed"] == 0, node
            assert stats["numMaterialized"] == stats["numPartitions"], node


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is not installed (`make browser` installs it as root)",
)
def test_asset_graph_shows_marts_materialized(ui_run: UiRun) -> None:
    """Open the global asset lineage, filter it to the marts group as a person would, and
    see every mart node as materialized; the screenshot is kept under reports/ui/."""
    from playwright.sync_api import expect, sync_playwright

    marts = sorted({k[1] for k in ui_run.materialized if k[0] == "marts"})
    shot = ui_run.reports_dir / "ui" / "asset_graph.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{ui_run.dev.url}/asset-groups", wait_until="domcontentloaded")
            expect(page.get_by_text("Global asset lineage")).to_be_visible(timeout=60_000)
            # The asset-selection box is a CodeMirror editor: click it, type, press Enter.
            page.locator(".CodeMirror").first.click()
            page.keyboard.type('group:"marts"')
            page.keyboard.press("Enter")
            nodes = page.locator('[class*="assetNodeContainer"]')
            for mart in marts:
                node = nodes.filter(has_text=mart)
                expect(node).to_have_count(1, timeout=60_000)
                expect(node).not_to_contain_text("Loading", timeout=60_000)
                # Partitioned assets show how many of their quarters are built instead.
                done = "100% filled" if ui_run.partition_keys else "Materialized"
                expect(node).to_contain_text(done)
                text = node.inner_text()
                assert "Never materialized" not in text and "Failed" not in text, text
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    print(f"asset graph screenshot: {shot}")
    assert shot.stat().st_size > 20_000


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_docs_writes_a_static_page(tmp_path: Path) -> None:
    """`make docs` against a build warehouse: one offline page naming the marts, and a
    catalog read from the warehouse (here a stand-in holding one mart table)."""
    data = tmp_path / "data"
    build = data / ".build" / "warehouse.duckdb"
    build.parent.mkdir(parents=True)
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts; create table marts.mart_agency_quarter (kode_opd text)")
    docs = tmp_path / "docs"
    env = {
        **os.environ,
        "KINERJA_DATA_DIR": str(data),
        "KINERJA_WAREHOUSE": str(data / "warehouse.duckdb"),
    }
    # STAMP= and MANIFEST= drop the install and parse prerequisites: the venv is in use.
    result = subprocess.run(
        ["make", "--no-print-directory", "docs", "STAMP=", "MANIFEST="]
        + [f"BIN={Path(sys.executable).parent}", f"DOCS_DIR={docs}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"file://{docs}/static_index.html" in result.stdout
    page = (docs / "static_index.html").read_text()
    for mart in ("mart_agency_quarter", "mart_agency_year", "mart_distribution_curve"):
        assert mart in page
    catalog = json.loads((docs / "catalog.json").read_text())
    columns = catalog["nodes"]["model.kinerja.mart_agency_quarter"]["columns"]
    assert "kode_opd" in columns
    assert not list(docs.glob("empty.duckdb*"))
