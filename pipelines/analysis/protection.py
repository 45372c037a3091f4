"""Which groups of people each fairness table and each findings row publishes, and hiding
the rows of the cells that complementary suppression (``disclosure``) chose.

The populations:

- ``employee_year``: one employee-year (``fairness.year_outcomes``). fairness_group_rates,
  fairness_distribution, the group_disparity and conditional_rating findings (pooled and per
  agency) publish its cells; a findings row "X vs lainnya" publishes X and, through the
  scope's total, the rest.
- ``employee_year_gap``: the employee-years with a self-assessment (self_gap_by_group).
  Linked to ``employee_year``: a group hidden in one is hidden in the other.
- ``rater``: (rater, ratee) pairs of an agency-year (rater_effects, rater findings); every
  row also shows the agency's total through its reference, so the agency is a known margin.
- ``indicator``: employees holding an indicator in an agency-year, by gender
  (indicator_fairness, the indicator findings) and by position type (indicator_difficulty).

A row is hidden when any cell it publishes is hidden (a comparison row shows both sides).
An agency compared with its peer agencies shows their sum: when any agency of the year is
hidden those rows are hidden too. Hidden rows keep their keys, carry no figure and are
marked ``suppressed``; BH is recomputed over the tests left, so no adjusted p-value counts a
hidden test.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from statsmodels.stats.multitest import multipletests

from pipelines.analysis import difficulty, disparity, fairness, findings, indicator_fairness, raters
from pipelines.analysis.disclosure import Cell, Population, Universe, pattern

EMPLOYEE_YEAR, GAP, RATER, INDICATOR = "employee_year", "employee_year_gap", "rater", "indicator"
ATTRIBUTES = ["kode_opd", "gender", "golongan", "age_band", "jenis_jabatan"]
SECONDARY_REASON = (
    "Disembunyikan: angka ini bersama angka lain yang dipublikasikan akan membuka kelompok "
    "kurang dari {n} orang (penyembunyian sekunder)."
)
# Columns that name a row (kept when it is hidden); everything else is a figure.
KEYS = {
    "fairness_group_rates": ("tahun", "dimension", "group_value", "outcome"),
    "fairness_distribution": ("tahun", "dimension", "group_value", "predikat"),
    "self_gap_by_group": ("tahun", "dimension", "group_value"),
    "indicator_fairness": (
        "tahun", "kode_opd", "kode_indikator", "dimension", "group_value", "reference_group",
    ),
    "rater_effects": ("tahun", "kode_opd", "penilai_key", "excluded_from_reference"),
}  # fmt: skip


def _atoms(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return (
        frame.select(pl.col("tahun").cast(pl.Int32), *[pl.col(c).cast(pl.String) for c in columns])
        .group_by("tahun", *columns)
        .len("n")
        .sort("tahun", *columns, nulls_last=True)  # one matrix, whatever the input order
    )


def populations(
    employee_period: pl.DataFrame, indicator_year: pl.DataFrame
) -> dict[str, Population]:
    years = fairness.year_outcomes(employee_period)
    gaps = indicator_fairness.employee_year_gaps(employee_period)
    pairs = raters.ratee_scores(employee_period)
    gender = years.select("employee_key", "tahun", "gender", "jenis_jabatan")
    holders = indicator_year.unique(["tahun", "kode_opd", "kode_indikator", "employee_key"]).join(
        gender.with_columns(pl.col("tahun").cast(indicator_year["tahun"].dtype)),
        on=["employee_key", "tahun"],
        how="inner",
    )
    return {
        EMPLOYEE_YEAR: Population(EMPLOYEE_YEAR, _atoms(years, ATTRIBUTES)),
        GAP: Population(GAP, _atoms(gaps, ATTRIBUTES)),
        RATER: Population(
            RATER,
            _atoms(pairs, ["kode_opd", "penilai_key"]),
            block_by=("kode_opd",),
            known_margins=(("kode_opd",),),
        ),
        INDICATOR: Population(
            INDICATOR,
            _atoms(holders, ["kode_opd", "kode_indikator", "gender", "jenis_jabatan"]),
            block_by=("kode_opd",),
            known_margins=(),
        ),
    }


def group_cell(
    population: str, tahun: int, dimension: str, value: str | None, **scope: object
) -> Cell | None:
    """The cell of a group value ('P x IV/d' of 'gender x golongan'), within `scope`."""
    if value is None:
        return None
    columns = dimension.split(fairness.INTERSECTION_SEPARATOR)
    values = value.split(fairness.INTERSECTION_SEPARATOR)
    if len(columns) != len(values):
        return None
    return Cell.of(population, tahun, {**scope, **dict(zip(columns, values, strict=True))})


def table_cells(name: str, row: Mapping[str, object]) -> list[Cell | None]:
    """The cells one row of a fairness table publishes (its group, and its reference)."""
    tahun = int(row["tahun"])
    if name in ("fairness_group_rates", "fairness_distribution", "self_gap_by_group"):
        population = GAP if name == "self_gap_by_group" else EMPLOYEE_YEAR
        dimension = str(row["dimension"])
        return [
            group_cell(population, tahun, dimension, row["group_value"]),
            group_cell(population, tahun, dimension, row.get("reference_group")),
        ]
    if name == "indicator_fairness":
        scope = {"kode_opd": row["kode_opd"], "kode_indikator": row["kode_indikator"]}
        return [
            group_cell(INDICATOR, tahun, "gender", row["group_value"], **scope),
            group_cell(INDICATOR, tahun, "gender", row["reference_group"], **scope),
        ]
    if name == "rater_effects":
        return [
            Cell.of(RATER, tahun, {"kode_opd": row["kode_opd"], "penilai_key": row["penilai_key"]})
        ]
    raise KeyError(name)


def finding_cells(row: Mapping[str, object]) -> list[Cell | None]:
    """The cells one findings row publishes (none for trends and the curve)."""
    family, tahun = row["family"], row["tahun"]
    if tahun is None:
        return []
    scope = {"kode_opd": row["kode_opd"]} if row["kode_opd"] is not None else {}
    if family in ("group_disparity", "conditional_rating"):
        dimension = str(row["dimension"])
        cells = [group_cell(EMPLOYEE_YEAR, tahun, dimension, row["subject"], **scope)]
        if row["reference"] != disparity.REST and dimension != "kode_opd":
            cells.append(group_cell(EMPLOYEE_YEAR, tahun, dimension, row["reference"], **scope))
        return cells
    if family == "rater":
        return [Cell.of(RATER, tahun, {**scope, "penilai_key": row["subject"]})]
    if family == "indicator":
        base = {**scope, "kode_indikator": row["subject"]}
        return [Cell.of(INDICATOR, tahun, base | {"gender": g}) for g in ("P", "L")]
    if family == "indicator_difficulty":  # per position type: "indikator lain jabatan X"
        jabatan = difficulty.jabatan_of(str(row["reference"]))
        base = {**scope, "kode_indikator": row["subject"], "jenis_jabatan": jabatan}
        return [Cell.of(INDICATOR, tahun, base)]
    return []


def _peer_rows(frame: pl.DataFrame) -> pl.Expr:
    """Findings rows comparing an agency with the sum of its peer agencies."""
    return (
        (pl.col("family") == "group_disparity")
        & (pl.col("dimension") == "kode_opd")
        & (pl.col("reference") != disparity.REST)
    )


def universe(
    populations_: dict[str, Population],
    tables: Mapping[str, pl.DataFrame],
    candidates: pl.DataFrame,
) -> Universe:
    published: set[Cell] = set()
    references: set[Cell] = set()
    primary: set[Cell] = set()
    for name, frame in tables.items():
        for row in frame.iter_rows(named=True):
            cells = table_cells(name, row)
            published.update(c for c in cells if c is not None)
            if row.get("excluded_from_reference"):  # hiding it would change others' reference
                references.update(c for c in cells if c is not None)
            if len(cells) > 1 and cells[1] is not None and name != "indicator_fairness":
                references.add(cells[1])
    for row in candidates.iter_rows(named=True):
        cells = [c for c in finding_cells(row) if c is not None]
        published.update(cells)
        # An indicator held by too few is hidden by the difficulty family's own rule.
        if row["family"] == "indicator_difficulty" and row["verdict"] == findings.SUPPRESSED:
            primary.update(cells)
    return Universe(populations_, published, references, primary, links=[(EMPLOYEE_YEAR, GAP)])


def _hidden_mask(cells_per_row: list[list[Cell | None]], hidden: set[Cell]) -> pl.Series:
    return pl.Series(
        [any(c in hidden for c in cells if c is not None) for cells in cells_per_row],
        dtype=pl.Boolean,
    )


def _hide_table(name: str, frame: pl.DataFrame, hidden: set[Cell]) -> pl.DataFrame:
    mask = _hidden_mask([table_cells(name, r) for r in frame.iter_rows(named=True)], hidden)
    mask = mask | frame["suppressed"]
    figures = [c for c in frame.columns if c not in KEYS[name] and c != "suppressed"]
    return frame.with_columns(
        *[
            pl.when(mask).then(pl.lit(False) if c == "significant" else None).otherwise(pl.col(c))
            .alias(c)
            for c in figures
        ],
        suppressed=mask,
    ).select(frame.columns).cast(frame.schema)  # fmt: skip


def _rebh(frame: pl.DataFrame, by: list[str], alpha: float = fairness.ALPHA) -> pl.DataFrame:
    """BH again over the tests left visible (per ``by``), so hidden tests count nowhere."""
    if "p_value" not in frame.columns:
        return frame
    indexed = frame.with_row_index("_row")
    parts = []
    tested = indexed.filter(pl.col("p_value").is_not_null())
    for part in tested.partition_by(by) if by else [tested]:
        if part.is_empty():
            continue
        adjusted = multipletests(part["p_value"].to_numpy(), method="fdr_bh")[1]
        parts.append(part.select("_row", pl.Series("_adj", adjusted, dtype=pl.Float64)))
    if not parts:
        return frame.with_columns(p_adjusted=pl.lit(None, pl.Float64), significant=pl.lit(False))
    adjusted = indexed.join(pl.concat(parts), on="_row", how="left").sort("_row")
    significant = (pl.col("_adj") < alpha).fill_null(False) & ~pl.col("suppressed")
    frame = adjusted.with_columns(p_adjusted=pl.col("_adj"), significant=significant)
    if "label" in frame.columns:  # rater_effects: the label is the findings rule on the new BH
        difference = pl.col("difference")
        beyond = (difference < raters.BAND.low) | (difference > raters.BAND.high)
        label = raters.label_of(pl.col("significant") & beyond)
        frame = frame.with_columns(label=pl.when(~pl.col("suppressed")).then(label))
    return frame.select(indexed.columns[1:]).cast(indexed.drop("_row").schema)


# BH scope of each table as its module computes it.
BH_GROUPS = {
    "fairness_group_rates": [],
    "self_gap_by_group": [],
    "indicator_fairness": [],
    "rater_effects": ["tahun"],
}


def hide_candidates(
    candidates: pl.DataFrame, hidden: set[Cell], min_group_size: int
) -> pl.DataFrame:
    """Mark the findings rows that show a hidden cell as suppressed, before BH."""
    rows = list(candidates.iter_rows(named=True))
    mask = _hidden_mask([finding_cells(r) for r in rows], hidden)
    hidden_agencies = {
        (c.tahun, c.values.get("kode_opd"))
        for c in hidden
        if c.population == EMPLOYEE_YEAR and [a for a, _ in c.attrs] == ["kode_opd"]
    }
    years_with_hidden_agency = {t for t, _ in hidden_agencies}
    peers = candidates.select(_peer_rows(candidates)).to_series()
    mask = mask | (peers & candidates["tahun"].is_in(list(years_with_hidden_agency)))
    mask = mask & (candidates["verdict"].fill_null("") != findings.SUPPRESSED)
    figures = [c for c in findings.FINDINGS_SCHEMA if c not in FINDING_KEYS]
    reason = SECONDARY_REASON.format(n=min_group_size)
    return candidates.with_columns(
        *[pl.when(mask).then(None).otherwise(pl.col(c)).alias(c) for c in figures],
        verdict=pl.when(mask).then(pl.lit(findings.SUPPRESSED)).otherwise("verdict"),
        reason=pl.when(mask).then(pl.lit(reason)).otherwise("reason"),
    ).cast(candidates.schema)


FINDING_KEYS = (
    "family", "tahun", "kode_opd", "dimension", "subject", "reference", "outcome",
    "effect_measure", "verdict", "reason", "basis", "unit_layanan",
)  # fmt: skip


def protect(
    populations_: dict[str, Population],
    tables: Mapping[str, pl.DataFrame],
    candidates: pl.DataFrame,
    min_group_size: int,
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, set[Cell]]:
    """The fairness tables and findings candidates with every hidden cell's rows hidden."""
    world = universe(populations_, tables, candidates)
    # A group behind a finding is the last one chosen to hide another.
    judged = findings.judge(candidates).filter(pl.col("verdict") == findings.FINDING)
    world.references |= {c for r in judged.iter_rows(named=True) for c in finding_cells(r) if c}
    hidden = pattern(world, min_group_size)
    protected = {
        name: _rebh(_hide_table(name, frame, hidden), BH_GROUPS[name])
        if name in BH_GROUPS
        else _hide_table(name, frame, hidden)
        for name, frame in tables.items()
    }
    return protected, hide_candidates(candidates, hidden, min_group_size), hidden
