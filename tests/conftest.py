"""Shared fixtures: generated data sets materialized end to end on temporary paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.settings import Settings

PIPELINE_EMPLOYEES = 120
PIPELINE_SEED = 11


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    truth: dict[str, Any]

    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    def materialize(self, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
        """One run of `materialize_all`: every quarter unless `tags` name a range."""
        from pipelines.definitions import build_defs
        from pipelines.partitions import all_quarters_tags

        job = build_defs(self.settings).resolve_job_def("materialize_all")
        result = job.execute_in_process(tags=tags or all_quarters_tags())
        assert result.success
        self.results.append(result)
        return result

    def query(self, sql: str) -> pl.DataFrame:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.sql(sql).pl()


@contextmanager
def materialized(
    data_dir: Path, png: bool = False, run: bool = True, **generate: Any
) -> Iterator[PipelineRun]:
    """Generate a data set into `data_dir`, run `materialize_all` on it (unless `run` is
    false), on its own paths. PNG charts start a browser (~10 s): only the run whose
    reports are tested asks for them."""
    from pipelines.generate import generate_dataset

    settings = replace(
        Settings.from_env(),
        data_dir=data_dir,
        warehouse=data_dir / "warehouse.duckdb",
        reports_dir=data_dir / "reports",
        png_export=png,
    )
    pipeline = PipelineRun(settings, generate_dataset(data_dir, **generate))
    if run:
        pipeline.materialize()
    yield pipeline


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    """Small generated dirty data -> full materialization (ingest, dbt, analyses, reports)."""
    with materialized(
        tmp_path_factory.mktemp("kinerja"),
        png=True,
        employees=PIPELINE_EMPLOYEES,
        seed=PIPELINE_SEED,
    ) as run:
        yield run
