"""Both notebooks run top to bottom on the session's warehouse, opened read-only."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.xdist_group("pipeline")

NIP_SHAPED = re.compile(r"(?<![\d.])\d{18}(?!\d)")
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("name", ["01_trend_exploration.ipynb", "02_fairness_deep_dive.ipynb"])
def test_notebook_runs_without_errors(pipeline_run, name: str, monkeypatch) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), (
        "notebooks are committed without outputs"
    )
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(pipeline_run.settings.warehouse))
    before = pipeline_run.settings.warehouse.stat().st_mtime_ns
    client = NotebookClient(
        book,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        env=dict(os.environ),
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in book.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    first = book.cells[1].outputs[-1]["text"].strip()
    assert first == str(pipeline_run.settings.warehouse)
    figures = [
        o
        for c in book.cells
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) >= 2
    assert pipeline_run.settings.warehouse.stat().st_mtime_ns == before
    executed = nbformat.writes(book)
    people = pipeline_run.query("select distinct nip, nama from raw.assessments")
    assert not NIP_SHAPED.search(executed)
    assert not [n for n in people["nama"].drop_nulls().to_list() if len(n) >= 6 and n in executed]
