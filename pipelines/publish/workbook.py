"""The marts as one Excel workbook for planners (`kinerja export`).

Planners work in spreadsheets, and may only see what the published planners' extract holds
(`extracts.PLANNERS`: aggregates, small groups already NULL). So the workbook is copied from
that extract, never from the warehouse: one sheet per mart with the same rows and values,
empty cells where the extract has NULL. Headers and the "Keterangan" sheet come from the dbt
docs (column ``meta.label`` and description in the parsed manifest), so the workbook says
what the documentation says and cannot drift from it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from pipelines.ingest import blocked
from pipelines.publish.extracts import replaced_atomically
from pipelines.publish.safe_export import neutralise_formulas
from pipelines.settings import DBT_PROJECT_DIR, Settings

PLANNERS_EXTRACT = "planners.duckdb"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
MART_SCHEMA = "marts"
NOTES_SHEET = "Keterangan"
EXCEL_SHEET_NAME_MAX = 31
# Sheet names of the known marts, in the order planners read them; a mart not listed here
# still gets a sheet (its name without "mart_"), after these.
SHEET_NAMES = {
    "mart_agency_quarter": "OPD per triwulan",
    "mart_agency_year": "OPD per tahun",
    "mart_agency_indicator_quarter": "Indikator per triwulan",
    "mart_distribution_curve": "Kurva distribusi",
}
# Float columns holding a fraction (1 = 100%), shown as a percentage: shares, capaian (a
# ratio of realisation to target), the bounds of the distribution curve, and their changes.
PERCENT_PREFIXES = ("share_", "capaian_", "mean_achievement", "observed_share", "bound")
PERCENT, DECIMAL, COUNT, PLAIN_INTEGER = "0.0%", "0.00", "#,##0", "0"
HEADER_FORMAT = {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"}
# Column widths in characters: a header longer than HEADER_WRAP wraps instead of widening.
MIN_WIDTH, MAX_WIDTH, HEADER_WRAP = 6, 50, 18
NOTES_WIDTHS = {"Sheet": 24, "Kolom": 40, "Nama kolom": 28, "Keterangan": 90}
LINE_HEIGHT = 15  # points, one line of the default 11 pt font


class WorkbookError(Exception):
    """A precondition of the export is missing (extract, manifest); the message says how to
    get it."""


@dataclass(frozen=True)
class MartDocs:
    """What the dbt docs say about one mart: its key columns, and per column the Indonesian
    label (``meta.label``) and the description."""

    keys: tuple[str, ...]
    labels: dict[str, str]
    descriptions: dict[str, str]


def planners_extract(settings: Settings) -> Path:
    return settings.published_dir / PLANNERS_EXTRACT


def default_path(settings: Settings, today: dt.date | None = None) -> Path:
    """reports/kinerja_<YYYY-MM-DD>.xlsx: one workbook per day, a new export replaces it."""
    return settings.reports_dir / f"kinerja_{(today or dt.date.today()).isoformat()}.xlsx"


def read_docs(manifest: Path = MANIFEST) -> dict[str, MartDocs]:
    """Labels, descriptions and keys (the unique_combination_of_columns test) of every model,
    by model name, from dbt's parsed manifest."""
    if not manifest.exists():
        raise WorkbookError(f"no dbt manifest at {manifest}: run `make run` (or `dbt parse`)")
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    keys: dict[str, tuple[str, ...]] = {}
    for node in nodes:
        test = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and test.get("name") == "unique_combination_of_columns":
            model = node["attached_node"].rsplit(".", 1)[-1]
            keys[model] = tuple(test["kwargs"]["combination_of_columns"])
    docs = {}
    for node in nodes:
        if node["resource_type"] != "model":
            continue
        columns = node["columns"].values()
        docs[node["name"]] = MartDocs(
            keys=keys.get(node["name"], ()),
            labels={c["name"]: label for c in columns if (label := _label(c))},
            descriptions={c["name"]: c.get("description") or "" for c in columns},
        )
    return docs


def _label(column: dict) -> str | None:
    """``meta.label``; dbt also keeps column meta under ``config`` (where newer dbt moves it)."""
    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
    return meta.get("label")


