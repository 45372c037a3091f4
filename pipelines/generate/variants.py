"""File variants (the ways real exports differ; columns per source in pipelines/exports.py)
and which file each chunk of rows goes to.

Each source's rows are spread so that every variant occurs at least once when three years are
generated: the bulk goes to one CSV per (pemda, year) whose variant cycles through the list,
one agency-year's first employees go to a small .xlsx (xlsx writing is slow), and the
assessments get a later-sorting '_revisi' file that re-submits some employee-periods.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileVariant:
    fmt: str = "csv"  # 'csv' or 'xlsx'
    delimiter: str = ","
    encoding: str = "utf-8"  # 'utf-8', 'utf-8-sig' (BOM) or 'cp1252'
    decimal_comma: bool = False
    date_style: str = "iso"  # 'iso', 'dmy', 'serial' (csv); 'date_cell', 'serial_cell' (xlsx)
    messy_header: bool = False  # mixed case with extra spaces
    trailing_empty: bool = False  # trailing empty columns on every line + empty rows at the end
    labels: str = "canonical"  # periode/rating spelling: canonical, triwulan, akhir, tw_arabic

    @property
    def line_terminator(self) -> str:
        return "\r\n" if self.encoding == "cp1252" else "\n"

    def describe(self, has_dates: bool = True) -> str:
        if self.fmt == "xlsx":
            parts = [
                "xlsx",
                {
                    "date_cell": "dates as Excel date cells",
                    "serial_cell": "dates as Excel serial number cells",
                }.get(self.date_style, "")
                if has_dates
                else "NIPs as text cells, mangled NIPs as number cells",
            ]
        else:
            parts = [
                {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252"}[
                    self.encoding
                ],
                "semicolon" if self.delimiter == ";" else "comma",
                "decimal comma" if self.decimal_comma else "decimal point",
                {
                    "iso": "dates yyyy-mm-dd",
                    "dmy": "dates dd/mm/yyyy",
                    "serial": "dates as Excel serial numbers",
                }[self.date_style]
                if has_dates
                else "",
            ]
            if self.messy_header:
                parts.append("mixed-case headers with extra spaces")
            if self.trailing_empty:
                parts.append("trailing empty columns and rows")
        if self.labels != "canonical":
            parts.append(f"periode spelled '{self.labels}'")
        return ", ".join(p for p in parts if p)


PLAIN = FileVariant()
CP1252 = FileVariant(delimiter=";", encoding="cp1252", decimal_comma=True, date_style="dmy")

# Bulk-file variants per source, indexed by (pemda position * 3 + year position) % 6.
BULK_VARIANTS: dict[str, tuple[FileVariant, ...]] = {
    "assessments": (
        PLAIN,
        FileVariant(delimiter=";", encoding="cp1252", decimal_comma=True, labels="triwulan"),
        FileVariant(encoding="utf-8-sig", labels="akhir"),
        FileVariant(messy_header=True),
        FileVariant(trailing_empty=True),
        FileVariant(delimiter=";", encoding="cp1252", decimal_comma=True, labels="akhir"),
    ),
    "surveys": (
        FileVariant(date_style="dmy"),
        CP1252,
        FileVariant(date_style="serial"),
        FileVariant(messy_header=True),
        FileVariant(encoding="utf-8-sig"),
        FileVariant(trailing_empty=True, date_style="dmy"),
    ),
    "training": (
        CP1252,
        FileVariant(date_style="dmy"),
        FileVariant(messy_header=True),
        FileVariant(encoding="utf-8-sig"),
        FileVariant(date_style="serial"),
        FileVariant(trailing_empty=True, date_style="dmy"),
    ),
}

XLSX_VARIANTS = {
    "assessments": FileVariant(fmt="xlsx", labels="tw_arabic"),
    "surveys": FileVariant(fmt="xlsx", date_style="serial_cell"),
    "training": FileVariant(fmt="xlsx", date_style="date_cell"),
}
# (agency kind, pemda position, year position, employee cap or None for the whole agency-year)
XLSX_TARGET = {
    "assessments": ("BKPSDM", 1, 1, 300),
    "surveys": ("DISDUKCAPIL", 1, 0, None),
    "training": ("DINKES", 1, 1, 400),
}
REVISI_EPS = 20  # employee-periods re-submitted in the revisi file


def bulk_file(source: str, pemda_code: str, pemda_pos: int, year: int, year_pos: int) -> str:
    return f"{source}_{pemda_code.lower()}_{year}.csv"


def bulk_variant(source: str, pemda_pos: int, year_pos: int) -> FileVariant:
    table = BULK_VARIANTS[source]
    return table[(pemda_pos * 3 + year_pos) % len(table)]


def xlsx_file(source: str, kode_opd: str, year: int) -> str:
    return f"{source}_{kode_opd.lower().replace('-', '_')}_{year}.xlsx"


def revisi_file(base: str) -> str:
    return base.removesuffix(".csv") + "_revisi.csv"
