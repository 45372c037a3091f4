"""Complementary suppression on hand-built tables: the pattern itself (which cells hide which)
and the attacks it must stop, each worked out by hand."""

from __future__ import annotations

import polars as pl

from pipelines.analysis import differencing
from pipelines.analysis.disclosure import Cell, Population, Universe, _blocks, pattern, recoverable

YEAR = 2025


def _cell(population: str = "year", **attrs: str) -> Cell:
    cell = Cell.of(population, YEAR, attrs)
    assert cell is not None
    return cell


def _population(
    name: str, counts: dict[tuple[str, ...], int], columns: list[str], **kw
) -> Population:
    rows = [dict(zip(columns, key, strict=True)) | {"n": n} for key, n in counts.items()]
    atoms = pl.DataFrame(rows).with_columns(tahun=pl.lit(YEAR, pl.Int32))
    return Population(name, atoms, **kw)


# gender x golongan, the issue's case: L x IV/d has 2 people.
GRID = {
    ("P", "III/a"): 10, ("L", "III/a"): 12,
    ("P", "III/b"): 8, ("L", "III/b"): 6,
    ("P", "IV/d"): 5, ("L", "IV/d"): 2,
}  # fmt: skip


def _grid_universe(counts: dict[tuple[str, ...], int] = GRID) -> Universe:
    population = _population("year", counts, ["gender", "golongan"])
    published = {_cell(gender=g) for g in "PL"}
    published |= {_cell(golongan=x) for _, x in counts}
    published |= {_cell(gender=g, golongan=x) for g, x in counts}
    return Universe({"year": population}, published)


def test_the_issues_case_hides_the_corners_of_a_rectangle() -> None:
    # L x IV/d (2) is primary. IV/d = P x IV/d + L x IV/d hides P x IV/d (5); then the men's
    # row and the women's row each need a second hidden cell: their smallest other golongan,
    # L x III/b (6) and P x III/b (8). The four form a rectangle: every row and column sum
    # leaves two unknowns, and the margins (P, L, IV/d, III/b) stay published.
    hidden = pattern(_grid_universe(), min_group_size=5)
    assert hidden == {
        _cell(gender="L", golongan="IV/d"),
        _cell(gender="P", golongan="IV/d"),
        _cell(gender="L", golongan="III/b"),
        _cell(gender="P", golongan="III/b"),
    }


def test_primary_suppression_alone_is_undone_by_subtraction() -> None:
    # What the warehouse published before: only L x IV/d hidden. IV/d (7) - P x IV/d (5) = 2.
    universe = _grid_universe()
    only_primary = {_cell(gender="L", golongan="IV/d")}
    (block,) = _blocks(universe)
    assert recoverable(block, only_primary, universe.published) == sorted(only_primary)

    seen = differencing.Published()
    sizes = {c: block.sizes[c] for c in block.cells}
    for cell in universe.published:
        seen.see(cell, None if cell in only_primary else sizes[cell])
    assert differencing.attack(seen, lambda c: sizes.get(c, -1)) == {
        _cell(gender="L", golongan="IV/d"): 2
    }


def test_the_protected_pattern_survives_the_subtraction_attacker() -> None:
    universe = _grid_universe()
    hidden = pattern(universe, min_group_size=5)
    (block,) = _blocks(universe)
    seen = differencing.Published()
    for cell in universe.published:
        seen.see(cell, None if cell in hidden else block.sizes[cell])
    assert differencing.attack(seen, lambda c: block.sizes.get(c, -1)) == {}
    assert recoverable(block, hidden, universe.published) == []


def test_a_singleton_knows_its_own_value_and_would_subtract_it() -> None:
    # L x IV/d is one person; the rectangle of the previous test leaves two unknowns per
    # relation, but that person knows the 1 and reads P x IV/d = IV/d (7) - 1 = 6, then the
    # rest of the rectangle from the row sums.
    counts = GRID | {("P", "IV/d"): 6, ("L", "IV/d"): 1}
    universe = _grid_universe(counts)
    (block,) = _blocks(universe)
    pair = {_cell(gender="L", golongan="IV/d"), _cell(gender="P", golongan="IV/d")}
    pair |= {_cell(gender="L", golongan="III/b"), _cell(gender="P", golongan="III/b")}
    assert recoverable(block, pair, universe.published) == sorted(
        pair - {_cell(gender="L", golongan="IV/d")}
    )
    # The pattern hides a third cell of IV/d's relation: its margin (it has no other child).
    hidden = pattern(universe, min_group_size=5)
    assert _cell(golongan="IV/d") in hidden
    assert recoverable(block, hidden, universe.published) == []


