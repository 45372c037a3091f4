"""The differencing attacker: what a reader can recover of the hidden groups from published
figures alone, by the subtractions statistical offices test for (a margin minus its
published children; the total minus the other groups; an agency minus its other raters),
chained until nothing more follows.

It reads only what is published (the counts of each table, the keys of hidden rows) and
knows nothing of the protection's own reasoning, so it checks ``protection`` from outside:
the asset checks run it over the warehouse and the tests over both extracts. A candidate
value is a *recovery* only when it equals the group's true size, which the caller supplies
(``truth``): a subtraction over groups that do not add up (employees without a golongan,
say) recovers nothing.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.analysis import difficulty, disparity, protection
from pipelines.analysis.disclosure import Cell


@dataclass
class Published:
    """Counts a reader sees, and the groups listed as hidden (keys without figures)."""

    known: dict[Cell, int] = field(default_factory=dict)
    hidden: set[Cell] = field(default_factory=set)
    listed: set[Cell] = field(default_factory=set)  # every group a table names
    # (margin, [parts]) sums a row states outright: subject + "lainnya" = the scope.
    sums: list[tuple[Cell, list[Cell]]] = field(default_factory=list)

    def see(self, cell: Cell | None, n: object) -> None:
        if cell is None:
            return
        self.listed.add(cell)
        if n is None:
            self.hidden.add(cell)
        else:
            self.known.setdefault(cell, int(n))  # type: ignore[call-overload]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables")
    return {r[0] for r in rows.fetchall()}


def read_published(con: duckdb.DuckDBPyConnection, into: Published | None = None) -> Published:
    """Every count of the fairness tables and findings that this database publishes."""
    seen = into or Published()
    present = _tables(con)

    def rows(table: str) -> Iterable[dict]:
        if table not in present:
            return []
        return con.execute(f"select * from {table}").pl().iter_rows(named=True)

    year, gap = protection.EMPLOYEE_YEAR, protection.GAP
    for row in rows("analysis.fairness_group_rates"):
        seen.see(
            protection.group_cell(year, row["tahun"], row["dimension"], row["group_value"]),
            row["n"],
        )
    totals: dict[Cell, int | None] = {}
    for row in rows("analysis.fairness_distribution"):
        cell = protection.group_cell(year, row["tahun"], row["dimension"], row["group_value"])
        if cell is not None:
            before = totals.get(cell, 0)
            totals[cell] = None if row["n"] is None or before is None else before + row["n"]
    for cell, n in totals.items():
        seen.see(cell, n)
    for row in rows("analysis.self_gap_by_group"):
        seen.see(
            protection.group_cell(gap, row["tahun"], row["dimension"], row["group_value"]), row["n"]
        )
    for row in rows("analysis.indicator_fairness"):
        scope = {"kode_opd": row["kode_opd"], "kode_indikator": row["kode_indikator"]}
        tahun = row["tahun"]
        seen.see(
            protection.group_cell(
                protection.INDICATOR, tahun, "gender", row["group_value"], **scope
            ),
            row["n"],
        )
        if row["reference_group"] is not None:
            reference = protection.group_cell(
                protection.INDICATOR, tahun, "gender", row["reference_group"], **scope
            )
            seen.see(reference, row["n_reference"])
    # An agency's yearly mart row counts (about) the same employee-years as its kode_opd group.
    for row in rows("marts.mart_agency_year"):
        agency = Cell.of(year, row["tahun"], {"kode_opd": row["kode_opd"]})
        seen.see(agency, row["n_assessed"] if row["n_sangat_baik"] is not None else None)
    _read_raters(list(rows("analysis.rater_effects")), seen)
    for row in rows("analysis.findings"):
        _read_finding(row, seen)
    return seen


def _read_raters(rows: list[dict], seen: Published) -> None:
    """A visible rater shows its agency's total: its own ratees, its reference (the other
    raters) and the raters left out of the reference."""
    by_agency: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_agency[(row["tahun"], row["kode_opd"])].append(row)
        cell = Cell.of(
            protection.RATER,
            row["tahun"],
            {"kode_opd": row["kode_opd"], "penilai_key": row["penilai_key"]},
        )
        seen.see(cell, row["n_ratees"])
    for (tahun, kode), agency in by_agency.items():
        excluded = [r for r in agency if r["excluded_from_reference"] and r["n_ratees"] is not None]
        for row in agency:
            if row["n_ratees"] is None or row["n_reference"] is None:
                continue
            left_out = sum(r["n_ratees"] for r in excluded if r is not row)
            total = row["n_ratees"] + row["n_reference"] + left_out
            seen.known.setdefault(Cell.of(protection.RATER, tahun, {"kode_opd": kode}), total)
            break


def _read_finding(row: dict, seen: Published) -> None:
    family, tahun = row["family"], row["tahun"]
    if tahun is None:
        return
    scope = {"kode_opd": row["kode_opd"]} if row["kode_opd"] is not None else {}
    if family in ("group_disparity", "conditional_rating"):
        dimension = str(row["dimension"])
        subject = protection.group_cell(
            protection.EMPLOYEE_YEAR, tahun, dimension, row["subject"], **scope
        )
        seen.see(subject, row["n"])
        if row["reference"] == disparity.REST:
            scope_cell = Cell.of(protection.EMPLOYEE_YEAR, tahun, scope)
            if subject is not None and scope_cell is not None and row["n"] is not None:
                seen.known.setdefault(scope_cell, row["n"] + row["n_reference"])
        elif dimension != "kode_opd":
            reference = protection.group_cell(
                protection.EMPLOYEE_YEAR, tahun, dimension, row["reference"], **scope
            )
            seen.see(reference, row["n_reference"])
    elif family == "rater":
        seen.see(
            Cell.of(protection.RATER, tahun, {**scope, "penilai_key": row["subject"]}), row["n"]
        )
    elif family == "indicator":
        base = {**scope, "kode_indikator": row["subject"]}
        seen.see(Cell.of(protection.INDICATOR, tahun, base | {"gender": "P"}), row["n"])
        seen.see(Cell.of(protection.INDICATOR, tahun, base | {"gender": "L"}), row["n_reference"])
    elif family == "indicator_difficulty":
        jabatan = difficulty.jabatan_of(str(row["reference"]))
        base = {**scope, "kode_indikator": row["subject"], "jenis_jabatan": jabatan}
        seen.see(Cell.of(protection.INDICATOR, tahun, base), row["n"])


def _relations(seen: Published) -> list[tuple[Cell, list[Cell]]]:
    """margin = sum of its listed children along one attribute, for every listed group."""
    grouped: dict[tuple[Cell, str], list[Cell]] = defaultdict(list)
    for cell in seen.listed | set(seen.known):
        for attribute, _ in cell.attrs:
            grouped[(cell.without(attribute), attribute)].append(cell)
    return [(margin, children) for (margin, _), children in grouped.items()] + seen.sums


def attack(seen: Published, truth: Callable[[Cell], int]) -> dict[Cell, int]:
    """Hidden groups whose true size subtraction recovers (chained to a fixpoint)."""
    values = dict(seen.known)
    relations = _relations(seen)
    recovered: dict[Cell, int] = {}
    progress = True
    while progress:
        progress = False
        for margin, children in relations:
            members = [margin, *children]
            unknown = [m for m in members if m not in values]
            if len(unknown) != 1:
                continue
            target = unknown[0]
            parts = sum(values[c] for c in children if c != target)
            value = values[margin] - parts if target != margin else parts
            if value != truth(target):
                continue  # the groups do not add up (or a margin is unlisted): nothing learned
            values[target] = value
            progress = True
            if target in seen.hidden:
                recovered[target] = value
    return recovered


def disclosures(
    seen: Published, recovered: dict[Cell, int], min_group_size: int
) -> dict[Cell, int]:
    """The recovered groups that give a small group away: the group itself has 1 to
    min_group_size - 1 members, or so has its complement in a coarser group the reader knows
    (an agency's "lainnya": the agency minus it). A recovered group whose every known
    complement is empty or large names no small group: it was hidden to break another
    subtraction, and the chained attack above would have gone on to any small one."""
    values = {**seen.known, **recovered}
    found = {}
    for cell, n in recovered.items():
        attrs = set(cell.attrs)
        complements = (
            total - n
            for coarse, total in values.items()
            if coarse.population == cell.population
            and coarse.tahun == cell.tahun
            and set(coarse.attrs) < attrs
        )
        if 0 < n < min_group_size or any(0 < rest < min_group_size for rest in complements):
            found[cell] = n
    return found


def truth_sizes(populations: dict[str, protection.Population]) -> Callable[[Cell], int]:
    """The true size of any cell, from the populations' atoms (the warehouse's own data):
    the atoms are summed once per population, year and set of attributes, not per cell."""

    @functools.cache
    def sums(population: str, tahun: int, attributes: tuple[str, ...]) -> dict[tuple, int]:
        atoms = populations[population].atoms.filter(pl.col("tahun") == tahun)
        if not attributes:
            return {(): int(atoms["n"].sum())}
        grouped = atoms.group_by(list(attributes)).agg(pl.col("n").sum())
        return {tuple(row[:-1]): int(row[-1]) for row in grouped.iter_rows()}

    def size(cell: Cell) -> int:
        if any(a not in populations[cell.population].atoms.columns for a, _ in cell.attrs):
            return -1
        attributes = tuple(a for a, _ in cell.attrs)
        return sums(cell.population, cell.tahun, attributes).get(tuple(cell.values.values()), 0)

    return size
