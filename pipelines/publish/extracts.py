"""Publishing: runs build into a private copy of the warehouse; readers see a file that only
changes by an atomic rename once everything succeeded. A run killed at any point (SIGKILL,
power loss) leaves the published warehouse exactly as it was, and never locks it for readers.

Two extracts are published beside it for people who must not see personal data:
`planners.duckdb` (aggregates only) and `evaluators.duckdb` (pseudonymous detail)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

# What each audience may read, by schema (tables of analysis are listed one by one for
# planners: fairness detail is for evaluators only). The ranking and the outlook publish no
# group under min_group_size themselves (NULL value and size, status too_small/suppressed;
# checked by their asset checks no_small_group_published).
PLANNERS = (
    "marts",
    "analysis.trend_series",
    "analysis.trend_tests",
    "analysis.agency_ranking",
    "analysis.year_end_outlook",
)
EVALUATORS = ("marts", "analysis", "intermediate", "audit")
# Copied into every extract under another name: what a reader of the extract must know.
NOTICES = {("raw", "blocked_quarters"): ("notices", "blocked_quarters")}

# Small-cell suppression of the marts in the extracts: when the count column of a row is
# below the publishable minimum (but not zero), the count and every figure computed over that
# group (columns starting with these prefixes) are published as NULL: the row keeps its keys.
# The means need indicator rows (SIASN records are ratings only), so they are over the
# n_with_indicators employees, a group of its own: hidden when it is small even if n_assessed
# is large, and still hidden with everything else when n_assessed is small (n_assessed comes
# first: the counts it hides are NULL, so the n_with_indicators pass leaves those rows be).
MART_SUPPRESSION = {
    "n_assessed": (
        "n_indicator_rows",
        "n_with_indicators",
        "n_sangat_",
        "n_baik",
        "n_butuh_",
        "n_kurang_",
        "share_sangat_",
        "share_baik",
        "share_butuh_",
        "share_kurang_",
        "mean_",
        "capaian_band",
        "n_predikat_mismatch",
        "n_in_group",
        "observed_share",
        "passed",
        "violation",
    ),
    "n_with_indicators": (
        "n_indicator_rows",
        "mean_achievement",
        "mean_self_supervisor_gap",
        "capaian_band",
    ),
    "n_responden": ("ikm", "nrr_"),
    "n_employees": ("jp_", "share_20jp", "n_training_need"),
    # mart_agency_indicator_quarter: n_holders is the smallest group behind any figure of the
    # row; the previous year's figures rest on that year's row (its n_holders).
    "n_holders": ("annual_target", "realisasi_", "target_", "capaian_", "n_holders_prev_year"),
    "n_holders_prev_year": ("capaian_to_date_prev_year", "capaian_to_date_change"),
}
# Tables whose <m>_change is against the same quarter of the previous year, per indicator:
# hidden with that year's row (n_holders_prev_year above), not by _hide_changes' rule of the
# preceding period of the same agency.
YEAR_ON_YEAR = {"mart_agency_indicator_quarter"}


# File paths are lineage, but a file may be named after a person: SIASN responses are often
# saved per employee (rw-skp22_<nip>.json). The extracts publish paths with every 18-digit
# run (a NIP's shape) masked; the file stays identifiable by file_sha256 and, for the data
# owner, by the full path in the warehouse.
PATH_COLUMN = "%source_file%"
NIP_RUN, NIP_MASK = "[0-9]{18}", "<NIP>"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(tmp: Path, target: Path) -> None:
    """Flush `tmp` to disk, rename it over `target`, and make the rename itself durable."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextmanager
