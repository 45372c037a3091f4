"""Render typed chunks to text per file variant and append them to CSV or xlsx files.

Rendering to strings first lets defects be planted as the exact text a person would see in
the file (e.g. '31/02/2024' in a dd/mm/yyyy file), whatever the variant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from pipelines.generate.variants import FileVariant
from pipelines.rules import periods, predikat

EXCEL_EPOCH = dt.date(1899, 12, 30)
FIXED_CREATED = dt.datetime(2025, 1, 1)

# The five periods an assessment export carries (the seed's quarters, then the annual
# period), as each label variant spells them.
PERIODE_LABELS = {
    "canonical": (*periods.QUARTERLY, periods.ANNUAL),
    "triwulan": ("Triwulan I", "Triwulan II", "Triwulan III", "Triwulan IV", "Tahunan"),
    "akhir": ("TW I", "TW II", "TW III", "TW IV-AKHIR", "TAHUNAN"),
    "tw_arabic": ("tw 1", "tw 2", "tw 3", "tw 4", "Tahunan"),
}
RATING_LABELS = predikat.RATINGS  # best first: rating codes 0=DI ATAS, 1=SESUAI, 2=DI BAWAH


def render(df: pl.DataFrame, variant: FileVariant) -> pl.DataFrame:
    """Every column to text as this variant writes it (xlsx gets ISO dates, converted later)."""
    exprs = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            if variant.date_style == "dmy":
                expr = col.dt.strftime("%d/%m/%Y")
            elif variant.date_style == "serial":
                expr = (col - pl.lit(EXCEL_EPOCH)).dt.total_days().cast(pl.String)
            else:
                expr = col.dt.strftime("%Y-%m-%d")
        elif dtype.is_float():
            expr = col.cast(pl.String)
            if variant.decimal_comma:
                expr = expr.str.replace(".", ",", literal=True)
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.alias(name))
    return df.select(exprs)


def take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pl.Series:
    """Vocabulary lookup without building a numpy unicode array (slow to hand to polars)."""
    return pl.Series(list(values), dtype=pl.String).gather(pl.Series(idx, dtype=pl.Int64))


def messy(name: str, i: int) -> str:
    """Header spelled as a hand-edited export would: mixed case, stray spaces."""
    return (f" {name.upper()} ", f"{name.title()}  ", f"  {name.capitalize()}")[i % 3]


class CsvSink:
    """One CSV file written in appended chunks; counts its data rows."""

    def __init__(self, path: Path, variant: FileVariant, columns: list[str]) -> None:
        self.path, self.variant, self.columns = path, variant, columns
        self.rows = 0
        self.rejected = 0
        self._fh = path.open("wb")
        header = [messy(c, i) if variant.messy_header else c for i, c in enumerate(columns)]
        if variant.trailing_empty:
            header += ["", ""]
        line = variant.delimiter.join(header) + variant.line_terminator
        self._fh.write(line.encode(variant.encoding))  # 'utf-8-sig' writes the BOM once here

    def write(self, df: pl.DataFrame, numeric_nip_rows: object = None) -> None:
        if df.height == 0:
            return
        if self.variant.trailing_empty:
            df = df.with_columns(
                pl.lit(None, pl.String).alias("_t1"), pl.lit(None, pl.String).alias("_t2")
            )
        text = df.write_csv(
            separator=self.variant.delimiter,
            include_header=False,
            null_value="",
            line_terminator=self.variant.line_terminator,
        )
        encoding = "utf-8" if self.variant.encoding == "utf-8-sig" else self.variant.encoding
        self._fh.write(text.encode(encoding))
        self.rows += df.height

    def close(self) -> None:
        if self.variant.trailing_empty:
            empty = self.variant.delimiter * (len(self.columns) + 1) + self.variant.line_terminator
            self._fh.write((empty * 3).encode("ascii"))
        self._fh.close()


class XlsxSink:
    """A small .xlsx (first sheet): NIPs as text cells, numbers as numbers, dates per variant.

    NIPs listed in numeric_nip_rows are written as number cells, which is how Excel stores a
    NIP it has mangled into scientific notation.
    """

    def __init__(
        self,
        path: Path,
        variant: FileVariant,
        columns: list[str],
        numeric: set[str],
        dates: set[str],
    ) -> None:
        self.path, self.variant, self.columns = path, variant, columns
        self.numeric, self.dates = numeric, dates
        self.rows = 0
        self.rejected = 0
        self._wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self._wb.set_properties({"created": FIXED_CREATED, "author": "kinerja generator"})
        self._ws = self._wb.add_worksheet("Sheet1")
        self._date_fmt = self._wb.add_format({"num_format": "dd/mm/yyyy"})
        for j, c in enumerate(columns):
            self._ws.write_string(0, j, c)

    def write(self, df: pl.DataFrame, numeric_nip_rows: set[int] | None = None) -> None:
        numeric_nip_rows = numeric_nip_rows or set()
        ws = self._ws
        kinds = [
            "date"
            if c in self.dates
            else "num"
            if c in self.numeric
            else "nip"
            if c in ("nip", "nip_penilai")
            else "str"
            for c in self.columns
        ]
        for i, row in enumerate(df.iter_rows()):
            r = self.rows + i + 1
            for j, value in enumerate(row):
                if value is None:
                    continue
                kind = kinds[j]
                if kind == "nip" and i in numeric_nip_rows and j == 0:
                    ws.write_number(r, j, float(value))
                elif kind == "num":
                    try:
                        ws.write_number(r, j, float(value.replace(",", ".")))
                    except ValueError:
                        ws.write_string(r, j, value)
                elif kind == "date":
                    day = dt.date.fromisoformat(value)
                    if self.variant.date_style == "date_cell":
                        ws.write_datetime(r, j, dt.datetime.combine(day, dt.time()), self._date_fmt)
                    else:
                        ws.write_number(r, j, (day - EXCEL_EPOCH).days)
                else:
                    ws.write_string(r, j, value)
        self.rows += df.height

    def close(self) -> None:
        self._wb.close()


def open_sink(
    path: Path, variant: FileVariant, columns: list[str], numeric: set[str], dates: set[str]
) -> CsvSink | XlsxSink:
    path.parent.mkdir(parents=True, exist_ok=True)
    if variant.fmt == "xlsx":
        return XlsxSink(path, variant, columns, numeric, dates)
    return CsvSink(path, variant, columns)


class FileSet:
    """The open files of one source under <data_dir>/raw/<source>/, opened on first use."""

    def __init__(
        self, data_dir: Path, source: str, columns: list[str], numeric: set[str], dates: set[str]
    ) -> None:
        self.data_dir, self.source, self.columns = data_dir, source, columns
        self.numeric, self.dates = numeric, dates
        self.sinks: dict[str, CsvSink | XlsxSink] = {}

    def sink(
        self, name: str, variant: FileVariant, columns: list[str] | None = None
    ) -> CsvSink | XlsxSink:
        """The file ``name``, opened with ``columns`` (default: the source's) on first use;
        the frames written to it must have the same columns in the same order."""
        if name not in self.sinks:
            path = self.data_dir / "raw" / self.source / name
            chosen = list(columns or self.columns)
            self.sinks[name] = open_sink(path, variant, chosen, self.numeric, self.dates)
        return self.sinks[name]

    def close(self, truth: object) -> None:
        for sink in self.sinks.values():
            sink.close()
            truth.add_file(  # type: ignore[attr-defined]
                sink.path.relative_to(self.data_dir).as_posix(),
                self.source,
                sink.variant.describe(has_dates=bool(self.dates)),
                sink.rows,
                sink.rejected,
            )
