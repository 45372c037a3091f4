"""What validation checks rows against besides the rows themselves: the reference context
of one load, read from the warehouse once per run (``reference_context``).

- ``agencies``: the kode_opd of raw.agencies (every source with a kode_opd checks it);
- ``roster``: raw.pegawai (reference/pegawai.csv, optional): NIP, SIASN's pns_id and each
  employee's agency and groups, for records that name an employee by SIASN id only or carry
  no agency (see ingest/siasn.py). Empty when no roster was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

# reference/pegawai.csv, in this order (raw.pegawai).
ROSTER_COLUMNS = ["nip", "pns_id", "kode_opd", "unit_kerja", "jabatan", "jenis_jabatan", "golongan"]


def empty_roster() -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(ROSTER_COLUMNS, pl.String))


@dataclass(frozen=True)
class ReferenceContext:
    """The reference data rows are validated against (one per load; never modified)."""

    agencies: frozenset[str]
    roster: pl.DataFrame = field(default_factory=empty_roster, compare=False)

    @classmethod
    def of(cls, known: ReferenceContext | Iterable[str] | pl.Series) -> ReferenceContext:
        """A context as given, or one with these agency codes and no roster."""
        if isinstance(known, ReferenceContext):
            return known
        codes = known.to_list() if isinstance(known, pl.Series) else known
        return cls(frozenset(codes))

    # A NIP or SIASN id listed twice would place a record on a guess: such rows do not place.
    # Filtered once per load, not per file (a SIASN folder holds one file per employee).
    @cached_property
    def placeable_roster(self) -> pl.DataFrame:
        """Roster rows whose NIP is given and listed once."""
        return self.roster.filter(pl.col("nip").is_not_null() & pl.col("nip").is_unique())

    @cached_property
    def roster_by_id(self) -> pl.DataFrame:
        """Placeable roster rows whose SIASN id is given and listed once."""
        roster = self.placeable_roster
        return roster.filter(pl.col("pns_id").is_not_null() & pl.col("pns_id").is_unique())


# What a source's validate function receives: a context, or (tests, older callers) the
# agency codes alone.
Known = ReferenceContext | set[str] | pl.Series


def reference_context(conn) -> ReferenceContext:
    """raw.agencies' codes and raw.pegawai (empty when that table does not exist)."""
    agencies = frozenset(
        row[0] for row in conn.execute("SELECT kode_opd FROM raw.agencies").fetchall()
    )
    present = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
        "AND table_name = 'pegawai' AND table_catalog = current_database()"
    ).fetchone()[0]
    if not present:
        return ReferenceContext(agencies)
    listed = ", ".join(ROSTER_COLUMNS)
    roster = conn.execute(f"SELECT {listed} FROM raw.pegawai").pl()
    return ReferenceContext(agencies, roster.cast(dict.fromkeys(ROSTER_COLUMNS, pl.String)))
