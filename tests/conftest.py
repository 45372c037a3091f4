"""Shared fixtures: one small generated data set materialized end to end, once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipelines.settings import Settings, load_settings

PIPELINE_EMPLOYEES = 120
PIPELINE_SEED = 11


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    truth: dict[str, Any]

    def materialize(self) -> None:
        from pipelines.definitions import build_defs

        result = build_defs(self.settings).resolve_job_def("materialize_all").execute_in_process()
        assert result.success


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    """Generated dirty data -> full materialization (ingest, validate, dbt build)."""
    from pipelines.generate import generate_dataset

    data_dir: Path = tmp_path_factory.mktemp("kinerja")
    saved = {
        k: os.environ.get(k)
        for k in ("KINERJA_DATA_DIR", "KINERJA_WAREHOUSE", "KINERJA_REPORTS_DIR")
    }
    os.environ["KINERJA_DATA_DIR"] = str(data_dir)
    os.environ["KINERJA_WAREHOUSE"] = str(data_dir / "warehouse.duckdb")
    os.environ["KINERJA_REPORTS_DIR"] = str(data_dir / "reports")
    truth = generate_dataset(data_dir, employees=PIPELINE_EMPLOYEES, seed=PIPELINE_SEED)
    run = PipelineRun(load_settings(), truth)
    run.materialize()
    yield run
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