def test_the_exact_check_finds_a_bridge_the_two_per_relation_rule_misses() -> None:
    # A 4 x 4 table with two hidden 2 x 2 blocks joined by one hidden cell (r2, c3): every
    # row and column has at least two hidden cells, yet the hidden cells of rows r1+r2 are
    # block 1 plus the bridge and those of columns c1+c2 are block 1 alone, so
    # bridge = (r1 + r2 hidden total) - (c1 + c2 hidden total).
    counts = {(f"r{i}", f"c{j}"): 10 + i + j for i in range(1, 5) for j in range(1, 5)}
    population = _population("t", counts, ["row", "col"])
    published = {_cell("t", row=r, col=c) for r, c in counts}
    published |= {_cell("t", row=f"r{i}") for i in range(1, 5)}
    published |= {_cell("t", col=f"c{j}") for j in range(1, 5)}
    universe = Universe({"t": population}, published)
    block1 = {("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")}
    block2 = {("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4")}
    hidden = {_cell("t", row=r, col=c) for r, c in block1 | block2 | {("r2", "c3")}}
    (block,) = _blocks(universe)
    assert recoverable(block, hidden, universe.published) == [_cell("t", row="r2", col="c3")]


def test_a_lone_small_rater_takes_the_smallest_other_rater_but_not_a_finding() -> None:
    # Agency A: raters of 3 (primary), 8, 20 and 30 ratees; the agency's total is shown by
    # every visible rater's reference. Hiding r3 alone gives r3 = total - 58.
    counts = {("A", "r3"): 3, ("A", "r8"): 8, ("A", "r20"): 20, ("A", "r30"): 30}
    population = _population(
        "rater", counts, ["kode_opd", "penilai_key"], block_by=("kode_opd",),
        known_margins=(("kode_opd",),),
    )  # fmt: skip
    published = {_cell("rater", kode_opd="A", penilai_key=r) for _, r in counts}
    universe = Universe({"rater": population}, published)
    assert pattern(universe, 5) == {
        _cell("rater", kode_opd="A", penilai_key="r3"),
        _cell("rater", kode_opd="A", penilai_key="r8"),
    }
    # r8 was found lenient: the next smallest rater hides instead.
    universe.references = {_cell("rater", kode_opd="A", penilai_key="r8")}
    assert pattern(universe, 5) == {
        _cell("rater", kode_opd="A", penilai_key="r3"),
        _cell("rater", kode_opd="A", penilai_key="r20"),
    }


def test_linked_populations_hide_the_same_groups() -> None:
    # The self-assessment population lacks two men of III/a; a group hidden in one table is
    # hidden in the other, whatever its own size there.
    gaps = GRID | {("L", "III/a"): 10}
    year = _population("year", GRID, ["gender", "golongan"])
    gap = _population("gap", gaps, ["gender", "golongan"])
    published = set()
    for name, counts in (("year", GRID), ("gap", gaps)):
        published |= {_cell(name, gender=g, golongan=x) for g, x in counts}
        published |= {_cell(name, golongan=x) for _, x in counts}
        published |= {_cell(name, gender=g) for g in "PL"}
    universe = Universe({"year": year, "gap": gap}, published, links=[("year", "gap")])
    hidden = pattern(universe, 5)
    as_groups = {
        name: {c.attrs for c in hidden if c.population == name} for name in ("year", "gap")
    }
    assert as_groups["year"] == as_groups["gap"]
    assert (("gender", "L"), ("golongan", "IV/d")) in as_groups["year"]


def _rank_oracle(block, hidden: set[Cell], published: set[Cell]) -> list[Cell]:
    """Recoverable hidden cells by plain ranks over the dense atom vectors: t is recoverable
    when rank(visible) == rank(visible + t), or so with one hidden singleton added."""
    import numpy as np

    atoms = block.atoms

    def vector(cell: Cell) -> np.ndarray:
        mask = np.ones(atoms.height, dtype=bool)
        for attribute, value in cell.attrs:
            mask &= atoms[attribute].cast(pl.String).to_numpy() == value
        return mask.astype(float)

    visible = [c for c in block.cells if c in published and c not in hidden]
    known = visible + [c for c in block.margins - published if visible]
    targets = [c for c in block.cells if c in hidden and c in published and block.sizes[c] > 0]

    def rank(cells: list[Cell]) -> int:
        return int(np.linalg.matrix_rank(np.stack([vector(c) for c in cells]))) if cells else 0

    base = rank(known)
    found = {t for t in targets if known and rank([*known, t]) == base}
    singletons = [s for s in targets if block.sizes[s] == 1 and s not in found]
    for s in singletons:
        with_s = rank([*known, s])
        found |= {t for t in targets if t != s and known and rank([*known, s, t]) == with_s}
    return sorted(found)


