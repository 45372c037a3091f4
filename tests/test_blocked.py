"""The blocked rule (pipelines.ingest.blocked) on hand-computed counts, the table ingestion writes,
and the reference files: optional ones may be missing or header-only, required ones fail
with one line naming the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest import blocked, reference
from pipelines.ingest.loading import FILES_DDL
from pipelines.settings import Settings


@pytest.mark.parametrize(
    ("read", "quarantined", "expected"),
    [
        (0, 0, False),  # no row at all: nothing to judge
        (1, 0, False),
        (1, 1, True),  # the only row is bad: every row of a small quarter
        (8, 2, False),  # 25%, but 8 rows < 20: two typos are not a broken export
        (8, 7, False),
        (8, 8, True),
        (19, 19, True),
        (19, 18, False),
        (20, 4, False),  # exactly 20%: not more than the limit
        (20, 5, True),  # 25% of 20 rows
        (30, 9, True),  # 30%
        (1000, 200, False),
        (1000, 201, True),
    ],
)
def test_blocked_rule(read: int, quarantined: int, expected: bool) -> None:
    assert blocked.BlockRule().is_blocked(read, quarantined) is expected


def test_rule_reads_both_tunables_from_the_environment() -> None:
    def rule_of(**env: str) -> blocked.BlockRule:
        return blocked.BlockRule.of(Settings.from_env({f"KINERJA_{k}": v for k, v in env.items()}))

    rule = rule_of(MAX_QUARANTINE_SHARE="0.5", QUARANTINE_MIN_ROWS="5")
    assert rule == blocked.BlockRule(0.5, 5)
    assert not rule.is_blocked(8, 4)  # 50% is not more than 50%
    assert rule.is_blocked(8, 5)
    assert rule.is_blocked(4, 4) and not rule.is_blocked(4, 3)
    nothing = rule_of(MAX_QUARANTINE_SHARE="1")  # how to block nothing
    assert not nothing.is_blocked(1, 1)
    assert not nothing.is_blocked(40, 40)
    with pytest.raises(ValueError, match="KINERJA_QUARANTINE_MIN_ROWS=0"):
        rule_of(QUARANTINE_MIN_ROWS="0")


def test_judge_says_why() -> None:
    counts = pl.DataFrame(
        {
            "quarter": [date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1)],
            "n_rows_read": [8, 1, 30],
            "n_rows_quarantined": [2, 1, 9],
        },
        schema=blocked.COUNTS_SCHEMA,
    )
    judged = blocked.BlockRule().judge(counts)
    assert judged.select("share", "blocked", "reason").rows() == [
        (0.25, False, None),
        (1.0, True, "every row quarantined (1 of 1)"),
        (0.3, True, "30.0% of 30 rows quarantined (limit 20%)"),
    ]


def _files(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA raw")
    conn.execute(FILES_DDL)
    conn.executemany("INSERT INTO raw.files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return conn


def test_refresh_judges_every_quarter_of_the_source_from_raw_files() -> None:
    """Counts add up over files; quarters outside the partitions, rows without a quarter and
    other sources are not judged; a refresh replaces only its source's rows."""
    q1, q2, q3 = date(2024, 1, 1), date(2024, 4, 1), date(2030, 1, 1)
    conn = _files(
        [
            ("training", "a.csv", q1, "x", 15, 12, 3, None),
            ("training", "b.csv", q1, "y", 10, 6, 4, None),  # Q1: 7 of 25 = 28%
            ("training", "b.csv", q2, "y", 3, 0, 3, None),  # Q2: every row of 3
            ("training", "b.csv", None, "y", 2, 0, 2, None),  # no quarter: not judged
            ("training", "c.csv", q3, "z", 4, 0, 4, None),  # not ended yet: not judged
            ("surveys", "s.csv", q1, "w", 1, 0, 1, None),
        ]
    )
    conn.execute(blocked.DDL)
    conn.execute(
        "INSERT INTO raw.blocked_quarters VALUES ('surveys', '2024-01-01', 1, 1, 1.0, 'x')"
    )
    conn.execute(
        "INSERT INTO raw.blocked_quarters VALUES ('training', '2023-01-01', 1, 1, 1.0, 'old')"
    )

    written = blocked.refresh(conn, "training", blocked.BlockRule(), lambda q: q < q3)

    assert written.select("quarter", "n_rows_read", "n_rows_quarantined").rows() == [
        (q1, 25, 7),
        (q2, 3, 3),
    ]
    assert [blocked.describe(r) for r in blocked.read(conn).iter_rows(named=True)] == [
        "surveys 2024-Q1: x",
        "training 2024-Q1: 28.0% of 25 rows quarantined (limit 20%)",
        "training 2024-Q2: every row quarantined (3 of 3)",
    ]


def test_read_without_the_table_is_empty() -> None:
    assert blocked.read(duckdb.connect()).height == 0


POPULATION = "reference/service_population.csv"


def _with_reference(tmp_path: Path, name: str, text: str | None) -> Path:
    (tmp_path / "reference").mkdir()
    if text is not None:
        (tmp_path / "reference" / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "text",
    [None, "", "kode_opd,unit_layanan,tahun,populasi\n", "kode_opd;unit_layanan;tahun\n\n"],
    ids=["missing", "empty", "header-only", "header-blank-line-semicolons"],
)
def test_optional_population_not_given(tmp_path: Path, text: str | None) -> None:
    data_dir = _with_reference(tmp_path, "service_population.csv", text)
    frame = reference.read_service_population(data_dir)
    assert frame.height == 0
    assert frame.schema == {
        "kode_opd": pl.String,
        "unit_layanan": pl.String,
        "tahun": pl.Int32,
        "populasi": pl.Int32,
    }


def test_optional_population_with_rows_must_be_right(tmp_path: Path) -> None:
    """Rows given under a wrong header are an error, not "none given"."""
    text = "kode_opd,unit,tahun\nOPD01,Loket,2024\n"
    data_dir = _with_reference(tmp_path, "service_population.csv", text)
    with pytest.raises(reference.ReferenceFileError, match=f"^{POPULATION}: .*populasi"):
        reference.read_service_population(data_dir)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            None,
            "reference/agencies.csv is missing under {dir}: it is required (columns: "
            "kode_opd, nama_opd, pemda); add it",
        ),
        (
            "kode_opd,nama_opd,pemda\n",
            "reference/agencies.csv: has a header row but no data rows: it is required "
            "(columns: kode_opd, nama_opd, pemda); fix it",
        ),
        (
            "kode_opd,nama_opd,pemda\nOPD01,Dinas A,Kota\nOPD01,Dinas B,Kota\n",
            "reference/agencies.csv: row 2: kode_opd 'OPD01' fails field_uniqueness; row 3: "
            "kode_opd 'OPD01' fails field_uniqueness; fix these rows",
        ),
    ],
    ids=["missing", "header-only", "duplicate-code"],
)
def test_required_agencies_fail_in_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    data_dir = _with_reference(tmp_path, "agencies.csv", text)
    with pytest.raises(reference.ReferenceFileError) as error:
        reference.read_agencies(data_dir)
    assert str(error.value) == message.format(dir=data_dir)
