"""The planners' quarterly evaluation (marts.mart_agency_indicator_quarter, Form E.81 shape) and
the indicator rules it rests on, on a warehouse small enough to compute by hand: a summed
indicator (K1: jumlah by the reference), a lower-is-better one (K2: turun / terakhir by the
export's own columns, contradicted by the reference), and an undeclared one (K3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import blocked
from tests.test_dbt_models import (
    QUARANTINE_COLUMNS,
    RAW_TABLES,
    _insert,
    _sha,
    assert_built,
    pseudonym,
    quarter_of,
    run_dbt,
)

E1, E2 = "198503152010011001", "199002202015032002"
QUARTERS = ["TW I", "TW II", "TW III", "TW IV"]
DECLARED = {"arah": "turun", "jenis_agregasi": "terakhir", "aspek": "waktu"}
# (nip, tahun, periode, kode_indikator, target, realisasi)
ROWS = [
    *[(E1, 2024, q, "K1", 3, 3) for q in QUARTERS],
    (E1, 2024, "TAHUNAN", "K1", 12, 12),
    *[(E1, 2025, q, "K1", 3, r) for q, r in zip(QUARTERS, [2, 4, 3], strict=False)],
    *[(E2, 2025, q, "K1", 2, r) for q, r in zip(QUARTERS, [2, 1, 3], strict=False)],
    *[(E1, 2025, q, "K2", 3, r) for q, r in zip(QUARTERS, [2, 4, 3], strict=False)],
    *[(E2, 2025, q, "K2", 5, r) for q, r in zip(QUARTERS, [5, 6, 4], strict=False)],
    (E1, 2025, "TW I", "K3", 90, 45),
]


def raw_rows() -> list[dict]:
    rows = []
    for i, (nip, tahun, periode, kode, target, realisasi) in enumerate(ROWS, start=2):
        row = {
            "nip": nip,
            "employee_key": pseudonym(nip),
            "kode_opd": "OPD01",
            "nama_opd": "Dinas Satu",
            "jenis_jabatan": "Pelaksana",
            "golongan": "III/a",
            "tahun": tahun,
            "periode": periode,
            "kode_indikator": kode,
            "indikator": f"Indikator {kode}",
            "satuan": "hari" if kode == "K2" else "dokumen",
            "target": float(target),
            "realisasi": float(realisasi),
            "rating_hasil_kerja": "SESUAI EKSPEKTASI",
            "rating_perilaku": "SESUAI EKSPEKTASI",
            "predikat": "Baik",
            "is_pppk": False,
            "source_file": f"raw/assessments/{tahun}.csv",
            "source_row": i,
            **(DECLARED if kode == "K2" else {}),
        }
        row["file_sha256"] = _sha(row["source_file"])
        row["quarter"] = quarter_of(row)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("planners") / "warehouse.duckdb"
    assessments = raw_rows()
    data = {name: [] for name in RAW_TABLES}
    data |= {
        "assessments": assessments,
        "agencies": [{"kode_opd": "OPD01", "nama_opd": "Dinas Satu", "pemda": "Kota A"}],
        "indikator": [
            {"kode_indikator": "K1", "arah": "naik", "jenis_agregasi": "jumlah"},
            {"kode_indikator": "K2", "arah": "naik"},  # contradicts the export: listed
        ],
        "files": [
            {
                "source": "assessments",
                "source_file": f,
                "quarter": q,
                "file_sha256": _sha(f),
                "n_rows_read": n,
                "n_rows_loaded": n,
                "n_rows_quarantined": 0,
            }
            for (f, q), n in _count(assessments).items()
        ],  # fmt: skip
    }
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA quarantine;")
        for table, columns in RAW_TABLES.items():
            _insert(con, f"raw.{table}", columns, data[table])
        for source in ("assessments", "surveys", "training", "siasn"):
            _insert(con, f"quarantine.{source}", QUARANTINE_COLUMNS, [])
        for source in ("assessments", "surveys", "training"):
            blocked.refresh(con, source, blocked.BlockRule(), lambda _: True)
    result = run_dbt(
        [
            "build",
            *[
                "--select",
                "+mart_agency_indicator_quarter",
                "+audit_indicator_rules",
                "+int_employee_period",
            ],
            *["--indirect-selection", "cautious"],
        ],
        path,
    )
    assert_built(result)
    return path


def _count(rows: list[dict]) -> dict[tuple[str, date], int]:
    counts: dict[tuple[str, date], int] = {}
    for row in rows:
        key = (row["source_file"], row["quarter"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def view(path: Path, kode: str, tahun: int) -> dict[int, dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(
            "select * from marts.mart_agency_indicator_quarter"
            " where kode_indikator = ? and tahun = ? order by triwulan",
            [kode, tahun],
        )
        names = [d[0] for d in cursor.description]
        return {
            r[names.index("triwulan")]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()
        }


def test_summed_indicator_by_hand(warehouse: Path) -> None:
    """K1 2025 (jumlah): quarters sum over employees - TW I 2+2 = 4 of target 3+2 = 5, TW II
    4+1 = 5, TW III 3+3 = 6. No TAHUNAN row yet: annual target 4 x 3 + 4 x 2 = 20. As of TW III
    realised 15 of 15 to date (100%, Sangat Tinggi) and 15/20 = 75% of the year (Sedang: 75 is
    not above 75). TW I a year earlier: 3 of 3 -> change 0.8 - 1.0."""
    rows = view(warehouse, "K1", 2025)
    assert sorted(rows) == [1, 2, 3]  # as of every quarter up to the latest with rows
    q3 = rows[3]
    assert (q3["arah"], q3["jenis_agregasi"], q3["n_holders"]) == ("naik", "jumlah", 2)
    assert (q3["realisasi_tw1"], q3["realisasi_tw2"], q3["realisasi_tw3"]) == (4, 5, 6)
    assert q3["realisasi_tw4"] is None
    assert (q3["annual_target"], q3["realisasi_to_date"], q3["target_to_date"]) == (20, 15, 15)
    assert q3["capaian_annual"] == pytest.approx(0.75)
    assert (q3["capaian_annual_band"], q3["capaian_to_date_band"]) == ("Sedang", "Sangat Tinggi")
    assert q3["capaian_to_date"] == pytest.approx(1.0)
    q1 = rows[1]
    assert q1["realisasi_tw2"] is None  # later quarters stay empty in an earlier view
    assert (q1["realisasi_to_date"], q1["target_to_date"]) == (4, 5)
    assert (q1["capaian_to_date"], q1["capaian_to_date_band"]) == (pytest.approx(0.8), "Tinggi")
    assert (q1["capaian_to_date_prev_year"], q1["n_holders_prev_year"]) == (1.0, 1)
    assert q1["capaian_to_date_change"] == pytest.approx(-0.2)
    year_2024 = view(warehouse, "K1", 2024)[4]  # TAHUNAN target 12; four quarters of 3
    assert (year_2024["annual_target"], year_2024["realisasi_to_date"]) == (12, 12)
    assert year_2024["capaian_annual"] == pytest.approx(1.0)


def test_lower_is_better_indicator_by_hand(warehouse: Path) -> None:
    """K2 (turun, terakhir): the agency's value is the mean over employees - TW II (4 + 6)/2
    = 5 days against (3 + 5)/2 = 4: (2 x 4 - 5)/4 = 75% (Sedang); TW III 3.5 days: (8 - 3.5)/4
    = 112.5% (Sangat Tinggi, not capped). Realisation to date is the latest quarter's value,
    never a sum."""
    rows = view(warehouse, "K2", 2025)
    assert (rows[2]["arah"], rows[2]["jenis_agregasi"]) == ("turun", "terakhir")
    assert (rows[2]["realisasi_to_date"], rows[2]["target_to_date"]) == (5, 4)
    assert rows[2]["capaian_to_date"] == pytest.approx(0.75)
    assert rows[2]["capaian_to_date_band"] == "Sedang"
    assert rows[3]["realisasi_to_date"] == 3.5
    assert rows[3]["capaian_to_date"] == pytest.approx(1.125)
    assert rows[3]["capaian_annual"] == pytest.approx(1.125)  # annual target: latest, 4
    assert rows[3]["capaian_to_date_band"] == "Sangat Tinggi"


def test_terakhir_carries_the_latest_value_forward(warehouse: Path) -> None:
    """K3 has a TW I row only: as of TW II and TW III its latest value is TW I's 45 of 90."""
    rows = view(warehouse, "K3", 2025)
    assert [rows[q]["realisasi_to_date"] for q in (1, 2, 3)] == [45, 45, 45]
    assert [rows[q]["capaian_to_date_band"] for q in (1, 2, 3)] == ["Sangat Rendah"] * 3
    assert rows[3]["n_holders"] == 1


