"""The floor: DuckDB alone reading the same raw export files once, as text, into a table.

No validation, no lineage, no typing: the least work any ingestion of these files has to do.
What is fair, and what this measures:

- UTF-8 / UTF-8-with-BOM CSVs: ``read_csv(..., all_varchar=true)`` straight from the file.
- Windows-1252 CSVs: this DuckDB build cannot read them (its ``latin-1`` decoder rejects the
  0x80..0x9F bytes and the ``encodings`` extension is not available offline), so they are
  transcoded to UTF-8 first, streamed in 64 MiB chunks (a single-byte encoding, so chunk
  boundaries are safe), and the transcoding time is counted in the floor.
- .xlsx: DuckDB's ``excel`` extension is not available offline either; the sheet is read
  with fastexcel (what the product uses) and handed to DuckDB as Arrow. These files are
  small (the generator caps them), so they barely move the total.
- JSON (SIASN responses, one file per employee, in subfolders): every .json file of a
  source in one ``read_json_objects`` call (``data`` records unnested), every .jsonl file in
  another, each record one row, invalid JSON skipped (``ignore_errors``; the generator
  plants a truncated file). One call per file would measure DuckDB's per-statement cost
  68k times at 1M, not the least work.

Usage: ``python bench/floor_duckdb.py DATA_DIR OUT_JSON`` (run by bench/run.py).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import fastexcel

from pipelines.settings import SOURCES

CHUNK = 64 * 1024 * 1024


def is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (checked incrementally, chunk by chunk)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def transcode_cp1252(path: Path, target: Path) -> None:
    with path.open("rb") as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk.decode("cp1252", errors="replace").encode("utf-8"))


def separator(path: Path) -> str:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", errors="replace")
    return ";" if header.count(";") > header.count(",") else ","


def load_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, scratch: Path) -> int:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        arrow = fastexcel.read_excel(path).load_sheet(0, dtypes="string").to_arrow()  # noqa: F841
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM arrow")
    else:
        source = path
        if not is_utf8(path):
            source = scratch / (path.stem + ".utf8.csv")
            transcode_cp1252(path, source)
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar=true, header=true, "
            "delim=?, quote='\"', null_padding=true, ignore_errors=false)",
            [str(source), separator(path)],
        )
        if source != path:
            source.unlink()
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}


def load_json(con: duckdb.DuckDBPyConnection, files: list[Path], source: str) -> int:
    """Rows of every JSON record of a source: responses' ``data`` unnested, arrays and JSON
    lines one row per element (records as JSON text, no typing). A file DuckDB's parser
    rejects is dropped and the read repeated (ingestion rejects it too)."""
    rows = 0
    sql = (
        "CREATE OR REPLACE TABLE {table} AS SELECT unnest(CASE WHEN json_type(j) = 'ARRAY' "
        "THEN cast(j AS JSON[]) WHEN json_type(json_extract(j, '$.data')) = 'ARRAY' "
        "THEN cast(json_extract(j, '$.data') AS JSON[]) "
        "WHEN json_extract(j, '$.data') IS NOT NULL THEN [json_extract(j, '$.data')] "
        "ELSE [j] END) AS record FROM read_json_objects(?, format = ?) AS t(j)"
    )
    for suffixes, lines in (({".json"}, False), ({".jsonl", ".ndjson"}, True)):
        paths = [str(p) for p in files if p.suffix.lower() in suffixes]
        table = f"{source}_{'lines' if lines else 'json'}"
        while paths:
            try:
                con.execute(
                    sql.format(table=table), [paths, "newline_delimited" if lines else "auto"]
                )
            except duckdb.InvalidInputException as error:
                bad = re.search(r'in file "([^"]+)"', str(error))
                if bad is None:
                    raise
                paths = [p for p in paths if p != bad.group(1)]
                continue
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            break
    return rows


def main(data_dir: Path, out: Path) -> dict:
    result: dict = {"sources": {}}
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch_name:
        scratch = Path(scratch_name)
        con = duckdb.connect(str(scratch / "floor.duckdb"))
        con.execute(f"SET temp_directory = '{scratch / 'spill'}'")
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        for source in SOURCES:
            t0 = time.perf_counter()
            rows = 0
            folder = data_dir / "raw" / source
            files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
            tabular = [p for p in files if p.suffix.lower() not in JSON_SUFFIXES]
            for i, path in enumerate(tabular):
                rows += load_file(con, path, f"{source}_{i}", scratch)
            json_rows = load_json(con, files, source)
            result["sources"][source] = {
                "files": len(files),
                "rows": rows + json_rows,
                "wall_s": time.perf_counter() - t0,
            }
        result["wall_s"] = time.perf_counter() - started
        result["rows"] = sum(s["rows"] for s in result["sources"].values())
        con.close()
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), indent=2))
