"""What `kinerja run` shows while it runs: one line per stage, not Dagster's event log.

Dagster and dbt write hundreds of lines per run (every event, every dbt model and test); a
planner needs to see that the run moves and where it is. A Dagster logger receives every
event of the run and feeds a `RunProgress`: live rich bars on a terminal, one plain line per
finished stage otherwise (CI, a log file). The full log goes to the run's log file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import IO, Any

import dagster as dg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from pipelines.settings import SOURCES

DBT_STEP = "kinerja_dbt_assets"
STAGES = (
    "references",
    *(f"ingest {source}" for source in SOURCES),
    "dbt build",
    "analyses",
    "reports",
    "publish",
)
# Dagster events that mark one unit of dbt's work done: a model or seed built, a test run.
DBT_UNITS = {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"}


def stage_of(step_key: str) -> str:
    """The stage a step of `materialize_all` belongs to, by the step's name."""
    if step_key.startswith("raw__"):
        return "references"
    if step_key.startswith("ingest_"):
        return "ingest " + step_key.removeprefix("ingest_")
    if step_key == DBT_STEP:
        return "dbt build"
    if step_key.startswith("reports__"):
        return "reports"
    if step_key.startswith("published__"):
        return "publish"
    return "analyses"


@dataclass
class Stage:
    name: str
    steps: int
    units: int
    done_steps: int = 0
    done_units: int = 0
    failed: bool = False
    started: float | None = None
    finished: float | None = None
    rows: int | None = None

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def note(self) -> str:
        if self.failed:
            return "FAILED"
        if self.rows is not None and self.finished is not None:
            rate = self.rows / self.elapsed if self.elapsed > 0 else 0.0
            return f"{self.rows:,} rows read, {rate:,.0f} rows/s"
        return ""

    def line(self) -> str:
        """The plain line of a finished stage: '  dbt build   211/211   31.2 s'."""
        done = f"{self.done_units}/{self.units}" if self.units > 1 else ""
        return f"{self.name:<22}{done:>10}{self.elapsed:>9.1f} s  {self.note()}".rstrip()


def stages_of(job: dg.JobDefinition) -> dict[str, Stage]:
    """Every stage the job has steps in, with how many steps, and dbt's models and tests."""
    counts: dict[str, int] = {}
    for node in job.nodes:
        stage = stage_of(node.name)
        counts[stage] = counts.get(stage, 0) + 1
    dbt_units = 0
    for assets in job.asset_layer.asset_graph.assets_defs:
        if assets.is_executable and assets.node_def.name == DBT_STEP:
            dbt_units = len(assets.keys) + len(assets.check_keys)
    return {
        name: Stage(name, counts[name], dbt_units if name == "dbt build" else counts[name])
        for name in STAGES
        if name in counts
    }


class RunProgress:
    """Stages of one run, drawn live on a terminal or printed as plain lines when done."""

    def __init__(self, stages: dict[str, Stage], out: IO[str], live: bool) -> None:
        self.stages = stages
        self.out = out
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        if live:
            self.bars = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description:<20}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(file=out),
            )

    def __enter__(self) -> RunProgress:
        if self.bars is not None:
            self.bars.start()
            for stage in self.stages.values():
                self.tasks[stage.name] = self.bars.add_task(
                    stage.name, total=stage.units, start=False, note=""
                )
        return self

    def __exit__(self, *_: object) -> None:
        if self.bars is not None:
            self.bars.stop()
        else:
            for stage in self.stages.values():
                if stage.finished is None and stage.started is not None:
                    stage.finished = time.monotonic()
                    self._print(stage, suffix="(not finished)")

    def _print(self, stage: Stage, suffix: str = "") -> None:
        self.out.write(f"{stage.line()} {suffix}".rstrip() + "\n")
        self.out.flush()

    def _refresh(self, stage: Stage) -> None:
        if self.bars is None:
            return
        task = self.tasks[stage.name]
        if stage.started is not None:
            self.bars.start_task(task)
        self.bars.update(task, completed=stage.done_units, note=stage.note())
        if stage.finished is not None:
            self.bars.stop_task(task)

    def event(self, step_key: str, event_type: str, metadata: dict[str, Any]) -> None:
        """One Dagster event of a step: moves its stage along."""
        stage = self.stages.get(stage_of(step_key))
        if stage is None:
            return
        if event_type == "STEP_START" and stage.started is None:
            stage.started = time.monotonic()
        elif event_type in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            stage.done_steps += 1
            stage.failed = stage.failed or event_type == "STEP_FAILURE"
            if stage.name != "dbt build":
                stage.done_units = stage.done_steps
        elif event_type in DBT_UNITS and step_key == DBT_STEP:
            stage.done_units = min(stage.done_units + 1, stage.units)
        elif (
            event_type == "ASSET_MATERIALIZATION" and stage.rows is None and "rows_read" in metadata
        ):
            stage.rows = int(metadata["rows_read"])
        if stage.done_steps == stage.steps and stage.finished is None:
            stage.started = stage.started or time.monotonic()
            stage.finished = time.monotonic()
            if self.bars is None:
                self._print(stage)
        self._refresh(stage)


class _Feed(logging.Handler):
    """Hands each Dagster event of the run to the progress display."""

    def __init__(self, progress: RunProgress) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None or not event.step_key:
            return
        metadata: dict[str, Any] = {}
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        self.progress.event(event.step_key, event.event_type_value, metadata)


def progress_logger(progress: RunProgress) -> dg.LoggerDefinition:
    """A Dagster logger that draws `progress` instead of printing records."""

    @dg.logger(description="Progress per stage on the console (kinerja run without --verbose).")
    def _progress(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("kinerja.progress", level=logging.DEBUG)
        logger.addHandler(_Feed(progress))
        return logger

    return _progress
