"""Complementary (secondary) suppression: a group under the publishable minimum stays hidden
even from someone who subtracts published figures from each other, within one table or
across every table that publishes the same people.

The vocabulary is the statistical offices' (τ-ARGUS):

- a **cell** is a group of people of one population in one year, named by attribute values
  (``{gender: P, golongan: IV/d}``); the empty cell is everyone;
- a **relation** says that a cell (the margin) is the sum of its children along one more
  attribute (``IV/d = P x IV/d + L x IV/d``). Every additive figure a table publishes for
  its cells (a count, a count per outcome, a sum of scores behind a mean) obeys the same
  relations, so one pattern of hidden cells protects them all;
- **primary** suppression hides cells with 1..min_group_size-1 people; **secondary**
  suppression hides more cells until no hidden cell can be computed.

Two passes, repeated until neither adds a cell:

1. the *relation rule*: in every relation, the number of hidden members (margin included)
   is 0 or at least 2, and at least 3 when one of two is a singleton (its one member knows
   its value and would subtract it from the pair's sum). The cell added is the smallest
   visible child, a reference group last;
2. the *exact check*, which is also the attacker of the tests: every visible cell is a row
   of a matrix over the population's *atoms* (its finest combinations of attribute values,
   taken from the data, so structural zeros count as known). A hidden cell is recoverable
   exactly when its atom vector lies in the row space of the visible cells; for each hidden
   singleton the check is repeated with that singleton known. The relation rule alone can
   miss chains (two suppressed pairs linked by a bridge), this check cannot.

Cells of linked populations (the same people counted in two tables with different
inclusion rules) share one pattern: a group hidden in one is hidden in the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import linalg

Attrs = tuple[tuple[str, str], ...]
# Above this many matrix entries a block is protected by the relation rule alone.
EXACT_CHECK_LIMIT = 50_000_000
_TOLERANCE = 1e-8
_RELATIVE_TOLERANCE = 1e-9
MAX_ROUNDS = 200


@dataclass(frozen=True, order=True)
class Cell:
    population: str
    tahun: int
    attrs: Attrs

    @staticmethod
    def of(population: str, tahun: int, attrs: Mapping[str, object]) -> Cell | None:
        """The cell, or None when an attribute value is missing (no group to publish)."""
        if any(v is None for v in attrs.values()):
            return None
        return Cell(population, int(tahun), tuple(sorted((k, str(v)) for k, v in attrs.items())))

    @property
    def values(self) -> dict[str, str]:
        return dict(self.attrs)

    def without(self, attribute: str) -> Cell:
        return Cell(self.population, self.tahun, tuple(a for a in self.attrs if a[0] != attribute))


@dataclass
class Population:
    """One population's atoms (finest attribute combinations with their head counts), cut
    into blocks that no published cell spans (e.g. an agency for its raters)."""

    name: str
    atoms: pl.DataFrame  # tahun, attribute columns..., n
    block_by: tuple[str, ...] = ()
    # Margins the attacker knows without a table saying so (the whole population, an agency).
    known_margins: tuple[tuple[str, ...], ...] = ((),)


@dataclass
class Universe:
    populations: dict[str, Population]
    published: set[Cell]  # every cell some table publishes a row for
    # Hidden last: reference groups (other rows compare to them) and groups behind a finding.
    references: set[Cell] = field(default_factory=set)
    primary_extra: set[Cell] = field(default_factory=set)  # hidden by a table's own rule
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Block:
    population: Population
    tahun: int
    key: tuple[str, ...]
    atoms: pl.DataFrame
    cells: list[Cell]  # published cells and known margins of the block
    margins: set[Cell]
    sizes: dict[Cell, int]
    # Each cell's atoms, as row numbers of `atoms`: a block of an agency's raters at 1M
    # employees has 20,000 cells of one atom each, too many for a dense cell x atom matrix.
    members: dict[Cell, np.ndarray]


_NO_ATOMS = np.empty(0, dtype=np.int64)


def _members(atoms: pl.DataFrame, cells: list[Cell]) -> dict[Cell, np.ndarray]:
    """Each cell's atoms, found by grouping the atoms once per set of attributes the cells
    name (not by comparing every atom with every cell)."""
    by_attributes: dict[tuple[str, ...], list[Cell]] = defaultdict(list)
    for cell in cells:
        by_attributes[tuple(a for a, _ in cell.attrs)].append(cell)
    numbered = atoms.with_row_index("_atom")
    members: dict[Cell, np.ndarray] = {}
    for attributes, group in by_attributes.items():
        if any(a not in atoms.columns for a in attributes):
            members |= dict.fromkeys(group, _NO_ATOMS)
            continue
        if not attributes:
            members |= dict.fromkeys(group, np.arange(atoms.height, dtype=np.int64))
            continue
        grouped = numbered.group_by([pl.col(a).cast(pl.String) for a in attributes]).agg("_atom")
        lookup = {
            tuple(row[:-1]): np.asarray(row[-1], dtype=np.int64) for row in grouped.iter_rows()
        }
        for cell in group:
            members[cell] = lookup.get(tuple(v for _, v in cell.attrs), _NO_ATOMS)
    return members


def _block_key(population: Population, cell: Cell) -> tuple[str, ...]:
    values = cell.values
    return tuple(values.get(a, "") for a in population.block_by)


def _blocks(universe: Universe) -> list[_Block]:
    grouped: dict[tuple[str, int, tuple[str, ...]], list[Cell]] = defaultdict(list)
    for cell in universe.published:
        population = universe.populations[cell.population]
        grouped[(cell.population, cell.tahun, _block_key(population, cell))].append(cell)
    blocks = []
    for (name, tahun, key), cells in sorted(grouped.items()):
        population = universe.populations[name]
        atoms = population.atoms.filter(pl.col("tahun") == tahun)
        for attribute, value in zip(population.block_by, key, strict=True):
            atoms = atoms.filter(pl.col(attribute).cast(pl.String) == value)
        by = dict(zip(population.block_by, key, strict=True))
        margins = {
            Cell(name, tahun, tuple((a, by[a]) for a in sorted(m)))
            for m in population.known_margins
        }
        members = sorted(set(cells) | margins)
        counts = atoms["n"].to_numpy().astype(np.int64)
        atoms_of = _members(atoms, members)
        sizes = {c: int(counts[atoms_of[c]].sum()) for c in members}
        blocks.append(_Block(population, tahun, key, atoms, members, margins, sizes, atoms_of))
    return blocks


def _relations(block: _Block) -> list[tuple[Cell, list[Cell]]]:
    """(margin, children along one attribute) for every published cell with a parent."""
    grouped: dict[tuple[Cell, str], list[Cell]] = defaultdict(list)
    members = set(block.cells)
    for cell in block.cells:
        for attribute, _ in cell.attrs:
            parent = cell.without(attribute)
            if parent in members or not parent.attrs:
                grouped[(parent, attribute)].append(cell)
    return [(parent, sorted(children)) for (parent, _), children in sorted(grouped.items())]


def _cost(cell: Cell, block: _Block, references: set[Cell]) -> tuple[bool, int, Cell]:
    return (cell in references, block.sizes.get(cell, 0), cell)


def _relation_pass(
    block: _Block, hidden: set[Cell], references: set[Cell], published: set[Cell]
) -> bool:
    changed = False
    for parent, children in _relations(block):
        while True:
            members = [*children, parent]
            shown_parent = parent in published
            out = [m for m in members if m in hidden]
            singleton = any(block.sizes.get(m, 0) == 1 for m in out)
            if not (len(out) == 1 or (len(out) == 2 and singleton)):
                break
            candidates = [c for c in children if c not in hidden and block.sizes.get(c, 0) > 0]
            if not candidates and shown_parent and parent not in hidden:
                candidates = [parent]
            if not candidates:
                break
            hidden.add(min(candidates, key=lambda c: _cost(c, block, references)))
            changed = True
    return changed


def attacks(
    block: _Block, hidden: set[Cell], published: set[Cell]
) -> list[tuple[Cell, list[Cell]]]:
    """Hidden cells of the block that visible cells determine exactly (also with any one
    hidden singleton known to its member), each with the visible cells its attack uses.

    A visible cell of one atom gives that atom away: its atom is taken out of the matrix
    before the rank test (exactly: the atoms' unit vectors are in the visible span), which
    leaves an agency's raters a matrix of its hidden raters only."""
    visible = [c for c in block.cells if c in published and c not in hidden]
    # A margin no table lists is known as soon as anything of the block is shown.
    known = visible + [c for c in block.margins - published if visible]
    targets = [c for c in block.cells if c in hidden and c in published and block.sizes[c] > 0]
    if not targets or not known:
        return []
    single = {c: int(block.members[c][0]) for c in known if block.members[c].size == 1}
    others = [c for c in known if c not in single]
    row_of = np.zeros(block.atoms.height, dtype=np.int64)
    row_of[list(single.values())] = -1
    rows = np.flatnonzero(row_of == 0)
    if len(others) * rows.size > EXACT_CHECK_LIMIT:
        return []
    row_of[rows] = np.arange(rows.size)
    matrix = _dense(block, others, row_of, rows.size)  # free atoms x known cells
    vectors = _dense(block, targets, row_of, rows.size)  # free atoms x hidden cells
    if matrix.size:
        u, sigma, vt = linalg.svd(matrix, full_matrices=False)
        rank = int((sigma > sigma[0] * 1e-10).sum()) if sigma.size else 0
    else:
        # Every atom given away (or nothing else visible): no free matrix, zero weights.
        u, sigma, vt, rank = np.zeros((rows.size, 0)), np.zeros(0), np.zeros((0, len(others))), 0
    basis = u[:, :rank]
    # Residuals of the hidden cells' vectors off the visible row space: zero = recoverable.
    residuals = vectors - basis @ (basis.T @ vectors)
    squared = (residuals**2).sum(axis=0)
    atom_counts = np.array([block.members[c].size for c in targets], dtype=float)
    tolerance = (_TOLERANCE * np.maximum(1.0, atom_counts)) ** 2
    # Coefficients of the minimum-norm attack on the free atoms: vector = matrix @ weights.
    weights = vt[:rank].T @ ((basis.T @ vectors) / sigma[:rank, None])

    def support(j: int) -> list[Cell]:
        """The visible cells of target j's attack: the weighted cells, then the one-atom
        cells that correct what they leave on the given-away atoms."""
        coefficient = dict(zip(others, weights[:, j], strict=True))
        if single:
            left = np.zeros(block.atoms.height)
            left[block.members[targets[j]]] = 1.0
            for cell, weight in coefficient.items():
                left[block.members[cell]] -= weight
            coefficient |= {c: left[atom] for c, atom in single.items()}
        largest = max((abs(w) for w in coefficient.values()), default=0.0)
        return [
            c for c in known if abs(coefficient[c]) > 1e-7 * max(1.0, largest) and c in published
        ]

    found = {targets[j]: support(j) for j in range(len(targets)) if squared[j] <= tolerance[j]}
    # A singleton's member knows it: adding its (unit) residual u removes (u . r)^2. What is
    # left is |r|^2 sin^2 of the angle between the residuals, a difference of two numbers of
    # the size of |r|^2: it is zero up to rounding relative to |r|^2, not absolutely (the
    # absolute test missed two singletons that give each other away).
    singles = [i for i, c in enumerate(targets) if block.sizes.get(c) == 1 and c not in found]
    if singles:
        units = residuals[:, singles] / np.sqrt(squared[singles])
        left = squared[None, :] - (units.T @ residuals) ** 2
        zero = np.maximum(tolerance, _RELATIVE_TOLERANCE * squared)
        for row, i in enumerate(singles):
            for j, cell in enumerate(targets):
                if j != i and cell not in found and left[row, j] <= zero[j]:
                    found[cell] = support(j) + [targets[i]]
    return sorted(found.items())


def _dense(block: _Block, cells: list[Cell], row_of: np.ndarray, n_rows: int) -> np.ndarray:
    """0/1 matrix of the cells over the atoms still free (row_of[atom] >= 0)."""
    matrix = np.zeros((n_rows, len(cells)))
    for j, cell in enumerate(cells):
        rows = row_of[block.members[cell]]
        matrix[rows[rows >= 0], j] = 1.0
    return matrix


def recoverable(block: _Block, hidden: set[Cell], published: set[Cell]) -> list[Cell]:
    return [cell for cell, _ in attacks(block, hidden, published)]


def _exact_pass(
    block: _Block, hidden: set[Cell], references: set[Cell], published: set[Cell]
) -> bool:
    """Hide, for each attack, the cheapest visible cell it uses; an attack already broken by
    a cell hidden in this pass waits for the next check."""
    before = set(hidden)
    for _, used in attacks(block, hidden, published):
        if any(c in hidden and c not in before for c in used):
            continue
        candidates = [c for c in used if c not in hidden and block.sizes.get(c, 0) > 0]
        if candidates:
            hidden.add(min(candidates, key=lambda c: _cost(c, block, references)))
    return len(hidden) > len(before)


def pattern(universe: Universe, min_group_size: int) -> set[Cell]:
    """The cells to hide: primary (1..min_group_size-1 people, or hidden by a table's own
    rule) and secondary (module doc), closed over linked populations."""
    blocks = _blocks(universe)
    hidden: set[Cell] = set(universe.primary_extra)
    for block in blocks:
        hidden |= {
            c
            for c in block.cells
            if c in universe.published and 0 < block.sizes[c] < min_group_size
        }
    for _ in range(MAX_ROUNDS):
        changed = _link(universe, hidden)
        for block in blocks:
            changed |= _relation_pass(block, hidden, universe.references, universe.published)
        if not changed:
            for block in blocks:
                changed |= _exact_pass(block, hidden, universe.references, universe.published)
        if not changed:
            return {c for c in hidden if c in universe.published}
    # Not settled: hide every cell of a block an attacker still opens (never publish them).
    for block in blocks:
        if recoverable(block, hidden, universe.published):
            hidden.update(c for c in block.cells if c in universe.published)
    _link(universe, hidden)
    return {c for c in hidden if c in universe.published}


def _link(universe: Universe, hidden: set[Cell]) -> bool:
    added = set()
    for first, second in universe.links:
        for cell in list(hidden):
            for a, b in ((first, second), (second, first)):
                if cell.population == a:
                    twin = Cell(b, cell.tahun, cell.attrs)
                    if twin in universe.published and twin not in hidden:
                        added.add(twin)
    hidden |= added
    return bool(added)


def exposed_cells(universe: Universe, hidden: Iterable[Cell]) -> list[Cell]:
    """Hidden cells an attacker recovers from the visible ones (empty when the pattern
    protects): the check the tests run over the published tables."""
    hidden = set(hidden)
    return [c for b in _blocks(universe) for c in recoverable(b, hidden, universe.published)]
