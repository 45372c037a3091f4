"""SKM (PermenPANRB 14/2017) rules for Python, read from the dbt seeds dbt loads too.

Elements, as ``skm_elements.csv`` defines them: ingestion renames an export's answer columns
to the canonical elements u1..u9, so the seed is read here: dbt loads the same file into
``reference.skm_elements``. Exports either name the elements in their header (matched by
element name or synonym, in any order) or number them u1..u9, in which case the seed's
``element_order`` says which column holds which element.

The index and its grades: ``skm_index`` is the Python twin of dbt's ``skm_index`` macro
(dbt_project/macros/domain.sql), and the grade bands come from ``ikm_grades.csv``, the seed
the marts grade with, so a chart's bands never disagree with the marts' ``ikm_grade``. See
docs/domain.md, 'SKM index'.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from pipelines.exports import SKM_ELEMENTS, SURVEY_COLUMNS
from pipelines.rules.headers import canonical_header
from pipelines.settings import DBT_PROJECT_DIR

SEED = DBT_PROJECT_DIR / "seeds" / "skm_elements.csv"
GRADES_SEED = DBT_PROJECT_DIR / "seeds" / "ikm_grades.csv"
# Element averages (NRR) as the marts and int_survey_unit_quarter name them.
NRR_COLUMNS = [f"nrr_{u}" for u in SKM_ELEMENTS]
SYNONYM_SEPARATOR = "|"
# Punctuation inside element names ("Biaya/Tarif"): exports space it in every way.
_PUNCTUATION = re.compile(r"\s*([,/&-])\s*")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Element:
    unsur: str  # canonical element code u1..u9 (mart column nrr_<unsur>)
    name: str
    order: int  # an export numbering its answers u1..u9 holds this element in u<order>
    headers: tuple[str, ...]  # canonical headers that name this element

    @property
    def positional_column(self) -> str:
        return f"u{self.order}"


def header_spellings(name: str) -> list[str]:
    """Canonical headers (headers.canonical_header) a name may arrive as: any case and
    whitespace, and punctuation written tight, followed by a space or spaced both sides."""
    forms = [name, *(_PUNCTUATION.sub(r, name) for r in (r"\1", r"\1 ", r" \1 "))]
    return list(dict.fromkeys(canonical_header(form) for form in forms))


def read_elements(path: Path = SEED) -> tuple[Element, ...]:
    """The seed's elements in canonical order; ValueError when it would map ambiguously."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codes = [row["unsur"].strip() for row in rows]
    if sorted(codes) != sorted(SKM_ELEMENTS):
        raise ValueError(f"{path}: unsur must be u1..u9 once each, got {codes}")
    orders = [int(row["element_order"]) for row in rows]
    if sorted(orders) != list(range(1, 10)):
        raise ValueError(f"{path}: element_order must use 1..9 once each, got {orders}")
    elements = []
    taken: dict[str, str] = {c: f"the survey column {c}" for c in SURVEY_COLUMNS}
    for code, order, row in zip(codes, orders, rows, strict=True):
        names = [row["element_name"], *(row.get("synonyms") or "").split(SYNONYM_SEPARATOR)]
        headers = []
        for header in (h for n in names if n.strip() for h in header_spellings(n)):
            if taken.setdefault(header, code) != code:
                raise ValueError(f"{path}: header '{header}' names {taken[header]} and {code}")
            headers.append(header)
        name = row["element_name"].strip()
        elements.append(Element(code, name, order, tuple(dict.fromkeys(headers))))
    return tuple(sorted(elements, key=lambda e: SKM_ELEMENTS.index(e.unsur)))


@cache
def seed_elements() -> tuple[Element, ...]:
    return read_elements()


def named_headers(elements: tuple[Element, ...]) -> list[str]:
    """Every header that names an element, for the reader to keep."""
    return [h for e in elements for h in e.headers]


