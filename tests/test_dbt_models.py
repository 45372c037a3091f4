"""dbt models on a tiny hand-made raw warehouse (tests/fixtures/dbt/*.csv).

The fixture has two agencies, eight NIPs (one PPPK, one known only from training), two years,
a re-submitted file, a repeated indicator, a predikat that disagrees with the matrix, fourteen
SKM respondents and a few courses. Every expected number below was worked out by hand from
those CSV rows (the arithmetic is in the comments); dbt builds once per session.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import blocked

ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = ROOT / "dbt_project"
FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "dbt"
TEST_KEY = b"kinerja-test-pseudonym-key"

E1, E2, E3, E8 = (
    "198503152010011001",
    "199002202015032002",
    "197807012005021003",
    "199207172016012004",
)
E4, E5, E6, E7 = (
    "198812122012012004",
    "199505052019031005",
    "199001012022212001",
    "199209092018011007",
)

LINEAGE = "source_file VARCHAR, source_row INTEGER, file_sha256 VARCHAR, quarter DATE"
RAW_TABLES: dict[str, str] = {
    "assessments": (
        "nip VARCHAR, employee_key VARCHAR, nama VARCHAR, kode_opd VARCHAR, nama_opd VARCHAR,"
        " unit_kerja VARCHAR, jabatan VARCHAR, jenis_jabatan VARCHAR, golongan VARCHAR,"
        " tahun INTEGER, periode VARCHAR, kode_indikator VARCHAR, indikator VARCHAR,"
        " target DOUBLE, realisasi DOUBLE, satuan VARCHAR, nilai_mandiri DOUBLE,"
        " nilai_atasan DOUBLE, rating_hasil_kerja VARCHAR, rating_perilaku VARCHAR,"
        " predikat VARCHAR, nip_penilai VARCHAR, penilai_key VARCHAR, is_pppk BOOLEAN,"
        " aspek VARCHAR, arah VARCHAR, jenis_agregasi VARCHAR, " + LINEAGE
    ),
    "surveys": (
        "id_responden VARCHAR, tanggal DATE, kode_opd VARCHAR, unit_layanan VARCHAR,"
        " jenis_layanan VARCHAR, jenis_kelamin VARCHAR, usia INTEGER, pendidikan VARCHAR,"
        " pekerjaan VARCHAR, "
        + ", ".join(f"u{i} INTEGER" for i in range(1, 10))
        + ", n_invalid_answers INTEGER, saran VARCHAR, "
        + LINEAGE
    ),
    "training": (
        "nip VARCHAR, employee_key VARCHAR, nama_pelatihan VARCHAR, jenis VARCHAR,"
        " penyelenggara VARCHAR, tanggal_mulai DATE, tanggal_selesai DATE, jp DOUBLE,"
        " sertifikat BOOLEAN, " + LINEAGE
    ),
    "siasn": (
        "nip VARCHAR, employee_key VARCHAR, pns_id VARCHAR, record_kind VARCHAR,"
        " siasn_id VARCHAR, tahun INTEGER, periode VARCHAR, kode_opd VARCHAR,"
        " unit_kerja VARCHAR, jabatan VARCHAR, jenis_jabatan VARCHAR, golongan VARCHAR,"
        " rating_hasil_kerja VARCHAR, rating_perilaku VARCHAR, predikat VARCHAR,"
        " nip_penilai VARCHAR, penilai_key VARCHAR, status_penilai VARCHAR, " + LINEAGE
    ),
    "agencies": "kode_opd VARCHAR, nama_opd VARCHAR, pemda VARCHAR",
    "predikat_organisasi": "kode_opd VARCHAR, tahun INTEGER, predikat VARCHAR",
    "service_population": (
        "kode_opd VARCHAR, unit_layanan VARCHAR, tahun INTEGER, populasi INTEGER"
    ),
    "indikator": "kode_indikator VARCHAR, aspek VARCHAR, arah VARCHAR, jenis_agregasi VARCHAR",
    "files": (
        "source VARCHAR, source_file VARCHAR, quarter DATE, file_sha256 VARCHAR,"
        " n_rows_read INTEGER, n_rows_loaded INTEGER, n_rows_quarantined INTEGER, error VARCHAR"
    ),
}
QUARANTINE_COLUMNS = LINEAGE + ", column_name VARCHAR, reason VARCHAR, raw_record VARCHAR"


def pseudonym(nip: str) -> str:
    """Same construction as the pipeline's employee_key (HMAC-SHA256, 16 hex chars)."""
    return hmac.new(TEST_KEY, nip.encode(), hashlib.sha256).hexdigest()[:16]


