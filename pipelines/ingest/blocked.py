"""Blocked source-quarters: exports too broken to build the marts from.

One rule, evaluated in one place. After loading a source, ingestion judges every quarter of
that source from ``raw.files`` and writes the blocked ones to ``raw.blocked_quarters``. dbt
staging leaves those quarters out (macro ``blocked_quarters``); the asset check
``quarantine_share_within_limit`` fails naming them (without stopping the run: the rest is
published); ``kinerja run`` / ``kinerja summary`` and both HTML reports list them. Nothing
else recomputes the rule.

A source-quarter with ``n`` rows read of which ``q`` were quarantined is blocked when

- ``n >= KINERJA_QUARANTINE_MIN_ROWS`` (default 20) and ``q / n > KINERJA_MAX_QUARANTINE_SHARE``
  (default 0.2): a share says something once there are enough rows; or
- ``n < KINERJA_QUARANTINE_MIN_ROWS`` and ``q == n``: on a handful of rows a share says
  little (2 typos in 8 rows is 25%, not a broken export), but a quarter without one
  usable row is broken however small.

KINERJA_MAX_QUARANTINE_SHARE=1 blocks nothing (no share is above 100%, a small quarter
included), as before the small-quarter rule existed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipelines.partitions import label as quarter_label
from pipelines.settings import Settings
from pipelines.warehouse import registered, transaction

TABLE = "raw.blocked_quarters"
DEFAULT_MAX_SHARE = Settings.max_quarantine_share
DEFAULT_MIN_ROWS = Settings.quarantine_min_rows
# quarter is never null: dbt filters with `quarter not in (select quarter ...)`, which a null
# would turn into "no row at all".
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    source VARCHAR NOT NULL, quarter DATE NOT NULL, n_rows_read INTEGER,
    n_rows_quarantined INTEGER, share DOUBLE, reason VARCHAR
)"""
COUNTS_SCHEMA = {"quarter": pl.Date, "n_rows_read": pl.Int64, "n_rows_quarantined": pl.Int64}
BLOCKED_SCHEMA = {
    "source": pl.String,
    "quarter": pl.Date,
    "n_rows_read": pl.Int32,
    "n_rows_quarantined": pl.Int32,
    "share": pl.Float64,
    "reason": pl.String,
}


@dataclass(frozen=True)
class BlockRule:
    """The blocked rule with its two tunables (see the module docstring)."""

    max_share: float = DEFAULT_MAX_SHARE
    min_rows: int = DEFAULT_MIN_ROWS

    @classmethod
    def of(cls, settings: Settings) -> BlockRule:
        """The rule with the run's KINERJA_MAX_QUARANTINE_SHARE / KINERJA_QUARANTINE_MIN_ROWS."""
        return cls(settings.max_quarantine_share, settings.quarantine_min_rows)

    def judge(self, counts: pl.DataFrame) -> pl.DataFrame:
        """``counts`` (quarter, n_rows_read, n_rows_quarantined) with ``share``, ``blocked``
        and ``reason`` (null when not blocked), one row per quarter as given."""
        read, bad = pl.col("n_rows_read"), pl.col("n_rows_quarantined")
        share = bad / read.clip(lower_bound=1)
        by_share = (read >= self.min_rows) & (share > self.max_share)
        every_row = (read < self.min_rows) & (read > 0) & (bad >= read) & (share > self.max_share)
        percent = (share * 100).round(1).cast(pl.String)
        reason = (
            pl.when(by_share)
            .then(
                percent
                + pl.lit("% of ")
                + read.cast(pl.String)
                + pl.lit(f" rows quarantined (limit {self.max_share:.0%})")
            )
            .when(every_row)
            .then(
                pl.lit("every row quarantined (")
                + bad.cast(pl.String)
                + pl.lit(" of ")
                + read.cast(pl.String)
                + pl.lit(")")
            )
        )
        return counts.with_columns(
            share=share, blocked=by_share | every_row, reason=reason.cast(pl.String)
        )

    def is_blocked(self, n_rows_read: int, n_rows_quarantined: int) -> bool:
        """The rule on one quarter's counts (``judge`` on a one-row frame)."""
        counts = pl.DataFrame(
            {"quarter": [date(2000, 1, 1)], "n_rows_read": [n_rows_read]}
            | {"n_rows_quarantined": [n_rows_quarantined]},
            schema=COUNTS_SCHEMA,
        )
        return bool(self.judge(counts).get_column("blocked").item())


def refresh(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    rule: BlockRule,
    placed: Callable[[date], bool],
) -> pl.DataFrame:
    """Judge every quarter of ``source`` in raw.files (those ``placed`` in a partition: rows
    of a quarter not ended yet are all quarantined, by design) and replace the source's rows
    of raw.blocked_quarters, in one transaction. Returns the source's blocked quarters."""
    counts = conn.execute(
        "SELECT quarter, sum(n_rows_read), sum(n_rows_quarantined) FROM raw.files "
        "WHERE source = ? AND quarter IS NOT NULL GROUP BY quarter ORDER BY quarter",
        [source],
    ).fetchall()
    frame = pl.DataFrame(
        [row for row in counts if placed(row[0])], schema=COUNTS_SCHEMA, orient="row"
    )
    blocked = (
        rule.judge(frame)
        .filter(pl.col("blocked"))
        .with_columns(pl.lit(source).alias("source"))
        .select(list(BLOCKED_SCHEMA))
        .cast(BLOCKED_SCHEMA)
    )
    with transaction(conn):
        conn.execute(DDL)
        conn.execute(f"DELETE FROM {TABLE} WHERE source = ?", [source])
        with registered(conn, blocked) as view:
            conn.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM {view}")
    return blocked


def read(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every blocked source-quarter (by quarter, then source); empty when none, or in a
    warehouse built before this table existed."""
    found = conn.execute(
        "SELECT table_schema FROM information_schema.tables "
        "WHERE table_schema IN ('raw', 'notices') AND table_name = 'blocked_quarters' "
        "ORDER BY table_schema = 'raw' DESC"
    ).fetchone()
    if not found:  # a published extract carries it as notices.blocked_quarters
        return pl.DataFrame(schema=BLOCKED_SCHEMA)
    table = f"{found[0]}.blocked_quarters"
    return conn.sql(f"SELECT * FROM {table} ORDER BY quarter, source").pl().cast(BLOCKED_SCHEMA)


def describe(row: dict) -> str:
    """'training 2024-Q2: every row quarantined (1 of 1)': one blocked source-quarter."""
    return f"{row['source']} {quarter_label(row['quarter'])}: {row['reason']}"


def summary_lines(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """What `kinerja run` prints about blocked quarters: nothing when there are none."""
    blocked = read(conn)
    if blocked.height == 0:
        return []
    return [
        f"BLOCKED: {blocked.height} source-quarter(s) left out of the marts, reports and "
        "extracts; everything else was published:",
        *(f"  - {describe(row)}" for row in blocked.iter_rows(named=True)),
        "  fix these exports (quarantine.<source> says why each row was rejected; "
        "`kinerja export-quarantine DIR` writes them out) and run again",
    ]
