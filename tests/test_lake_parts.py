"""The lake's pure parts, without a catalog: which pemda a file belongs to, and the table
comparison `make lake` ends with (it must see real differences and forgive float noise)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.lake.compare import checksum, compare
from pipelines.lake.groups import OTHER, group_files, pemda_codes, pemda_keys, pemda_of

COLUMNS = [("k", "VARCHAR"), ("x", "DOUBLE")]
AGENCIES = pl.DataFrame(
    {
        "kode_opd": ["MNA-DISDIK", "MNA-DINKES", "PSP-BKPSDM", "MKS-DISHUB"],
        "pemda": ["Kota Manna", "Kota Manna", "Kota Padangsidempuan", "Kota Makassar"],
    }
)


def test_pemda_codes_come_from_agency_prefixes_and_names() -> None:
    codes = pemda_codes(AGENCIES)
    assert codes["mna"] == codes["manna"] == codes["kota-manna"] == "mna"
    assert codes["makassar"] == "mks"
    assert pemda_keys(AGENCIES) == ["mks", "mna", "psp", OTHER]


@pytest.mark.parametrize(
    ("path", "pemda"),
    [
        ("raw/assessments/assessments_mna_2024.csv", "mna"),
        ("raw/siasn/mna/rw-skp22_196809132000042194.json", "mna"),
        ("raw/training/training_psp_dinkes_2024.xlsx", "psp"),
        ("raw/surveys/Kota Makassar/skm 2024.xlsx", "mks"),
        ("raw/surveys/makassar-2024.csv", "mks"),
        ("raw/assessments/penilaian_tw1.csv", OTHER),
        # a token inside a word is not a code: 'mnaa' is not Manna
        ("raw/assessments/mnaa_2024.csv", OTHER),
    ],
)
def test_a_file_belongs_to_the_pemda_its_path_names(path: str, pemda: str) -> None:
    assert pemda_of(path, pemda_codes(AGENCIES)) == pemda


def test_every_file_is_in_exactly_one_group() -> None:
    files = [
        "raw/assessments/assessments_mna_2024.csv",
        "raw/assessments/assessments_psp_2024.csv",
        "raw/assessments/rekap.csv",
    ]
    groups = group_files(files, pemda_codes(AGENCIES))
    assert sorted(f for fs in groups.values() for f in fs) == sorted(files)
    assert groups == {"mna": [files[0]], "psp": [files[1]], OTHER: [files[2]]}


def _pair(left_rows: str, right_rows: str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    for name, rows in (("a", left_rows), ("b", right_rows)):
        conn.execute(f"ATTACH ':memory:' AS {name}")
        conn.execute(f"CREATE SCHEMA {name}.marts")
        conn.execute(f"CREATE TABLE {name}.marts.t (k VARCHAR, x DOUBLE)")
        conn.execute(f"INSERT INTO {name}.marts.t VALUES {rows}")
    return conn


def test_rows_in_another_order_and_float_noise_compare_identical() -> None:
    # 0.9538046875 lies on a 9-decimal rounding boundary: 3 units in the last place below,
    # it rounds to ...687 instead of ...688, so the checksums differ and the row-by-row
    # comparison decides.
    noisy = 0.9538046874999997
    conn = _pair(
        "('p', 0.9538046875), ('q', 1.5), ('r', NULL)",
        f"('r', NULL), ('q', 1.5), ('p', {noisy!r})",
    )
    assert checksum(conn, "a.marts.t", COLUMNS) != checksum(conn, "b.marts.t", COLUMNS)
    result = compare(conn, "a", "b")
    assert result.tables == 1
    assert result.identical, result.differences
    assert result.line() == "1 tables compared: identical"


@pytest.mark.parametrize(
    "right",
    [
        "('p', 0.9538), ('q', 1.5)",  # a value differs beyond the tolerance
        "('p', 0.9538046875), ('Q', 1.5)",  # a key differs
        "('p', 0.9538046875)",  # a row is missing
        "('p', 0.9538046875), ('q', 1.5), ('q', 1.5)",  # a row is duplicated
    ],
)
def test_real_differences_are_named(right: str) -> None:
    result = compare(_pair("('p', 0.9538046875), ('q', 1.5)", right), "a", "b")
    assert not result.identical
    assert result.differences[0].startswith("marts.t: ")
    assert "differ" in result.line()


def test_a_table_on_one_side_only_is_a_difference() -> None:
    conn = _pair("('p', 1.0)", "('p', 1.0)")
    conn.execute("CREATE TABLE a.marts.extra AS SELECT 1 AS n")
    result = compare(conn, "a", "b")
    assert result.differences == ["marts.extra: only in a"]
    assert result.tables == 2