def _read(name: str) -> list[dict[str, str | None]]:
    with (FIXTURE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return [
            {k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)
        ]


# A training export whose 2025-Q1 is mostly quarantined (27 of 30 rows, above the 20% limit):
# its valid row is in raw.training but must stay out of staging and every mart.
BROKEN_TRAINING = {
    "source_file": "raw/training/broken_2025.csv",
    "source_row": 2,
    "nip": "198503152010011001",
    "nama_pelatihan": "Kursus dari ekspor rusak",
    "jenis": "klasikal",
    "penyelenggara": "BPSDM",
    "tanggal_mulai": "2025-02-03",
    "tanggal_selesai": "2025-02-05",
    "jp": "40",
    "sertifikat": "true",
}
QUARTER_OF_PERIOD = {"TW I": 1, "TW II": 4, "TW III": 7, "TW IV": 10, "TAHUNAN": 10}


def quarter_of(row: dict) -> date:
    """First day of the row's quarter, as ingestion computes it (see pipelines.partitions)."""
    if "periode" in row:
        return date(int(row["tahun"]), QUARTER_OF_PERIOD[row["periode"]], 1)
    day = date.fromisoformat(row.get("tanggal") or row["tanggal_mulai"])
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _sha(source_file: str) -> str:
    return hashlib.sha256(source_file.encode()).hexdigest()


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[dict]) -> None:
    names = [c.strip().split()[0] for c in columns.split(",")]
    con.execute(f"CREATE TABLE {table} ({columns})")
    if rows:
        placeholders = ", ".join("?" for _ in names)
        con.executemany(
            f"INSERT INTO {table} VALUES ({placeholders})",
            [[row.get(n) for n in names] for row in rows],
        )


def build_raw_warehouse(path: Path) -> None:
    """Write raw.* and quarantine.* exactly as the contract describes, from the fixture CSVs."""
    agencies = _read("agencies.csv")
    opd_names = {a["kode_opd"]: a["nama_opd"] for a in agencies}
    assessments = _read("assessments.csv")
    for row in assessments:
        row |= {
            "employee_key": pseudonym(row["nip"]),
            "nama_opd": opd_names[row["kode_opd"]],
            "indikator": f"Indikator {row['kode_indikator']}",
            "satuan": "%",
            "penilai_key": pseudonym(row["nip_penilai"]) if row["nip_penilai"] else None,
            "is_pppk": row["nip"][12:14] == "21",
            "file_sha256": _sha(row["source_file"]),
        }
    surveys = _read("surveys.csv")
    training = [*_read("training.csv"), dict(BROKEN_TRAINING)]
    for row in [*surveys, *training]:
        row["file_sha256"] = _sha(row["source_file"])
    for row in training:
        row["employee_key"] = pseudonym(row["nip"])
    for row in [*assessments, *surveys, *training]:
        row["quarter"] = quarter_of(row)
    counts = Counter(
        (src, r["source_file"], r["quarter"])
        for src, rows in (
            ("assessments", assessments),
            ("surveys", surveys),
            ("training", training),
        )
        for r in rows
    )
    files = [
        {
            "source": src,
            "source_file": f,
            "quarter": q,
            "file_sha256": _sha(f),
            "n_rows_read": n,
            "n_rows_loaded": n,
            "n_rows_quarantined": 0,
        }
        for (src, f, q), n in sorted(counts.items())
    ]
    broken = next(r for r in files if r["source_file"] == BROKEN_TRAINING["source_file"])
    broken |= {"n_rows_read": 30, "n_rows_quarantined": 27}
    data = {
        "assessments": assessments,
        "surveys": surveys,
        "training": training,
        "siasn": [],
        "agencies": agencies,
        "predikat_organisasi": _read("predikat_organisasi.csv"),
        "service_population": _read("service_population.csv"),
        "indikator": [],
        "files": files,
    }
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA quarantine;")
        for table, columns in RAW_TABLES.items():
            _insert(con, f"raw.{table}", columns, data[table])
        quarantined = _read("quarantine_assessments.csv")
        for row in quarantined:
            row["file_sha256"] = _sha(row["source_file"])
            row["quarter"] = None
        _insert(con, "quarantine.assessments", QUARANTINE_COLUMNS, quarantined)
        _insert(con, "quarantine.surveys", QUARANTINE_COLUMNS, [])
        _insert(con, "quarantine.training", QUARANTINE_COLUMNS, [])
        _insert(con, "quarantine.siasn", QUARANTINE_COLUMNS, [])
        for source in ("assessments", "surveys", "training"):  # as ingestion does
            blocked.refresh(con, source, blocked.BlockRule(), lambda _: True)
    finally:
        con.close()