def sheet_name(table: str) -> str:
    return SHEET_NAMES.get(table, table.removeprefix("mart_"))[:EXCEL_SHEET_NAME_MAX]


def number_format(column: str, dtype: pl.DataType) -> str | None:
    """Counts (n_*) as integers with thousands separators, years and quarters plain,
    fractions as percentages, every other float (IKM, NRR, JP, targets) with 2 decimals."""
    if dtype.is_integer():
        return COUNT if column.startswith("n_") else PLAIN_INTEGER
    if dtype.is_float() or dtype.is_decimal():
        return PERCENT if column.startswith(PERCENT_PREFIXES) else DECIMAL
    return None


def read_marts(
    con: duckdb.DuckDBPyConnection, docs: dict[str, MartDocs]
) -> dict[str, pl.DataFrame]:
    """Every table of the extract's marts schema, ordered by its key columns (all columns
    when the docs name none), the known marts first."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [MART_SCHEMA],
        ).fetchall()
    ]
    known = [t for t in SHEET_NAMES if t in tables]
    frames = {}
    for table in known + [t for t in tables if t not in known]:
        columns = [row[0] for row in con.execute(f'DESCRIBE {MART_SCHEMA}."{table}"').fetchall()]
        keys = [k for k in docs[table].keys if k in columns] if table in docs else []
        order = ", ".join(f'"{c}"' for c in (keys or columns))
        frames[table] = con.sql(f'SELECT * FROM {MART_SCHEMA}."{table}" ORDER BY {order}').pl()
    return frames


def headers(table: str, columns: list[str], docs: dict[str, MartDocs]) -> dict[str, str]:
    """Column name -> header: its label (the name where the docs give none), made unique
    within the sheet (an Excel table refuses two equal headers)."""
    labels = docs[table].labels if table in docs else {}
    result: dict[str, str] = {}
    for column in columns:
        header = labels.get(column, column)
        if header.casefold() in {h.casefold() for h in result.values()}:
            header = f"{header} ({column})"
        result[column] = header
    return result


def _value_chars(series: pl.Series, fmt: str | None) -> int:
    """About how many characters the widest value of `series` shows with `fmt`."""
    values = series.drop_nulls()
    if values.is_empty():
        return 0
    if series.dtype == pl.String:
        return int(values.str.len_chars().max())
    if series.dtype == pl.Boolean:
        return len("FALSE")
    if fmt is None:
        return int(values.cast(pl.String).str.len_chars().max())
    low, high = float(values.min()), float(values.max())
    biggest = max(abs(low), abs(high))
    shown = {PERCENT: f"{biggest * 100:.1f}%", DECIMAL: f"{biggest:,.2f}", COUNT: f"{biggest:,.0f}"}
    return len(shown.get(fmt, f"{biggest:.0f}")) + (low < 0)


def _pixels(chars: int) -> int:
    return chars * 7 + 10


def _write_mart(
    book: xlsxwriter.Workbook, table: str, frame: pl.DataFrame, header: dict[str, str]
) -> None:
    formats = {c: number_format(c, t) for c, t in frame.schema.items()}
    widths = {
        c: min(max(_value_chars(frame[c], formats[c]), min(len(header[c]), HEADER_WRAP)), MAX_WIDTH)
        for c in frame.columns
    }
    widths = {c: max(w + 2, MIN_WIDTH) for c, w in widths.items()}  # +2: the filter button
    lines = max(len(textwrap.wrap(header[c], widths[c] - 2) or [""]) for c in frame.columns)
    neutralise_formulas(frame).rename(header).write_excel(
        book,
        sheet_name(table),
        table_name=re.sub(r"\W", "_", table),
        column_formats={header[c]: f for c, f in formats.items() if f is not None},
        column_widths={header[c]: _pixels(w) for c, w in widths.items()},
        header_format=HEADER_FORMAT,
        row_heights={0: LINE_HEIGHT * lines},
        autofilter=True,
        freeze_panes="A2",
    )


def notes_text(con: duckdb.DuckDBPyConnection, extract: Path, min_group_size: int) -> list[str]:
    """The paragraphs above the column list: where the figures come from, why cells are
    empty, which source-quarters were left out of the marts."""
    published = dt.datetime.fromtimestamp(extract.stat().st_mtime, dt.UTC)
    quarters = blocked.read(con)
    lines = [
        f"Sumber: ekstrak perencana {extract.name}, diterbitkan "
        f"{published:%Y-%m-%d %H:%M} UTC. Satu lembar per mart; baris dan nilai sama dengan "
        "ekstrak.",
        "Sel kosong: angka kelompok yang lebih kecil dari batas minimum publikasi "
        f"({min_group_size} pegawai, responden atau pemegang indikator) sengaja dikosongkan "
        "agar tidak ada orang yang dapat dikenali, begitu pula perubahan yang dapat membuka "
        "angka itu kembali. Sel kosong lainnya berarti datanya memang tidak ada (misalnya "
        "tidak ada survei pada triwulan itu).",
    ]
    if quarters.is_empty():
        lines.append("Tidak ada triwulan sumber yang diblokir: semua triwulan masuk ke mart.")
    else:
        lines.append(
            "Triwulan sumber yang diblokir (terlalu banyak baris ekspor dikarantina) tidak "
            "masuk ke mart:"
        )
        lines += [f"- {blocked.describe(row)}" for row in quarters.iter_rows(named=True)]
    lines.append(
        "Daftar kolom di bawah: judul kolom, nama kolom di basis data, dan keterangan dari "
        "dokumentasi dbt (bahasa Inggris)."
    )
    return lines


def _write_notes(book: xlsxwriter.Workbook, paragraphs: list[str], columns: pl.DataFrame) -> None:
    sheet = book.add_worksheet(NOTES_SHEET)
    title = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_string(0, 0, NOTES_SHEET, title)
    line_chars = sum(NOTES_WIDTHS.values())
    for row, text in enumerate(paragraphs, start=1):
        # merged cells never grow to fit their text in Excel: give the row its lines
        sheet.merge_range(row, 0, row, len(NOTES_WIDTHS) - 1, "", wrap)
        sheet.write_string(row, 0, text, wrap)
        sheet.set_row(row, LINE_HEIGHT * len(textwrap.wrap(text, line_chars)))
    neutralise_formulas(columns).write_excel(
        book,
        sheet,
        position=(len(paragraphs) + 2, 0),
        table_name="kolom",
        column_formats={"Keterangan": {"text_wrap": True, "valign": "top"}},
        column_widths={c: _pixels(w) for c, w in NOTES_WIDTHS.items()},
        header_format=HEADER_FORMAT,
        autofilter=True,
    )


def write_workbook(
    extract: Path, out: Path, min_group_size: int, manifest: Path = MANIFEST
) -> Path:
    """Write the marts of the planners' `extract` to `out` (a sheet per mart, then
    Keterangan). Written beside `out` and renamed over it: no half-written workbook."""
    if not extract.exists():
        raise WorkbookError(
            f"no planners' extract at {extract}: run `make run` first (it publishes the extract)"
        )
    docs = read_docs(manifest)
    with duckdb.connect(str(extract), read_only=True) as con:
        marts = read_marts(con, docs)
        paragraphs = notes_text(con, extract, min_group_size)
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    options |= {"strings_to_numbers": False, "nan_inf_to_errors": True}
    rows = []
    with replaced_atomically(out, suffix=".xlsx") as tmp:
        book = xlsxwriter.Workbook(str(tmp), options)
        try:
            for table, frame in marts.items():
                name, header = sheet_name(table), headers(table, frame.columns, docs)
                _write_mart(book, table, frame, header)
                descriptions = docs[table].descriptions if table in docs else {}
                rows += [(name, header[c], c, descriptions.get(c, "")) for c in frame.columns]
            columns = pl.DataFrame(
                rows, schema=dict.fromkeys(NOTES_WIDTHS, pl.String), orient="row"
            )
            _write_notes(book, paragraphs, columns)
        finally:
            book.close()
    return out
