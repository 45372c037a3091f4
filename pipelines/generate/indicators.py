"""Where each indicator's aspek, arah and jenis_agregasi are declared (rules.indicator), so
every path of ingestion and the dbt defaults is exercised:

- the assessment files of one pemda (``COLUMNS_PEMDA``) carry the three columns on every
  row, in varied spellings the seed indicator_vocabulary knows; the other pemda's do not;
- reference/indikator.csv declares every lower-is-better indicator and the indicators of the
  agencies whose files lack the columns, except ``UNDECLARED`` (left to the defaults, naik /
  terakhir, which is what they are) and ``BY_ASPEK`` (declared by aspek alone: its direction
  follows from aspek waktu);
- truth.json's ``indicators`` section says, per kode_indikator, what it is and how it is
  declared (``declared_by``: columns, reference, aspek or undeclared).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.exports import ASSESSMENT_COLUMNS, ASSESSMENT_COLUMNS_WITH_INDICATOR
from pipelines.generate import catalog
from pipelines.generate.population import Agency
from pipelines.rules.indicator import ATTRIBUTES, LOWER

COLUMNS_PEMDA = "PSP"  # its assessment files carry aspek, arah, jenis_agregasi
# (agency kind, 0-based indicator position) declared nowhere; DISHUB has no agency in the
# pemda whose files carry the columns, and both are percentages (naik, terakhir).
UNDECLARED = frozenset({("DISHUB", 0), ("DISHUB", 3)})
# Declared in the reference by aspek only (arah and jenis_agregasi blank): a time indicator.
BY_ASPEK = frozenset({("DISHUB", 2)})

# Canonical value -> spellings written in the files, all listed in indicator_vocabulary.csv.
SPELLINGS = {
    "kuantitas": ("kuantitas", "Kuantitas"),
    "kualitas": ("kualitas", "KUALITAS"),
    "waktu": ("waktu", "Waktu"),
    "biaya": ("biaya", "Biaya"),
    "naik": ("naik", "Naik", "lebih tinggi lebih baik", "positif"),
    "turun": ("turun", "Turun", "lebih rendah lebih baik", "negatif"),
    "jumlah": ("jumlah", "Jumlah", "kumulatif"),
    "terakhir": ("terakhir", "nilai terakhir", "Terakhir"),
}


def kode(kind: str, k: int) -> str:
    return f"IKI-{kind}-{k + 1:02d}"


def carries_columns(pemda_code: str) -> bool:
    return pemda_code == COLUMNS_PEMDA


def file_columns(pemda_code: str) -> list[str]:
    """The columns of this pemda's assessment files."""
    if carries_columns(pemda_code):
        return list(ASSESSMENT_COLUMNS_WITH_INDICATOR)
    return list(ASSESSMENT_COLUMNS)


def spelled(kind: str, year: int) -> dict[str, list[str]]:
    """The column values of each of the kind's indicators (by position) in a file of
    ``year``: the canonical value in a spelling that changes with the year and indicator."""
    indicators = catalog.INDICATORS[kind]
    return {
        attribute: [
            _spell(getattr(ind, attribute), year + k + j) for k, ind in enumerate(indicators)
        ]
        for j, attribute in enumerate(ATTRIBUTES)
    }


def _spell(value: str, n: int) -> str:
    choices = SPELLINGS[value]
    return choices[n % len(choices)]


def _declared_by(kind: str, k: int, pemda_kinds: dict[str, set[str]]) -> str:
    without_columns = any(
        kind in kinds for pemda, kinds in pemda_kinds.items() if not carries_columns(pemda)
    )
    if (kind, k) in UNDECLARED:
        if any(kind in kinds for p, kinds in pemda_kinds.items() if carries_columns(p)):
            raise ValueError(f"{kode(kind, k)}: an undeclared indicator must not be in columns")
        return "undeclared"
    if (kind, k) in BY_ASPEK:
        return "aspek"
    if catalog.INDICATORS[kind][k].arah == LOWER or without_columns:
        return "reference"
    return "columns"


def _pemda_kinds(agencies: list[Agency]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for agency in agencies:
        kinds.setdefault(agency.pemda_code, set()).add(agency.kind)
    return kinds


def _codes(agencies: list[Agency]) -> list[tuple[str, int]]:
    kinds = {a.kind for a in agencies}
    return [
        (kind, k)
        for kind, indicators in catalog.INDICATORS.items()
        if kind in kinds
        for k in range(len(indicators))
    ]


def reference_frame(agencies: list[Agency]) -> pl.DataFrame:
    """reference/indikator.csv: the indicators declared by the reference, in catalogue
    order; spellings vary a little, and the BY_ASPEK indicator has only its aspek."""
    pemda_kinds = _pemda_kinds(agencies)
    rows = []
    for kind, k in _codes(agencies):
        how = _declared_by(kind, k, pemda_kinds)
        if how not in ("reference", "aspek"):
            continue
        ind = catalog.INDICATORS[kind][k]
        values = [_spell(getattr(ind, a), k + 1 + j) for j, a in enumerate(ATTRIBUTES)]
        if how == "aspek":
            values = [values[0], None, None]
        rows.append([kode(kind, k), *values])
    return pl.DataFrame(
        rows, schema=dict.fromkeys(["kode_indikator", *ATTRIBUTES], pl.String), orient="row"
    )


def declared_indicators(agencies: list[Agency]) -> pl.DataFrame:
    """Every indicator of the agencies, fully declared in canonical spelling (the scenarios'
    reference/indikator.csv)."""
    rows = [
        [kode(kind, k), *(getattr(catalog.INDICATORS[kind][k], a) for a in ATTRIBUTES)]
        for kind, k in _codes(agencies)
    ]
    return pl.DataFrame(
        rows, schema=dict.fromkeys(["kode_indikator", *ATTRIBUTES], pl.String), orient="row"
    )


def truth_section(agencies: list[Agency]) -> dict[str, dict[str, Any]]:
    """kode_indikator -> indikator, satuan, aspek, arah, jenis_agregasi (what it is),
    declared_by and columns_in (the pemda whose files carry the columns for it)."""
    pemda_kinds = _pemda_kinds(agencies)
    section = {}
    for kind, k in _codes(agencies):
        ind = catalog.INDICATORS[kind][k]
        section[kode(kind, k)] = {
            "indikator": ind.indikator,
            "satuan": ind.satuan,
            **{a: getattr(ind, a) for a in ATTRIBUTES},
            "declared_by": _declared_by(kind, k, pemda_kinds),
            "columns_in": sorted(
                p for p, kinds in pemda_kinds.items() if carries_columns(p) and kind in kinds
            ),
        }
    return section