def to_canonical_elements(frame: pl.DataFrame, elements: tuple[Element, ...]) -> pl.DataFrame:
    """Answer columns u1..u9 holding the canonical elements, element-named columns dropped.

    Per file: a file with answers in numbered columns u1..u9 is read by the seed's order
    (u<element_order> holds the element), whatever other columns it has (a "Waktu" column
    beside them may be a timestamp); any other file is read by element name (the first of
    an element's names present, in seed order).
    """
    named = [h for h in named_headers(elements) if h in frame.columns]
    numbered = [u for u in SKM_ELEMENTS if u in frame.columns]
    by_name = ~_file_has_values(numbered) & _file_has_values(named)
    missing = pl.lit(None, dtype=pl.String)
    mapped = []
    for element in elements:
        present = [h for h in element.headers if h in frame.columns]
        from_name = pl.coalesce(*present, missing) if present else missing
        column = element.positional_column
        from_order = pl.col(column) if column in frame.columns else missing
        mapped.append(pl.when(by_name).then(from_name).otherwise(from_order).alias(element.unsur))
    if named and frame.height:
        _warn_unnamed_elements(frame.filter(by_name), elements, named)
    return frame.with_columns(mapped).drop(named)


def _file_has_values(columns: list[str]) -> pl.Expr:
    """Per row: whether any row of its file has a value in any of ``columns``."""
    if not columns:
        return pl.lit(False)
    return pl.any_horizontal(pl.col(c).is_not_null() for c in columns).any().over("source_file")


def _warn_unnamed_elements(
    frame: pl.DataFrame, elements: tuple[Element, ...], named: list[str]
) -> None:
    """A file read by name without any answer for some element probably spells that
    element's header in a way the seed does not list (such a column is not read)."""
    has_value = [
        pl.any_horizontal(pl.col(h).is_not_null() for h in e.headers if h in named)
        .any()
        .alias(e.unsur)
        for e in elements
        if any(h in named for h in e.headers)
    ]
    for row in frame.group_by("source_file").agg(has_value).iter_rows(named=True):
        absent = [f"{e.unsur} ({e.name})" for e in elements if not row.get(e.unsur)]
        if absent:
            log.warning(
                "%s names its SKM elements but has no answer for %s: if its header calls "
                "them otherwise, add that name to synonyms in %s",
                row["source_file"],
                ", ".join(absent),
                SEED.relative_to(DBT_PROJECT_DIR.parent),
            )


def skm_index() -> pl.Expr:
    """The SKM index (IKM, 25..100) from the columns nrr_u1..nrr_u9: the mean of the nine
    element averages (NRR) times 25, PermenPANRB 14/2017 (docs/domain.md, 'SKM index').
    Unrounded: dbt's ``skm_index`` macro rounds the published mart figure to two decimals;
    analysis and charts keep full precision. An element without an NRR (nobody answered it)
    leaves the index missing, as in dbt: the regulation's index needs all nine elements."""
    return pl.sum_horizontal(NRR_COLUMNS, ignore_nulls=False) / len(NRR_COLUMNS) * 25


@dataclass(frozen=True)
class Grade:
    """One IKM quality grade (mutu pelayanan): its letter, name and index interval."""

    grade: str
    label: str
    min_index: float
    max_index: float


def read_grades(path: Path = GRADES_SEED) -> tuple[Grade, ...]:
    """The seed's grades, best first; ValueError when an interval is inverted or two
    overlap (an index would then have two grades)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    grades = sorted(
        (
            Grade(
                row["grade"].strip(),
                row["label"].strip(),
                float(row["min_index"]),
                float(row["max_index"]),
            )
            for row in rows
        ),
        key=lambda g: g.min_index,
        reverse=True,
    )
    if not grades:
        raise ValueError(f"{path}: no grades")
    for grade in grades:
        if grade.min_index > grade.max_index:
            raise ValueError(f"{path}: grade {grade.grade} has min_index above max_index")
    for better, worse in zip(grades, grades[1:], strict=False):
        if worse.max_index >= better.min_index:
            raise ValueError(f"{path}: grades {better.grade} and {worse.grade} overlap")
    return tuple(grades)


@cache
def seed_grades() -> tuple[Grade, ...]:
    """The grades of the project's seed, read once per process."""
    return read_grades()