def test_the_exact_check_agrees_with_plain_ranks_on_random_tables() -> None:
    # Random 3 x 4 x 2 tables, every margin and child published, cells of one atom
    # (which the check takes out of the matrix) and singletons included; random hidden sets.
    import random

    rng = random.Random(11)
    checked = hidden_cells = recovered = 0
    for _ in range(60):
        counts = {
            (f"a{i}", f"b{j}", f"c{k}"): rng.choice([1, 1, 2, 3, 7, 12])
            for i in range(3)
            for j in range(4)
            for k in range(2)
            if rng.random() < 0.8
        }
        population = _population("r", counts, ["a", "b", "c"])
        published = {
            _cell("r", **{n: v for n, v in zip("abc", key, strict=True) if n in names})
            for key in counts
            for names in ("a", "b", "c", "ab", "ac", "bc", "abc")
        }
        universe = Universe({"r": population}, published)
        (block,) = _blocks(universe)
        cells = sorted(published)
        hidden = set(rng.sample(cells, rng.randint(1, 3 * len(cells) // 4)))
        expected = _rank_oracle(block, hidden, published)
        assert recoverable(block, hidden, published) == expected
        checked += 1
        hidden_cells += len([c for c in hidden if block.sizes[c] > 0])
        recovered += len(expected)
    assert checked == 60 and 0 < recovered < hidden_cells  # both outcomes occur


def _published(known: dict[Cell, int], hidden: list[Cell]) -> differencing.Published:
    seen = differencing.Published()
    for cell, n in known.items():
        seen.see(cell, n)
    for cell in hidden:
        seen.see(cell, None)
    return seen


def test_a_recovered_group_discloses_only_when_it_or_its_rest_is_small() -> None:
    """The hand folder's case first: agency B has 6 people, all aged 30-39. B's 30-39 cell
    was hidden to break a subtraction about agency A; B's total (6) gives it away, but it is
    6 people with an empty rest: nobody small. Then B's 30-39 recovered across agencies
    (all 30-39 minus A's 5): 6 people of 8 in B leave a rest of 2 (disclosed), of 20 a rest
    of 14 (not); and 3 people aged 30-39 are a small group themselves."""
    b_total, b_group = _cell(kode_opd="B"), _cell(kode_opd="B", age_band="30-39")
    a_group, all_group = _cell(kode_opd="A", age_band="30-39"), _cell(age_band="30-39")
    cases = [
        # known cells, B's 30-39, disclosed
        ({b_total: 6}, 6, False),
        ({b_total: 8, all_group: 11, a_group: 5}, 6, True),
        ({b_total: 20, all_group: 11, a_group: 5}, 6, False),
        ({b_total: 20, all_group: 8, a_group: 5}, 3, True),
    ]
    for known, n, disclosed in cases:
        seen = _published(known, [b_group])
        sizes = {**known, b_group: n}
        recovered = differencing.attack(seen, lambda c, sizes=sizes: sizes.get(c, -1))
        assert recovered == {b_group: n}, known
        expected = {b_group: n} if disclosed else {}
        assert differencing.disclosures(seen, recovered, min_group_size=5) == expected, known
    # a complement counts only within the same population and year
    other_year = Cell.of("year", YEAR + 1, {"kode_opd": "B"})
    assert other_year is not None
    seen = _published({other_year: 8}, [b_group])
    assert differencing.disclosures(seen, {b_group: 6}, min_group_size=5) == {}


def test_the_findings_small_group_rule_ignores_an_empty_reference() -> None:
    """A reference of 0 (an agency's only rater) is nobody; a reference of 2 is a small group."""
    import duckdb

    from pipelines.analysis.tables import SMALL_PUBLISHED

    con = duckdb.connect()
    con.execute("create schema analysis")
    con.execute(
        "create table analysis.findings as select * from (values "
        "('rater', 'not_assessable', 6, 0), ('rater', 'no_finding', 6, 2), "
        "('group_disparity', 'no_finding', 4, 9), ('group_disparity', 'suppressed', 1, 1), "
        "('trend', 'no_finding', 2, 2), ('indicator', 'no_finding', 5, 5)) "
        "t(family, verdict, n, n_reference)"
    )
    flagged = con.execute(
        f"select family, n, n_reference from ({SMALL_PUBLISHED['findings']}) order by all", [5]
    ).fetchall()
    assert flagged == [("group_disparity", 4, 9), ("rater", 6, 2)]
