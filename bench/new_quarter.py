"""The new-quarter scenario of the benchmark: a quarter's exports arrive after the warehouse
has been built, and the product's quarter run loads just that quarter.

Two steps, each run by ``bench/run.py`` in a child process (``PYTHONPATH`` = the repository):

``derive DATA_DIR OUT_JSON``
    Writes next year's first quarter (2026 TW I when the generated year is 2025) for the
    assessments: every generated assessment CSV under ``DATA_DIR/raw/assessments/`` that
    DuckDB reads as UTF-8 with its auto-detection gives its rows of the generated year and
    quarter 1 (``periode`` spelled any way the ingestion reads as ``TW I``: 'TW I',
    'Triwulan I', 'tw 1', ...), with ``tahun`` set to the new year, as
    ``<stem>_<year>_tw1.csv`` beside it (header, comma separator, UTF-8). Files DuckDB cannot
    read that way (Windows-1252, .xlsx) are skipped and listed. An assessment export has no
    date column, so only ``tahun`` changes. Surveys and training get no new quarter.

``check WAREHOUSE OUT_JSON``
    Counts the rows of ``marts.mart_agency_quarter`` for the new quarter in the published
    warehouse (read-only); exits 1 when there are none.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

from pipelines.exports import ASSESSMENT_COLUMNS_WITH_INDICATOR
from pipelines.partitions import QUARTERS

SOURCE_YEAR = 2025  # the year bench/run.py generates (YEARS)
NEW_YEAR = SOURCE_YEAR + 1
NEW_KEY = f"{NEW_YEAR}-01"  # the quarter's partition key: its first month
SUFFIX = f"_{NEW_YEAR}_tw1.csv"
# Quarter 1 as pipelines.rules.parsing.normalise_period reads it, after upper-casing and
# collapsing whitespace/underscores: TW I, TRIWULAN 1, Q1, TW I-AKHIR, ...
QUARTER_1 = r"^(TW|TRIWULAN|TRW|Q)\s*[-.]?\s*(I|1)(\s*-?\s*AKHIR)?$"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def derive_file(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[Path, int] | None:
    """Write the new quarter's rows of one export; None when DuckDB cannot read it."""
    try:
        relation = con.sql("SELECT * FROM read_csv(?, all_varchar=true)", params=[str(path)])
        names = relation.columns
    except duckdb.Error:
        return None
    by_name = {name.strip().lower(): name for name in names}
    if "tahun" not in by_name or "periode" not in by_name:
        return None
    # Every column the export format knows (DuckDB trims the header; empty header cells
    # become column<N> and are dropped), lower-cased; tahun moved to the new year.
    known = [c for c in ASSESSMENT_COLUMNS_WITH_INDICATOR if c in by_name]
    select = ", ".join(
        f"'{NEW_YEAR}' AS tahun" if c == "tahun" else f"{_quote(by_name[c])} AS {c}" for c in known
    )
    tahun, periode = _quote(by_name["tahun"]), _quote(by_name["periode"])
    where = (
        f"try_cast(replace(trim({tahun}), ',', '.') AS DOUBLE) = {SOURCE_YEAR} AND "
        f"regexp_matches(upper(regexp_replace(trim({periode}), '[\\s_]+', ' ', 'g')), "
        f"'{QUARTER_1}')"
    )
    target = path.with_name(path.stem + SUFFIX)
    query = f"SELECT {select} FROM read_csv(?, all_varchar=true) WHERE {where}"
    try:
        con.execute(
            f"COPY ({query}) TO '{_literal(target)}' (FORMAT csv, HEADER true, DELIMITER ',')",
            [str(path)],
        )
        rows = con.execute("SELECT count(*) FROM read_csv(?, all_varchar=true)", [str(target)])
        count = rows.fetchone()[0]
    except duckdb.Error:
        target.unlink(missing_ok=True)
        return None
    if count == 0:
        target.unlink()
    return target, count


def derive(data_dir: Path, out: Path) -> dict:
    keys = QUARTERS.get_partition_keys()
    if NEW_KEY not in keys:
        raise SystemExit(
            f"quarter {NEW_KEY} is not a partition yet (partitions {keys[0]}..{keys[-1]}): "
            "a quarter becomes one the day after it ends"
        )
    started = time.perf_counter()
    folder = data_dir / "raw" / "assessments"
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{_literal(out.parent / 'new_quarter_tmp')}'")
    con.execute("SET enable_progress_bar = false")
    if limit := os.environ.get("KINERJA_DUCKDB_MEMORY_LIMIT"):
        con.execute(f"SET memory_limit = '{limit}'")
    files: dict[str, int] = {}
    every = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(SUFFIX))
    sources = [p for p in every if p.suffix.lower() == ".csv"]
    skipped = [p.relative_to(data_dir).as_posix() for p in every if p not in sources]
    for path in sources:
        written = derive_file(con, path)
        if written is None:
            skipped.append(path.relative_to(data_dir).as_posix())
        elif written[1]:
            files[written[0].relative_to(data_dir).as_posix()] = written[1]
    con.close()
    shutil.rmtree(out.parent / "new_quarter_tmp", ignore_errors=True)
    if not files:
        raise SystemExit(f"no {SOURCE_YEAR} TW I assessment rows found under {folder}")
    result = {
        "partition_key": NEW_KEY,
        "tahun": NEW_YEAR,
        "triwulan": 1,
        "source": "assessments",
        "files": files,
        "rows_added": sum(files.values()),
        "bytes_added": sum((data_dir / name).stat().st_size for name in files),
        "skipped_files": skipped,
        "prepare_s": time.perf_counter() - started,
    }
    out.write_text(json.dumps(result, indent=2))
    return result


def check(warehouse: Path, out: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows, assessed = con.execute(
            "SELECT count(*), coalesce(sum(n_assessed), 0) FROM marts.mart_agency_quarter "
            "WHERE tahun = ? AND triwulan = 1",
            [NEW_YEAR],
        ).fetchone()
    result = {"mart_agency_quarter_rows": rows, "mart_agency_quarter_n_assessed": int(assessed)}
    out.write_text(json.dumps(result, indent=2))
    if rows == 0 or assessed == 0:
        raise SystemExit(
            f"marts.mart_agency_quarter has {rows} rows and {assessed} assessed employees "
            f"for {NEW_YEAR} triwulan 1 after the quarter run"
        )
    return result


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("derive", "check"):
        raise SystemExit(f"usage: {sys.argv[0]} derive DATA_DIR OUT | check WAREHOUSE OUT")
    command, path, out_json = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    report = derive(path, out_json) if command == "derive" else check(path, out_json)
    print(json.dumps(report, indent=2))