def replaced_atomically(target: Path, suffix: str = "") -> Iterator[Path]:
    """A path beside `target` (not yet created) to write the new version to; after the block
    it is flushed and renamed over `target`, so readers see the old file or the whole new
    one. Whatever the block leaves behind (a DuckDB WAL too) is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the writer (DuckDB, xlsxwriter, a copy) creates the file itself
    try:
        yield tmp
        _move_into_place(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


def _replace_atomically(source: Path, target: Path) -> None:
    """Copy `source` next to `target`, flush it to disk, then rename it over `target`."""
    with replaced_atomically(target) as tmp:
        shutil.copyfile(source, tmp)


def publish_warehouse(build: Path, published: Path) -> None:
    """Fold the build database's WAL into its file, then swap it in for the published one."""
    with duckdb.connect(str(build)) as con:
        con.execute("CHECKPOINT")
    _replace_atomically(build, published)


def _tables(con: duckdb.DuckDBPyConnection, selection: Sequence[str]) -> list[tuple[str, str]]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'source' order by 1, 2"
    ).fetchall()
    return [
        (schema, name)
        for schema, name in rows
        if schema in selection or f"{schema}.{name}" in selection
    ]


def hidden_agency_years(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, int]]:
    """(kode_opd, tahun) of agencies the fairness tables hide (small, or hidden so that a
    small one cannot be had by subtraction): their year figures are hidden in the marts too."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_catalog = ? "
        "and table_schema = 'analysis' and table_name = 'fairness_group_rates'",
        [catalog],
    ).fetchone()[0]
    if not present:
        return []
    return con.execute(
        f"select distinct group_value, tahun from {catalog}.analysis.fairness_group_rates "
        "where dimension = 'kode_opd' and suppressed order by 1, 2"
    ).fetchall()


def _mart_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


def suppress_small_groups(
    con: duckdb.DuckDBPyConnection,
    min_group_size: int,
    hidden_agencies: Sequence[tuple[str, int]] = (),
) -> int:
    """NULL the figures of mart rows whose group is smaller than `min_group_size` (and of
    the agency-years in `hidden_agencies`), and the trend values taken from them."""
    suppressed = 0
    con.execute("CREATE OR REPLACE TEMP TABLE hidden_agency (kode_opd VARCHAR, tahun INTEGER)")
    if hidden_agencies:
        con.executemany("INSERT INTO hidden_agency VALUES (?, ?)", list(hidden_agencies))
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    for (table,) in tables:
        columns = _mart_columns(con, table)
        for count_column, prefixes in MART_SUPPRESSION.items():
            targets = [c for c in columns if c.startswith(prefixes) and c != count_column]
            targets.append(count_column)  # last: the WHERE below reads it
            if count_column not in columns or not targets:
                continue
            assignments = ", ".join(f'"{c}" = NULL' for c in targets)
            where = f'"{count_column}" > 0 AND "{count_column}" < ?'
            if table != "mart_agency_quarter" and count_column == "n_assessed":
                where = f"({where}) OR (kode_opd, tahun) IN (FROM hidden_agency)"
            suppressed += con.execute(
                f'SELECT count(*) FROM marts."{table}" WHERE {where}', [min_group_size]
            ).fetchone()[0]
            con.execute(f'UPDATE marts."{table}" SET {assignments} WHERE {where}', [min_group_size])
        if table not in YEAR_ON_YEAR:
            _hide_changes(con, table, columns)
    _hide_trend_values(con)
    return suppressed


def _hide_changes(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """``<m>_change`` is <m> minus <m> of the previous period: beside a hidden <m> it gives
    the hidden value back by subtraction, in its own row (from the previous value) and in
    the next period's row (from the next value). Both are hidden; where <m> is NULL for want
    of data the change was NULL already, so nothing published is lost."""

    def period(alias: str) -> str:
        return (
            f"{alias}.tahun * 4 + {alias}.triwulan" if "triwulan" in columns else f"{alias}.tahun"
        )

    for change in (c for c in columns if c.endswith("_change")):
        measure = change.removesuffix("_change")
        if measure not in columns:
            continue
        con.execute(f'UPDATE marts."{table}" SET "{change}" = NULL WHERE "{measure}" IS NULL')
        con.execute(
            f"""UPDATE marts."{table}" t SET "{change}" = NULL FROM marts."{table}" p
            WHERE p.kode_opd = t.kode_opd AND {period("p")} + 1 = {period("t")}
              AND p."{measure}" IS NULL"""
        )


def _hide_trend_values(con: duckdb.DuckDBPyConnection) -> None:
    """A trend value whose mart figure is hidden is hidden too, and so are the changes of its
    series (a neighbour's change would give it back by subtraction)."""
    present = {
        name
        for (name,) in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }
    if "analysis.trend_series" not in present:
        return
    for grain, mart, period in (
        ("quarter", "mart_agency_quarter", "m.triwulan = t.triwulan"),
        ("year", "mart_agency_year", "true"),
    ):
        if f"marts.{mart}" not in present:
            continue
        columns = set(_mart_columns(con, mart))
        measures = [
            m
            for (m,) in con.execute(
                "select distinct measure from analysis.trend_series "
                "where scope = 'agency' and grain = ?",
                [grain],
            ).fetchall()
            if m in columns
        ]
        for measure in measures:
            con.execute(
                f"""UPDATE analysis.trend_series t SET value = NULL
                FROM marts.{mart} m
                WHERE t.scope = 'agency' AND t.grain = ? AND t.measure = ?
                  AND m.kode_opd = t.kode_opd AND m.tahun = t.tahun AND {period}
                  AND m."{measure}" IS NULL AND t.value IS NOT NULL""",
                [grain, measure],
            )
    con.execute(
        """UPDATE analysis.trend_series t SET qoq_change = NULL, yoy_change = NULL
        WHERE EXISTS (SELECT 1 FROM analysis.trend_series h
          WHERE h.value IS NULL AND h.scope = t.scope AND h.measure = t.measure
            AND h.grain = t.grain AND h.kode_opd IS NOT DISTINCT FROM t.kode_opd
            AND h.unit_layanan IS NOT DISTINCT FROM t.unit_layanan)"""
    )


def _copy_select(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str:
    """SELECT of a source table for an extract, with NIP-shaped runs in paths masked."""
    paths = con.execute(
        "select column_name from information_schema.columns where table_catalog = 'source' "
        "and table_schema = ? and table_name = ? and data_type = 'VARCHAR' "
        "and column_name like ? order by ordinal_position",
        [schema, name, PATH_COLUMN],
    ).fetchall()
    masked = ", ".join(
        f"regexp_replace(\"{c}\", '{NIP_RUN}', '{NIP_MASK}', 'g') AS \"{c}\"" for (c,) in paths
    )
    replace = f" REPLACE ({masked})" if masked else ""
    return f'SELECT *{replace} FROM source."{schema}"."{name}"'


def publish_extract(
    build: Path, target: Path, selection: Iterable[str], min_group_size: int | None = None
) -> list[str]:
    """Write the selected schemas/tables of `build` into a fresh database at `target`;
    with `min_group_size`, small groups in the marts (and agencies the fairness tables
    hide) are suppressed."""
    selection = tuple(selection)
    copied: list[str] = []
    with replaced_atomically(target, suffix=".duckdb") as tmp, duckdb.connect(str(tmp)) as con:
        con.execute(f"ATTACH '{build}' AS source (READ_ONLY)")
        hidden_agencies = hidden_agency_years(con, "source")
        for schema, name in _tables(con, selection):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            select = _copy_select(con, schema, name)
            con.execute(f'CREATE TABLE "{schema}"."{name}" AS {select}')
            copied.append(f"{schema}.{name}")
        for (schema, name), (to_schema, to_name) in NOTICES.items():
            if (schema, name) in _tables(con, [f"{schema}.{name}"]):
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{to_schema}"')
                con.execute(
                    f'CREATE TABLE "{to_schema}"."{to_name}" AS {_copy_select(con, schema, name)}'
                )
        con.execute("DETACH source")
        if min_group_size is not None:
            suppress_small_groups(con, min_group_size, hidden_agencies)
        con.execute("CHECKPOINT")
    return copied