def test_employee_capaian_follows_direction(warehouse: Path) -> None:
    """int_indicator_achievement and int_employee_period use the direction-aware capaian:
    E1's TW II 2025 is K1 4/3 and K2 (6 - 4)/3 = 2/3, mean 1.0."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute(
            "select kode_indikator, achievement from intermediate.int_indicator_achievement"
            " where employee_key = ? and tahun = 2025 and periode = 'TW II' order by 1",
            [pseudonym(E1)],
        ).fetchall()
        mean = con.execute(
            "select mean_achievement from intermediate.int_employee_period"
            " where employee_key = ? and tahun = 2025 and periode = 'TW II'",
            [pseudonym(E1)],
        ).fetchone()[0]
    assert got == [("K1", pytest.approx(4 / 3)), ("K2", pytest.approx(2 / 3))]
    assert mean == pytest.approx(1.0)


def test_rules_and_their_audit(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rules = con.execute(
            "select kode_indikator, arah, arah_source, jenis_agregasi, jenis_agregasi_source"
            " from intermediate.int_indicator_rule order by 1"
        ).fetchall()
        audit = con.execute(
            "select kode_indikator, issue, detail from audit.audit_indicator_rules order by 1"
        ).fetchall()
    assert rules == [
        ("K1", "naik", "reference", "jumlah", "reference"),
        ("K2", "turun", "export", "terakhir", "export"),
        ("K3", "naik", "default", "terakhir", "default"),
    ]
    assert [(k, issue) for k, issue, _ in audit] == [("K2", "conflict"), ("K3", "undeclared")]
    assert "reference says arah naik" in audit[0][2]
    assert "declare it in reference/indikator.csv" in audit[1][2]