def run_dbt(args: list[str], warehouse: Path):
    """Invoke dbt in-process against the given warehouse; returns the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    os.environ["KINERJA_DBT_DATABASE"] = str(warehouse)
    os.environ["KINERJA_DBT_KEEP_OPEN"] = "False"  # in-process: free the file when done
    # Artifacts go next to the test warehouse: dbt_project/target holds the manifest Dagster
    # loads, and a test must not rewrite it under another process.
    artifacts = warehouse.parent / "dbt_artifacts"
    return dbtRunner().invoke(
        [
            *args,
            *["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
            *["--target-path", str(artifacts / "target"), "--log-path", str(artifacts / "logs")],
            "--quiet",
        ]
    )


def assert_built(result) -> None:
    """A dbt invocation succeeded; else fail naming the nodes that errored or failed."""
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) in ("error", "fail")
    ]
    assert result.success, f"dbt build failed: {result.exception} {failures}"


# Unit tests (dbt `unit_tests:` in models/*/_unit_tests.yml) the fixture build ran: name -> status.
UNIT_TEST_RESULTS: dict[str, str] = {}


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("dbt") / "warehouse.duckdb"
    build_raw_warehouse(path)
    previous = os.environ.get("KINERJA_DBT_DATABASE")
    started = time.perf_counter()
    result = run_dbt(["build"], path)
    elapsed = time.perf_counter() - started
    assert_built(result)
    UNIT_TEST_RESULTS.update(
        {
            r.node.name: str(r.status)
            for r in (result.result or [])
            if r.node.unique_id.startswith("unit_test.")
        }
    )
    print(f"dbt build on the fixture took {elapsed:.1f} s")
    yield path
    if previous is None:
        os.environ.pop("KINERJA_DBT_DATABASE", None)
    else:
        os.environ["KINERJA_DBT_DATABASE"] = previous


def query(path: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def one(path: Path, sql: str, params: list | None = None) -> dict:
    rows = query(path, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def quarter_row(path: Path, kode_opd: str, tahun: int, triwulan: int) -> dict:
    return one(
        path,
        "select * from marts.mart_agency_quarter where kode_opd = ? and tahun = ? and triwulan = ?",
        [kode_opd, tahun, triwulan],
    )


def year_row(path: Path, kode_opd: str, tahun: int) -> dict:
    return one(
        path,
        "select * from marts.mart_agency_year where kode_opd = ? and tahun = ?",
        [kode_opd, tahun],
    )


# --- reference seeds -------------------------------------------------------------------------

A, S, B = "DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI", "DI BAWAH EKSPEKTASI"
MATRIX = {  # PermenPANRB 6/2022, docs/domain.md#rating-matrix: (hasil kerja, perilaku) -> predikat
    (A, B): "Kurang/Misconduct",
    (A, S): "Baik",
    (A, A): "Sangat Baik",
    (S, B): "Kurang/Misconduct",
    (S, S): "Baik",
    (S, A): "Baik",
    (B, B): "Sangat Kurang",
    (B, S): "Butuh Perbaikan",
    (B, A): "Butuh Perbaikan",
}


@pytest.mark.parametrize(("cell", "predikat"), list(MATRIX.items()))
def test_predikat_matrix_seed_cell(warehouse: Path, cell: tuple[str, str], predikat: str) -> None:
    row = one(
        warehouse,
        "select predikat from reference.predikat_matrix"
        " where rating_hasil_kerja = ? and rating_perilaku = ?",
        list(cell),
    )
    assert row["predikat"] == predikat


def test_predikat_matrix_has_exactly_nine_cells(warehouse: Path) -> None:
    assert one(warehouse, "select count(*) as n from reference.predikat_matrix")["n"] == 9


def test_expected_predikat_follows_matrix_for_every_employee_period(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select rating_hasil_kerja, rating_perilaku, predikat_expected"
        " from intermediate.int_employee_period",
    )
    assert len(rows) == 18  # 6 (2023 TAHUNAN) + 2 (TW I) + 3 (TW II) + 7 (2024 TAHUNAN)
    for row in rows:
        assert (
            row["predikat_expected"] == MATRIX[(row["rating_hasil_kerja"], row["rating_perilaku"])]
        )


def test_reference_seeds_shapes(warehouse: Path) -> None:
    golongan = query(warehouse, "select golongan from reference.golongan order by golongan_rank")
    assert [g["golongan"] for g in golongan][:5] == ["I/a", "I/b", "I/c", "I/d", "II/a"]
    assert golongan[-1]["golongan"] == "IV/e" and len(golongan) == 17
    grades = query(warehouse, "select grade, min_index, max_index from reference.ikm_grades")
    assert {g["grade"]: (float(g["min_index"]), float(g["max_index"])) for g in grades} == {
        "A": (88.31, 100.0),
        "B": (76.61, 88.30),
        "C": (65.00, 76.60),
        "D": (25.00, 64.99),
    }
    elements = query(warehouse, "select unsur, element_name from reference.skm_elements")
    assert len(elements) == 9 and {"u8", "u9"} <= {e["unsur"] for e in elements}


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def test_periods_seed_maps_each_period_to_its_quarter(warehouse: Path) -> None:
    """seeds/periods.csv (docs/domain.md#quarters): TW q is quarter q and ends in month 3q,
    BULAN m is in quarter (m - 1) // 3 + 1 and ends in month m, TAHUNAN has no quarter."""
    rows = query(
        warehouse,
        "select periode, triwulan, kind, end_month from reference.periods order by sort_order",
    )
    expected = {f"TW {r}": (q, "quarterly", 3 * q) for r, q in ROMAN.items()}
    expected |= {f"BULAN {m}": ((m - 1) // 3 + 1, "monthly", m) for m in range(1, 13)}
    expected["TAHUNAN"] = (None, "annual", 12)
    assert {r["periode"]: (r["triwulan"], r["kind"], r["end_month"]) for r in rows} == expected
    # sort_order follows the period ends; the annual period closes the year
    assert [r["end_month"] for r in rows] == sorted(r["end_month"] for r in rows)
    assert rows[-1]["periode"] == "TAHUNAN"


def test_unit_test_periods_rows_are_the_seed() -> None:
    """The period unit tests give the periods seed inline (a seed's empty cell cannot be read
    into a unit test as NULL): the copy must stay the seed."""
    import yaml

    spec = yaml.safe_load((DBT_DIR / "models" / "intermediate" / "_unit_tests.yml").read_text())
    with (DBT_DIR / "seeds" / "periods.csv").open(newline="", encoding="utf-8") as handle:
        seed = [
            {k: (int(v) if v.isdigit() else (v or None)) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]
    copies = [
        given["rows"]
        for test in spec["unit_tests"]
        for given in test["given"]
        if given["input"] == "ref('periods')"
    ]
    assert len(copies) == 3
    for rows in copies:
        assert rows == seed


def test_agency_period_assessment_carries_the_quarter(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select distinct periode, triwulan, period_kind"
        " from intermediate.int_agency_period_assessment order by all",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("TAHUNAN", None, "annual"),
        ("TW I", 1, "quarterly"),
        ("TW II", 2, "quarterly"),
    ]


DOMAIN_UNIT_TESTS = {
    "skm_index_pools_respondents_and_grades_the_index",
    "skm_index_of_a_year_pools_its_quarters",
    "predikat_follows_the_rating_matrix",
    "period_maps_to_quarter_and_end_date",
    "siasn_records_become_ratings_only_employee_periods",
    "distribution_curve_rules_judged_on_annual_shares",
    "survey_date_gives_year_and_quarter",
    "survey_rebuild_takes_its_window_minus_blocked_quarters",
}


def test_domain_unit_tests_ran_in_the_build(warehouse: Path) -> None:
    """`dbt build` runs the unit tests of the domain rules (docs/domain.md) before their
    models; a failing one would skip its model and fail the build."""
    ran = dict(UNIT_TEST_RESULTS)
    assert ran == dict.fromkeys(DOMAIN_UNIT_TESTS, "pass")


# --- distribution-curve rules at their boundaries ---------------------------------------------

# (rule_id, employees in the rule's group, employees assessed, expected pass)
CURVE_BOUNDARIES = [
    ("IST_SB_MAJORITY", 1, 2, False),  # 50% is not a majority
    ("IST_SB_MAJORITY", 501, 1000, True),
    ("IST_SB_MAX", 7, 10, True),  # 70% passes
    ("IST_SB_MAX", 701, 1000, False),  # 70.1% fails
    ("BAIK_B_MAJORITY", 5, 10, False),
    ("BAIK_B_MAJORITY", 501, 1000, True),
    ("BAIK_B_MAX", 7, 10, True),
    ("BAIK_B_MAX", 701, 1000, False),
    ("BAIK_LOW_PRESENT", 0, 10, False),
    ("BAIK_LOW_PRESENT", 1, 1000, True),
    ("BP_BP_MIN", 6, 10, True),
    ("BP_BP_MIN", 599, 1000, False),
    ("BP_SB_MAX", 1, 10, True),
    ("BP_SB_MAX", 101, 1000, False),
    ("KUR_KM_MIN", 3, 5, True),
    ("KUR_KM_MIN", 599, 1000, False),
    ("KUR_BP_MIN", 1, 10, True),
    ("KUR_BP_MIN", 99, 1000, False),
    ("KUR_SB_MAX", 1, 10, True),
    ("KUR_SB_MAX", 101, 1000, False),
    ("SK_SK_MIN", 6, 10, True),
    ("SK_SK_MIN", 599, 1000, False),
    ("SK_LOW_MIN", 1, 10, True),
    ("SK_LOW_MIN", 99, 1000, False),
    ("SK_SB_NONE", 0, 5, True),
    ("SK_SB_NONE", 1, 1000, False),
]


def test_every_curve_rule_is_checked_at_its_boundary(warehouse: Path) -> None:
    rules = {
        r["rule_id"]
        for r in query(warehouse, "select rule_id from reference.distribution_curve_rules")
    }
    assert rules == {c[0] for c in CURVE_BOUNDARIES}
    assert len(rules) == 13


def test_curve_rule_boundaries(warehouse: Path) -> None:
    """The mart's own pass macro and share formula, fed the boundary counts via `dbt show`."""
    values = ", ".join(f"('{rule}', {k}, {n})" for rule, k, n, _ in CURVE_BOUNDARIES)
    inline = (
        "select c.rule_id, c.k, c.n, "
        "{{ curve_rule_passed(share('c.k', 'c.n'), 'r.operator', 'r.bound') }} as passed "
        f"from (values {values}) as c (rule_id, k, n) "
        "inner join {{ ref('distribution_curve_rules') }} as r on c.rule_id = r.rule_id"
    )
    result = run_dbt(["show", "--inline", inline, "--limit", "-1"], warehouse)
    assert result.success, result.exception
    table = result.result.results[0].agate_table
    observed = {(r["rule_id"], int(r["k"]), int(r["n"])): r["passed"] for r in table.rows}
    expected = {(rule, k, n): ok for rule, k, n, ok in CURVE_BOUNDARIES}
    assert observed == expected


# --- staging ------------------------------------------------------------------------------------


def test_nip_derived_fields(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select distinct employee_key, birth_date, gender, appointment_year, is_pppk"
        " from staging.stg_assessments",
    )
    by_key = {r["employee_key"]: r for r in rows}
    e1 = by_key[pseudonym(E1)]
    assert (str(e1["birth_date"]), e1["gender"], e1["appointment_year"], e1["is_pppk"]) == (
        "1985-03-15",
        "L",
        2010,
        False,
    )
    e6 = by_key[pseudonym(E6)]  # PPPK layout: 19900101 2022 21 2 001
    assert (str(e6["birth_date"]), e6["gender"], e6["appointment_year"], e6["is_pppk"]) == (
        "1990-01-01",
        "P",
        2022,
        True,
    )
    columns = {
        r["column_name"]
        for r in query(
            warehouse,
            "select column_name from information_schema.columns"
            " where table_schema in ('staging', 'intermediate', 'marts')"
            " and table_name not in ('stg_assessment_rows')",
        )
    }
    assert not {"nip", "nama", "nip_penilai"} & columns


def test_superseded_rows_excluded_and_audited(warehouse: Path) -> None:
    kept = query(
        warehouse,
        "select source_file, source_row from staging.stg_assessments"
        " where employee_key = ? and periode = 'TW I'",
        [pseudonym(E1)],
    )
    assert sorted((r["source_file"], r["source_row"]) for r in kept) == [
        ("raw/assessments/2024_tw1_b_revisi.csv", 2),
        ("raw/assessments/2024_tw1_b_revisi.csv", 3),
    ]
    audit = query(
        warehouse,
        "select employee_key, source_file, source_row, winning_source_file"
        " from audit.audit_superseded_submissions order by source_file, source_row",
    )
    assert [(a["source_file"], a["source_row"], a["winning_source_file"]) for a in audit] == [
        # E1's TW I rows in the earlier file lose to the revision; E2's rows there are kept.
        ("raw/assessments/2024_tw1_a.csv", 2, "raw/assessments/2024_tw1_b_revisi.csv"),
        ("raw/assessments/2024_tw1_a.csv", 3, "raw/assessments/2024_tw1_b_revisi.csv"),
        # E2's K1 appears twice in the TW II file: row 5 wins over row 4.
        ("raw/assessments/2024_tw2.csv", 4, "raw/assessments/2024_tw2.csv"),
    ]
    n_staged = one(warehouse, "select count(*) as n from staging.stg_assessments")["n"]
    assert n_staged == 26 - 3


# --- marts: quarter ---------------------------------------------------------------------------


def test_quarter_assessment_measures(warehouse: Path) -> None:
    q1 = quarter_row(warehouse, "OPD01", 2024, 1)
    # E1 (revision): K1 90/100, K2 10/10 -> 0.95; E2: K1 5/4, K2 80/100 -> 1.025.
    assert (q1["n_assessed"], q1["n_indicator_rows"]) == (2, 4)
    assert q1["mean_achievement"] == pytest.approx((0.95 + 1.025) / 2)
    # gaps: E1 K1 90-85 = 5 (K2 has no supervisor score); E2 (95-90, 80-90) -> -2.5.
    assert q1["mean_self_supervisor_gap"] == pytest.approx(1.25)
    # E1 Sangat Baik (revised ratings); E2 exported Sangat Baik although the matrix says Baik.
    assert (q1["n_sangat_baik"], q1["share_sangat_baik"], q1["n_predikat_mismatch"]) == (2, 1.0, 1)

    q2 = quarter_row(warehouse, "OPD01", 2024, 2)
    # E1 (0.8 + 1.2)/2 = 1.0; E2 K1 later row 10/10, K2 10/10 -> 1.0; E3 (0.5 + 0.6)/2 = 0.55.
    assert (q2["n_assessed"], q2["n_indicator_rows"]) == (3, 6)
    assert q2["mean_achievement"] == pytest.approx(0.85)
    assert (q1["capaian_band"], q2["capaian_band"]) == ("Sangat Tinggi", "Tinggi")  # 98.75%, 85%
    assert (q2["n_sangat_baik"], q2["n_baik"], q2["n_butuh_perbaikan"]) == (1, 1, 1)
    assert q2["share_sangat_baik"] == pytest.approx(1 / 3)
    assert q2["n_assessed_change"] == 1
    assert q2["mean_achievement_change"] == pytest.approx(0.85 - 0.9875)
    assert q2["share_sangat_baik_change"] == pytest.approx(1 / 3 - 1)


def test_quarter_ikm_hand_computed(warehouse: Path) -> None:
    q1 = quarter_row(warehouse, "OPD01", 2024, 1)
    # 12 respondents: six answer 4 everywhere, six answer 3; one of the 3s left u9 invalid.
    # NRR u1..u8 = 3.5; NRR u9 = (6*4 + 5*3)/11 = 39/11.
    # IKM = (8*3.5 + 39/11)/9 * 25 = 8675/99 = 87.6262... -> 87.63, grade B (76.61-88.30).
    assert q1["n_responden"] == 12
    assert q1["nrr_u1"] == pytest.approx(3.5)
    assert q1["nrr_u9"] == pytest.approx(39 / 11)
    assert q1["ikm"] == pytest.approx(87.63)
    assert (q1["ikm_grade"], q1["ikm_grade_label"]) == ("B", "Baik")
    # Previous consecutive quarter is 2023 Q4: one respondent answering 2 -> index 50.00, D.
    q4 = quarter_row(warehouse, "OPD01", 2023, 4)
    assert (q4["ikm"], q4["ikm_grade"], q4["n_responden"]) == (50.0, "D", 1)
    assert q1["ikm_change"] == pytest.approx(37.63)
    # OPD02 Q2 2024: two respondents answering 4 everywhere -> 100.00, A.
    opd2 = quarter_row(warehouse, "OPD02", 2024, 2)
    assert (opd2["ikm"], opd2["ikm_grade"], opd2["ikm_grade_label"]) == (100.0, "A", "Sangat Baik")


def test_quarter_training_coverage(warehouse: Path) -> None:
    # OPD01 employees in 2024 (latest period's agency): E1, E2, E3, E8 -> 4.
    # Q1 courses: E1 12, E2 24, E8 8 -> 44 JP, 11 per employee; YTD >= 20 at end Q1: E2 only.
    q1 = quarter_row(warehouse, "OPD01", 2024, 1)
    assert (q1["jp_total"], q1["jp_per_employee"], q1["share_20jp"]) == (44.0, 11.0, 0.25)
    # Q2: E1 10 more JP (YTD 22) -> E1 and E2 reach 20 by the end of Q2.
    q2 = quarter_row(warehouse, "OPD01", 2024, 2)
    assert (q2["jp_total"], q2["jp_per_employee"], q2["share_20jp"]) == (10.0, 2.5, 0.5)
    assert q2["share_20jp_change"] == pytest.approx(0.25)
    # OPD02 (E4, E5, E6): E4's 30 JP course starts in Q3.
    q3 = quarter_row(warehouse, "OPD02", 2024, 3)
    assert (q3["jp_total"], q3["share_20jp"]) == (30.0, pytest.approx(1 / 3))
    assert quarter_row(warehouse, "OPD02", 2024, 1)["share_20jp"] == 0.0


def test_quarter_spine_and_no_change_across_gaps(warehouse: Path) -> None:
    quarters = query(
        warehouse,
        "select distinct tahun, triwulan from marts.mart_agency_quarter order by all",
    )
    # Observed: 2023 Q1 (training), 2023 Q4 (survey), 2024 Q1..Q3 (assessments, surveys, training).
    assert [(q["tahun"], q["triwulan"]) for q in quarters] == [
        (2023, 1),
        (2023, 4),
        (2024, 1),
        (2024, 2),
        (2024, 3),
    ]
    n = one(warehouse, "select count(*) as n from marts.mart_agency_quarter")["n"]
    assert n == 2 * 5
    # 2023 Q4 follows 2023 Q3, which is not in the mart: the change is NULL, not vs Q1.
    assert quarter_row(warehouse, "OPD01", 2023, 4)["n_assessed_change"] is None


# --- marts: year --------------------------------------------------------------------------------


def test_year_curve_violation_named(warehouse: Path) -> None:
    y = year_row(warehouse, "OPD01", 2024)
    # TAHUNAN 2024: E1, E2, E3 Sangat Baik, E8 Baik -> 75% Sangat Baik under Istimewa.
    assert (y["n_assessed"], y["n_sangat_baik"], y["share_sangat_baik"]) == (4, 3, 0.75)
    assert y["predikat_organisasi"] == "Istimewa"
    assert y["curve_compliant"] is False
    assert y["curve_broken_rules"] == "Sangat Baik 75.0% > 70% (max for Istimewa)"
    curve = query(
        warehouse,
        "select rule_id, observed_share, bound, passed from marts.mart_distribution_curve"
        " where kode_opd = 'OPD01' and tahun = 2024 order by rule_id",
    )
    assert [(c["rule_id"], c["observed_share"], c["passed"]) for c in curve] == [
        ("IST_SB_MAJORITY", 0.75, True),
        ("IST_SB_MAX", 0.75, False),
    ]


def test_year_curve_compliant_and_missing_predikat(warehouse: Path) -> None:
    # OPD02 2024 Baik: Baik 2/3 (majority, <= 70%), one Butuh Perbaikan -> compliant.
    y = year_row(warehouse, "OPD02", 2024)
    assert (y["curve_compliant"], y["curve_broken_rules"]) == (True, None)
    # OPD02 2023 Sangat Kurang: Sangat Kurang 1/2 = 50% < 60%.
    y = year_row(warehouse, "OPD02", 2023)
    assert y["curve_compliant"] is False
    assert y["curve_broken_rules"] == "Sangat Kurang 50.0% < 60% (min for Sangat Kurang)"
    # OPD01 2023 has no organisation predikat.
    y = year_row(warehouse, "OPD01", 2023)
    assert (y["predikat_organisasi"], y["curve_compliant"], y["curve_broken_rules"]) == (
        None,
        None,
        None,
    )


def test_year_measures_and_changes(warehouse: Path) -> None:
    y23 = year_row(warehouse, "OPD01", 2023)
    y24 = year_row(warehouse, "OPD01", 2024)
    # 2023: E1 110/100, others 100/100 -> 1.025; 2024: E8 80/100 -> (3 + 0.8)/4 = 0.95.
    assert y23["mean_achievement"] == pytest.approx(1.025)
    assert y24["mean_achievement"] == pytest.approx(0.95)
    assert y24["mean_achievement_change"] == pytest.approx(-0.075)
    assert y24["n_assessed_change"] == 0
    # Sangat Baik 1/4 in 2023 (E3) -> 3/4 in 2024.
    assert y24["share_sangat_baik_change"] == pytest.approx(0.5)
    # SKM: 2023 one respondent -> 50.00 (D); 2024 the twelve Q1 respondents -> 87.63 (B).
    assert (y23["ikm"], y23["ikm_grade"]) == (50.0, "D")
    assert (y24["ikm"], y24["ikm_grade"], y24["n_responden"]) == (87.63, "B", 12)
    assert y24["ikm_change"] == pytest.approx(37.63)
    # Training 2024: 12 + 10 + 24 + 8 = 54 JP over 4 employees; E1 (22) and E2 (24) reach 20.
    assert (y24["jp_total"], y24["jp_per_employee"], y24["share_20jp"]) == (54.0, 13.5, 0.5)
    # 2023: E3's 20 JP course -> 1 of 4.
    assert (y23["jp_total"], y23["share_20jp"]) == (20.0, 0.25)
    assert y24["share_20jp_change"] == pytest.approx(0.25)
    assert y24["n_predikat_mismatch"] == 0  # the mismatch is in TW I, not TAHUNAN


def test_year_training_need(warehouse: Path) -> None:
    # OPD01 2023: E8 Butuh Perbaikan (TAHUNAN, ends 2023-12-31) trained 2024-02-01 -> no need.
    assert year_row(warehouse, "OPD01", 2023)["n_training_need"] == 0
    # OPD01 2024: E3 Butuh Perbaikan in TW II (ends 2024-06-30); his only course was in 2023.
    assert year_row(warehouse, "OPD01", 2024)["n_training_need"] == 1
    # OPD02 2023: E4 (BP) trained 2024-07-01, E5 (Sangat Kurang) never -> 1.
    assert year_row(warehouse, "OPD02", 2023)["n_training_need"] == 1
    # OPD02 2024: E6 Butuh Perbaikan in TAHUNAN, no training after -> 1.
    assert year_row(warehouse, "OPD02", 2024)["n_training_need"] == 1


# --- audit --------------------------------------------------------------------------------------


def test_audit_predikat_mismatch(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select employee_key, periode, predikat_exported, predikat_expected, source_file,"
        " source_row from audit.audit_predikat_mismatch order by source_row",
    )
    assert [
        (
            r["employee_key"],
            r["periode"],
            r["predikat_exported"],
            r["predikat_expected"],
            r["source_row"],
        )
        for r in rows
    ] == [
        (pseudonym(E2), "TW I", "Sangat Baik", "Baik", 4),
        (pseudonym(E2), "TW I", "Sangat Baik", "Baik", 5),
    ]
    assert {r["source_file"] for r in rows} == {"raw/assessments/2024_tw1_a.csv"}


def test_audit_employee_field_conflicts(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select employee_key, tahun, periode, field_name, distinct_values"
        " from audit.audit_employee_field_conflicts",
    )
    assert rows == [
        {
            "employee_key": pseudonym(E3),
            "tahun": 2024,
            "periode": "TW II",
            "field_name": "golongan",
            "distinct_values": "III/b | III/c",
        }
    ]


def krejcie_morgan(population: int) -> int:
    """Independent restatement of the formula, rounded half up as Krejcie & Morgan's table
    is (tests/test_krejcie_morgan.py), for the expected values."""
    chi2, p, d = 3.841, 0.5, 0.05
    return math.floor(
        chi2 * population * p * (1 - p) / (d**2 * (population - 1) + chi2 * p * (1 - p)) + 0.5
    )


def test_audit_survey_sample_size(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select kode_opd, unit_layanan, tahun, populasi, n_responden, required_sample, adequate"
        " from audit.audit_survey_sample_size order by kode_opd, unit_layanan, tahun",
    )
    # Krejcie & Morgan's table: N=100 -> 80, N=10 -> 10; N=2 -> 2.
    assert krejcie_morgan(100) == 80 and krejcie_morgan(10) == 10
    assert [tuple(r.values()) for r in rows] == [
        ("OPD01", "Puskesmas A", 2023, None, 1, None, None),
        ("OPD01", "Puskesmas A", 2024, 100, 8, 80, False),
        ("OPD01", "Puskesmas B", 2024, 10, 4, 10, False),
        ("OPD02", "Sekolah X", 2024, 2, 2, 2, True),
    ]
    assert year_row(warehouse, "OPD01", 2024)["n_units_undersampled"] == 2
    assert year_row(warehouse, "OPD02", 2024)["n_units_undersampled"] == 0
    # 2023: Puskesmas A has no population -> no unit could be judged: NULL, not 0
    assert year_row(warehouse, "OPD01", 2023)["n_units_undersampled"] is None


def test_audit_training_unknown_employee(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select employee_key, source_row, jp from audit.audit_training_unknown_employee",
    )
    assert rows == [{"employee_key": pseudonym(E7), "source_row": 8, "jp": 5.0}]


def test_mart_grains_unique(warehouse: Path) -> None:
    for table, grain in (
        ("mart_agency_quarter", "kode_opd, tahun, triwulan"),
        ("mart_agency_year", "kode_opd, tahun"),
        ("mart_distribution_curve", "kode_opd, tahun, rule_id"),
    ):
        dup = query(
            warehouse,
            f"select {grain}, count(*) from marts.{table} group by all having count(*) > 1",
        )
        assert dup == [], table


def _columns(path: Path, table: str) -> dict[str, str]:
    rows = query(
        path,
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [table],
    )
    return {r["column_name"]: r["data_type"] for r in rows}


PREDIKAT_MEASURES = [
    "n_assessed",
    "n_indicator_rows",
    "n_with_indicators",
    "n_sangat_baik",
    "n_baik",
    "n_butuh_perbaikan",
    "n_kurang_misconduct",
    "n_sangat_kurang",
    "share_sangat_baik",
    "share_baik",
    "share_butuh_perbaikan",
    "share_kurang_misconduct",
    "share_sangat_kurang",
    "mean_achievement",
    "capaian_band",
    "mean_self_supervisor_gap",
    "n_predikat_mismatch",
]
SKM = ["ikm", "ikm_grade", "ikm_grade_label", "n_responden"] + [f"nrr_u{i}" for i in range(1, 10)]
TRAINING = ["jp_total", "n_employees", "jp_per_employee", "share_20jp"]
CHANGES = [
    "n_assessed_change",
    "mean_achievement_change",
    "share_sangat_baik_change",
    "ikm_change",
    "share_20jp_change",
]


def test_mart_columns_and_types(warehouse: Path) -> None:
    quarter = _columns(warehouse, "mart_agency_quarter")
    assert list(quarter) == [
        *["kode_opd", "nama_opd", "pemda", "tahun", "triwulan"],
        *PREDIKAT_MEASURES,
        *SKM,
        *TRAINING,
        *CHANGES,
    ]
    year = _columns(warehouse, "mart_agency_year")
    assert list(year) == [
        *["kode_opd", "nama_opd", "pemda", "tahun"],
        *PREDIKAT_MEASURES,
        *["predikat_organisasi", "curve_compliant", "curve_broken_rules"],
        *SKM,
        "n_units_undersampled",
        *TRAINING,
        "n_training_need",
        *CHANGES,
    ]
    for columns in (quarter, year):
        assert columns["tahun"] == "INTEGER" and columns["n_assessed"] == "INTEGER"
        assert columns["ikm"] == "DOUBLE" and columns["share_20jp"] == "DOUBLE"
        assert columns["ikm_grade"] == "VARCHAR"
    assert quarter["triwulan"] == "INTEGER"
    assert year["curve_compliant"] == "BOOLEAN"


def test_blocked_quarter_stays_out_of_staging_and_marts(warehouse: Path) -> None:
    """raw.files says 2025-Q1 of the training export is 90% quarantined (ingestion writes it
    to raw.blocked_quarters): its valid row is kept in raw but no model downstream sees it."""
    assert query(warehouse, "select source, quarter, reason from raw.blocked_quarters") == [
        {
            "source": "training",
            "quarter": date(2025, 1, 1),
            "reason": "90.0% of 30 rows quarantined (limit 20%)",
        }
    ]
    raw = one(warehouse, "select count(*) as n from raw.training where source_file like '%broken%'")
    assert raw["n"] == 1
    staged = query(warehouse, "select * from staging.stg_training where quarter >= '2025-01-01'")
    assert staged == []
    trained = query(warehouse, "select * from intermediate.int_training_employee_year")
    assert 2025 not in {r["tahun"] for r in trained}
    assert {r["tahun"] for r in trained} == {2023, 2024}
