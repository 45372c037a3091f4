"""Where `kinerja run` writes its log, and what it shows on the console instead.

A user running kinerja on their own folder must never meet a Python traceback for a data
problem. Every log record of the run (Dagster's, with full tracebacks, and Python's own
``logging``) goes to one file per run; the console shows one line per record, and a failed
step is summed up in one line (a data problem's own message, naming the file and the fix)
that names the log file.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from pipelines.settings import Settings, dagster_home

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

# Exceptions that report a problem in the user's files, not in kinerja: their message is
# written for the user (file, problem, fix) and is shown as it is.
DATA_PROBLEMS = {"ReferenceFileError", "ExportReadError"}
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s - %(message)s"
# Console noise when a step fails: every step downstream says it did not run.
NOT_RUN = "Dependencies for step"
# A one-line message longer than this is cut (the log file has it whole).
MAX_LINE = 300


def new_log_path(settings: Settings) -> Path:
    """A fresh log file for this run: $DAGSTER_HOME/logs/ (next to the run history the UI
    shows), or logs/ next to the warehouse without DAGSTER_HOME."""
    home = dagster_home()
    folder = home / "logs" if home else settings.warehouse.parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return folder / f"run-{stamp}.log"


class _OneLine(logging.Formatter):
    """'12:01:02 ingest_training - first line of the message' (tracebacks stay in the file)."""

    def format(self, record: logging.LogRecord) -> str:
        meta: dict[str, Any] = getattr(record, "dagster_meta", None) or {}
        message = str(meta.get("orig_message") or record.getMessage()).strip()
        first = message.splitlines()[0] if message else ""
        step = meta.get("step_key") or "run"
        return f"{datetime.now():%H:%M:%S} {step} - {first}"


class _NoNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        meta: dict[str, Any] = getattr(record, "dagster_meta", None) or {}
        return not str(meta.get("orig_message") or "").startswith(NOT_RUN)


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="INFO")},
    description="One line per record on stderr, without tracebacks.",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    level = init_context.logger_config["log_level"]
    logger = logging.Logger("kinerja.console", level=level)
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine())
    handler.addFilter(_NoNoise())
    logger.addHandler(handler)
    return logger


@dg.logger(
    config_schema={"path": str, "log_level": dg.Field(str, default_value="DEBUG")},
    description="Every record, tracebacks included, appended to the run's log file.",
)
def file_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("kinerja.file", level=init_context.logger_config["log_level"])
    handler = logging.FileHandler(init_context.logger_config["path"], encoding="utf-8")
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    logger.addHandler(handler)
    return logger


LOGGERS = {"console": console_logger, "file": file_logger}


def run_config(log: Path, level: str = "INFO") -> dict[str, Any]:
    """Both loggers configured (a run config naming loggers starts only those it names); a
    console logger without config (kinerja run's progress) is given none."""
    return {
        "loggers": {
            "console": {"config": {"log_level": level}} if level else {},
            "file": {"config": {"path": str(log)}},
        }
    }


def dagster_instance() -> dg.DagsterInstance | None:
    """The DAGSTER_HOME instance, so runs show in the UI; created when the directory is
    missing (a fresh clone before `make ui`). Without DAGSTER_HOME: None (an ephemeral one)."""
    home = dagster_home()
    if home is None:
        return None
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


@contextmanager
def python_logs_to(log: Path) -> Iterator[None]:
    """Python ``logging`` records (e.g. a reader failure logged with its traceback),
    warnings and unraisable exceptions go to the run's log file, not to the console
    (Python's last-resort handler and ``sys.unraisablehook`` print tracebacks to stderr)."""
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    logging.captureWarnings(True)
    previous_hook = sys.unraisablehook

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        """'Exception ignored in ...' (a generator closed by a failing step): to the file."""
        error = (info.exc_type, info.exc_value, info.exc_traceback)
        logging.getLogger(__name__).error("exception ignored in %r", info.object, exc_info=error)

    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()


def _innermost(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The user's exception under Dagster's wrappers: the first data problem in the cause
    chain, else the deepest cause."""
    current = error
    while True:
        if current.cls_name in DATA_PROBLEMS or current.cause is None:
            return current
        current = current.cause


def one_line(error: SerializableErrorInfo) -> str:
    """A data problem's own message; anything else as 'Type: first line' (cut at
    MAX_LINE characters)."""
    cause = _innermost(error)
    first = (cause.message.strip().splitlines() or [""])[0]
    # Dagster words a user exception 'module.Type: message'.
    prefixed = re.match(rf"(?:[\w.]+\.)?{re.escape(cause.cls_name or '')}: (.*)", first)
    message = prefixed.group(1) if prefixed else first
    line = message if cause.cls_name in DATA_PROBLEMS else f"{cause.cls_name}: {message}"
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per failed step: 'step: what went wrong'."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error is not None:
                lines.append(f"{event.step_key}: {one_line(error)}")
    return lines
