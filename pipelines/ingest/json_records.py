"""JSON exports (web-service responses such as BKN SIASN's) -> the all-text frame every other
export becomes: canonical headers, text values, ``source_row``.

Accepted layouts: a ``.json`` file holding one response (``{"data": [...]}`` or
``{"data": {...}}``), an array of records, or one record object; and ``.jsonl``/``.ndjson``,
one record per line. ``source_row`` is the 1-based record number (JSON lines: the line
number, blank lines counted). Numbers keep the text the file wrote them with (a NIP stays
its 18 digits), true/false become 'true'/'false', null an empty cell, and a nested object
or array its JSON text. Strings are trimmed; empty ones are null, as in a CSV.

Keys are reduced to their canonical header, so 'PerilakuKerjaNilai' and
'perilakuKerjaNilai' fill one column. One record holding two keys of one column (or a
repeated key), or a record that is not an object, is a problem of that row
(``RECORD_PROBLEM``: quarantined with its reason); a file that is not valid JSON is
rejected whole, with the line and column where reading stopped. A file is read whole
(no blocks): web-service responses are small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.ingest.grids import SOURCE_ROW, ExportReadError
from pipelines.rules.headers import canonical_header

JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
# Reader-level problem of one record (not an object, two keys for one column).
RECORD_PROBLEM = "_record_problem"
_RESPONSE_KEY = "data"


class _Object(dict):
    """A JSON object that remembers its keys as written, repeated ones included."""

    pairs: list[tuple[str, Any]]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    made = _Object(pairs)
    made.pairs = pairs
    return made


def _loads(text: str, name: str, line: int | None = None) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_object, parse_float=str, parse_int=str)
    except json.JSONDecodeError as error:
        row = error.lineno if line is None else line
        raise ExportReadError(
            f"{name}: is not valid JSON (line {row}, column {error.colno}: {error.msg})"
        ) from error
    except RecursionError as error:
        raise ExportReadError(f"{name}: is not readable JSON (nested too deeply)") from error


def _decode(path: Path, name: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExportReadError(
            f"{name}: is not UTF-8 text (byte {error.start + 1}): JSON files must be UTF-8"
        ) from error


def _records(path: Path, name: str) -> list[tuple[int, Any]]:
    """(source_row, parsed record) of a JSON or JSON-lines file."""
    text = _decode(path, name)
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return [
            (number, _loads(line, name, number))
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
    if not text.strip():
        raise ExportReadError(f"{name}: the file is empty")
    document = _loads(text, name)
    if isinstance(document, dict) and _RESPONSE_KEY in map(canonical_header, document):
        document = next(v for k, v in document.items() if canonical_header(k) == _RESPONSE_KEY)
        if not isinstance(document, dict | list | None):
            shown = str(document)[:100]
            raise ExportReadError(
                f"{name}: the response's data is not a record or a list of records ('{shown}')"
            )
    if document is None:
        return []
    records = document if isinstance(document, list) else [document]
    return list(enumerate(records, start=1))


def _text(value: Any) -> str | None:
    if type(value) is str:  # numbers too (parsed as their text): the common case first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip() or None


def _row(record: Any) -> tuple[dict[str, str | None], str | None]:
    """One record's cells by canonical header, and its problem (or None)."""
    if not isinstance(record, dict):
        shown = _text(record) or "null"
        return {}, f"record is not a JSON object ('{shown[:100]}')"
    pairs = record.pairs if isinstance(record, _Object) else list(record.items())
    cells: dict[str, str | None] = {}
    written: dict[str, str] = {}
    problems = []
    for key, value in pairs:
        header = canonical_header(key)
        if not header:
            continue
        if header in written:
            problems.append(f"'{written[header]}' and '{key}' (one column: {header})")
            continue
        written[header] = key
        cells[header] = _text(value)
    problem = "record has two values for one column: " + "; ".join(problems) if problems else None
    return cells, problem


@dataclass
class JsonRows:
    """A JSON export's records as Python rows (cells by canonical header), their problems and
    source_row numbers, and the headers in first-seen order. Many small files' rows become
    one frame at once (``frame``): one polars frame per file cost ~1 ms each, 68k times at
    1M employees (SIASN: one response per employee)."""

    rows: list[dict[str, str | None]]
    problems: list[str | None]
    numbers: list[int]
    headers: list[str]
    counts: list[int]  # rows per file, in the order the files were added

    def frame(self, **lineage: list[str]) -> pl.DataFrame:
        """The text frame of these rows (columns: headers, ``_record_problem``,
        ``source_row``, then any ``lineage`` columns given, one value per row)."""
        schema = dict.fromkeys(self.headers, pl.String)
        frame = pl.DataFrame(self.rows, schema=schema) if self.headers else pl.DataFrame()
        return frame.with_columns(
            pl.Series(RECORD_PROBLEM, self.problems, dtype=pl.String),
            pl.Series(SOURCE_ROW, self.numbers, dtype=pl.Int32),
            *(pl.Series(k, v, dtype=pl.String) for k, v in lineage.items()),
        )

    @classmethod
    def empty(cls) -> JsonRows:
        return cls([], [], [], [], [])

    def extend(self, other: JsonRows) -> None:
        self.rows += other.rows
        self.problems += other.problems
        self.numbers += other.numbers
        known = set(self.headers)
        self.headers += [h for h in other.headers if h not in known]
        self.counts += other.counts


def read_json_rows(path: Path, name: str) -> JsonRows:
    """A JSON export's rows (see JsonRows); ExportReadError (naming the file and the
    position) when the file is not valid JSON."""
    rows, problems, numbers = [], [], []
    for number, record in _records(path, name):
        cells, problem = _row(record)
        rows.append(cells)
        problems.append(problem)
        numbers.append(number)
    headers: dict[str, None] = {}
    for cells in rows:
        headers.update(dict.fromkeys(cells))
    return JsonRows(rows, problems, numbers, list(headers), [len(rows)])


def read_json_frame(path: Path, name: str) -> pl.DataFrame:
    """Text columns by canonical header (first-seen order), ``_record_problem`` and
    ``source_row``; ExportReadError (naming the file and the position) when the file is
    not valid JSON."""
    return read_json_rows(path, name).frame()
