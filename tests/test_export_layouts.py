"""Hand-built exports through ingestion and dbt: SKM answer columns named by element in
another order (issue 11 §2) and training attendances entered twice.

Every expected number is worked out by hand from the rows written below (arithmetic in the
comments); ingestion and dbt run once per module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest import assessments, surveys, training
from pipelines.rules import skm
from pipelines.rules.pseudonym import pseudonym
from pipelines.settings import SOURCES
from tests.ingest_support import materialize_sources
from tests.test_dbt_models import query, run_dbt

KEY = "layout-test-key"
E1, E2 = "198503152010011001", "199002202015032002"
RATER = "197807012005021003"
TRAINING_A = "raw/training/pelatihan_2024.csv"
TRAINING_B = "raw/training/pelatihan_2024_b.csv"  # sorts after TRAINING_A

# OPD01 exports its elements by name, Sarana (U9) in the 8th place and Penanganan Pengaduan (U8)
# in the 9th, with its own case and spacing. Answers per respondent, canonical element first.
NAMED_HEADER = [
    ("u1", "Persyaratan"),
    ("u2", "SISTEM,  MEKANISME DAN PROSEDUR"),
    ("u3", "waktu penyelesaian"),
    ("u4", "Biaya / Tarif"),
    ("u5", "Produk Spesifikasi Jenis Pelayanan"),
    ("u6", "Kompetensi Pelaksana"),
    ("u7", " Perilaku Pelaksana "),
    ("u9", "Sarana dan Prasarana"),
    ("u8", "Penanganan Pengaduan, Saran dan Masukan"),
]
NAMED_ANSWERS = {  # canonical element -> answers of respondents R1, R2, R3
    "u1": (4, 4, 4),  # NRR 4
    "u2": (3, 3, 3),  # 3
    "u3": (2, 3, 4),  # 3
    "u4": (4, 4, 3),  # 11/3
    "u5": (1, 2, 3),  # 2
    "u6": (3, 4, 4),  # 11/3
    "u7": (2, 2, 2),  # 2
    "u8": (1, 1, 2),  # 4/3
    "u9": (4, 3, 3),  # 10/3
}


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_exports(data_dir: Path) -> None:
    for folder in ("reference", "raw/assessments", "raw/surveys", "raw/training"):
        (data_dir / folder).mkdir(parents=True)
    (data_dir / "reference/agencies.csv").write_text(
        "kode_opd,nama_opd,pemda\nOPD01,Dinas Kesehatan,Kota A\nOPD02,Dinas Pendidikan,Kota A\n"
    )
    (data_dir / "reference/predikat_organisasi.csv").write_text(
        "kode_opd,tahun,predikat\nOPD01,2024,Baik\nOPD02,2024,Baik\n"
    )
    (data_dir / "reference/service_population.csv").write_text(
        "kode_opd,unit_layanan,tahun,populasi\nOPD01,Puskesmas A,2024,100\n"
    )
    rating = ["SESUAI EKSPEKTASI", "SESUAI EKSPEKTASI", "Baik", RATER]
    assessment = ["OPD01", "Dinas Kesehatan", "Umum", "Analis", "Pelaksana", "III/a", 2024, "TW I"]
    (data_dir / "raw/assessments/2024_tw1.csv").write_text(
        _csv(
            [
                assessments.COLUMNS,
                [E1, "Budi", *assessment, "K1", "Laporan", 100, 90, "%", 90, 88, *rating],
                [E2, "Sari", *assessment, "K1", "Laporan", 100, 95, "%", 90, 90, *rating],
            ]
        )
    )
    respondents = [
        [f"R{r + 1}", f"2024-02-0{r + 1}", "OPD01", "Puskesmas A"]
        + [NAMED_ANSWERS[code][r] for code, _ in NAMED_HEADER]
        for r in range(3)
    ]
    header = ["id_responden", "tanggal", "kode_opd", "unit_layanan"]
    (data_dir / "raw/surveys/skm_opd01.csv").write_text(
        _csv([header + [name for _, name in NAMED_HEADER], *respondents])
    )
    # OPD02 numbers its answers u1..u9 (the seed's order: u8 Penanganan, u9 Sarana).
    (data_dir / "raw/surveys/skm_opd02.csv").write_text(
        _csv(
            [
                header + [f"u{i}" for i in range(1, 10)],
                ["S1", "2024-03-01", "OPD02", "Sekolah X", *[4] * 7, 1, 4],
                ["S2", "2024-03-02", "OPD02", "Sekolah X", *[4] * 7, 2, 3],
            ]
        )
    )
    course = ["nonklasikal", "BRIDA"]
    (data_dir / TRAINING_A).write_text(
        _csv(
            [
                training.COLUMNS,
                [E1, "Seminar Inovasi Daerah", *course, "2024-02-05", "2024-02-05", 4, "Y"],  # 2
                [E1, "Seminar Inovasi Daerah", *course, "2024-02-05", "2024-02-05", 4, "Y"],  # 3
                [E1, "Seminar Inovasi Daerah", *course, "2024-05-06", "2024-05-06", 4, "Y"],  # 4
                [E1, "Pelayanan Prima", *course, "2024-02-05", "2024-02-06", 10, "Y"],  # 5
                [E2, "Manajemen Risiko", *course, "2024-03-11", "2024-03-12", 8, "Y"],  # 6
                [E2, "Analisis Kebijakan", *course, "2024-04-01", "2024-04-01", 6, "N"],  # 7
            ]
        )
    )
    # The same Manajemen Risiko attendance again, other case and spacing, other JP.
    (data_dir / TRAINING_B).write_text(
        _csv(
            [
                training.COLUMNS,
                [E2, "manajemen   RISIKO", *course, "2024-03-11", "2024-03-12", 16, "Y"],
            ]
        )
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("layouts")
    data_dir, path = root / "data", root / "warehouse.duckdb"
    write_exports(data_dir)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KINERJA_DATA_DIR", str(data_dir))
        env.setenv("KINERJA_WAREHOUSE", str(path))
        env.setenv("KINERJA_PSEUDONYM_KEY", KEY)
        env.setenv("KINERJA_DBT_DATABASE", str(path))
        ingested = materialize_sources(SOURCES, path)
        assert ingested.success
        result = run_dbt(["build"], path)
        assert result.success, result.exception
        yield path


def mart_quarter(path: Path, kode_opd: str, triwulan: int) -> dict:
    (row,) = query(
        path,
        "select * from marts.mart_agency_quarter"
        f" where kode_opd = '{kode_opd}' and tahun = 2024 and triwulan = {triwulan}",
    )
    return row


# --- SKM elements by name ------------------------------------------------------------------


def test_named_elements_in_another_order_land_in_their_canonical_element(
    warehouse: Path,
) -> None:
    q1 = mart_quarter(warehouse, "OPD01", 1)
    expected = {"u1": 4, "u2": 3, "u3": 3, "u4": 11 / 3, "u5": 2, "u6": 11 / 3, "u7": 2}
    expected |= {"u8": 4 / 3, "u9": 10 / 3}  # Penanganan 1,1,2; Sarana 4,3,3
    assert q1["n_responden"] == 3
    for code, nrr in expected.items():
        assert abs(q1[f"nrr_{code}"] - nrr) < 1e-9, code
    # Σ NRR = 4+3+3+11/3+2+11/3+2+4/3+10/3 = 14 + 36/3 = 26; IKM = 26/9 * 25 = 72.222.. -> 72.22
    # (weights 0.111 would give 72.15), grade C (65.00-76.60).
    assert abs(q1["ikm"] - 72.22) < 1e-9
    assert (q1["ikm_grade"], q1["ikm_grade_label"]) == ("C", "Kurang Baik")
    raw = query(warehouse, "select u8, u9 from raw.surveys where kode_opd = 'OPD01' order by 1")
    assert [(r["u8"], r["u9"]) for r in raw] == [(1, 4), (1, 3), (2, 3)]


def test_numbered_elements_follow_the_seed_order(warehouse: Path) -> None:
    q1 = mart_quarter(warehouse, "OPD02", 1)
    # u8 = (1+2)/2 = 1.5, u9 = (4+3)/2 = 3.5; Σ NRR = 7*4 + 5 = 33; 33/9*25 = 91.666.. -> 91.67.
    assert (q1["nrr_u7"], q1["nrr_u8"], q1["nrr_u9"]) == (4.0, 1.5, 3.5)
    assert abs(q1["ikm"] - 91.67) < 1e-9
    assert q1["ikm_grade"] == "A"


def _seed(tmp_path: Path, order: list[int], synonyms: dict[int, str] | None = None) -> Path:
    lines = ["unsur,element_name,element_order,synonyms"]
    for i, (code, name) in enumerate(zip(skm.SKM_ELEMENTS, _SEED_NAMES, strict=True)):
        lines.append(f'{code},"{name}",{order[i]},"{(synonyms or {}).get(i + 1, "")}"')
    path = tmp_path / "skm_elements.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


_SEED_NAMES = [
    "Persyaratan",
    "Sistem, Mekanisme dan Prosedur",
    "Waktu Penyelesaian",
    "Biaya/Tarif",
    "Produk Spesifikasi Jenis Pelayanan",
    "Kompetensi Pelaksana",
    "Perilaku Pelaksana",
    "Penanganan Pengaduan, Saran dan Masukan",
    "Sarana dan Prasarana",
]


def test_seed_names_the_canonical_elements() -> None:
    elements = skm.seed_elements()
    assert [(e.unsur, e.name, e.order) for e in elements] == [
        (f"u{i}", name, i) for i, name in enumerate(_SEED_NAMES, start=1)
    ]
    by_code = {e.unsur: e.headers for e in elements}
    assert "penanganan_pengaduan,saran_dan_masukan" in by_code["u8"]  # tight comma
    assert {"sarana_dan_prasarana", "sarana"} <= set(by_code["u9"])
    assert set(skm.named_headers(elements)) <= set(surveys.OPTIONAL)


def test_configured_order_maps_numbered_columns_per_file(tmp_path: Path) -> None:
    """A seed for exports that put Sarana in u8: numbered files swap, named files do not. A
    numbered file is read by number even beside a column that shares an element's name."""
    elements = skm.read_elements(_seed(tmp_path, [1, 2, 3, 4, 5, 6, 7, 9, 8], {3: "Waktu"}))
    frame = pl.DataFrame(
        {
            "source_file": ["numbered.csv", "named.csv", "named.csv"],
            "u3": ["2", None, None],
            "u8": ["1", None, None],
            "u9": ["4", None, None],
            "waktu": ["08:15", "3", None],  # a timestamp in numbered.csv
            "sarana_dan_prasarana": [None, "3", "4"],
            "penanganan_pengaduan,_saran_dan_masukan": [None, "2", None],
        }
    )
    mapped = skm.to_canonical_elements(frame, elements)
    assert mapped.select("u3", "u8", "u9").rows() == [
        ("2", "4", "1"),
        ("3", "2", "3"),
        (None, None, "4"),
    ]
    assert "sarana_dan_prasarana" not in mapped.columns and "waktu" not in mapped.columns


def test_seed_that_would_map_a_header_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="header 'sarana' names u8 and u9"):
        skm.read_elements(_seed(tmp_path, list(range(1, 10)), {8: "Sarana", 9: "Sarana"}))
    with pytest.raises(ValueError, match="header 'saran' names the survey column saran and u8"):
        skm.read_elements(_seed(tmp_path, list(range(1, 10)), {8: "Saran"}))
    with pytest.raises(ValueError, match="element_order"):
        skm.read_elements(_seed(tmp_path, [1, 2, 3, 4, 5, 6, 7, 8, 8]))


# --- training attendances entered twice ----------------------------------------------------


def test_repeated_attendance_counts_once(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select employee_key, n_courses, jp_total, jp_q1, jp_ytd_q2, reached_20jp"
        " from intermediate.int_training_employee_year order by jp_total",
    )
    key = KEY.encode()
    assert rows == [
        # E1: Seminar 4 (rows 2 and 3 are one attendance) + Seminar on another date 4 + Pelayanan
        # Prima the same day 10 = 18 JP, short of 20 (22 if the repeat counted).
        {
            "employee_key": pseudonym(E1, key),
            "n_courses": 3,
            "jp_total": 18.0,
            "jp_q1": 14.0,
            "jp_ytd_q2": 18.0,
            "reached_20jp": False,
        },
        # E2: Manajemen Risiko kept from the later file (16 JP, not 8) + Analisis Kebijakan 6.
        {
            "employee_key": pseudonym(E2, key),
            "n_courses": 2,
            "jp_total": 22.0,
            "jp_q1": 16.0,
            "jp_ytd_q2": 22.0,
            "reached_20jp": True,
        },
    ]
    # OPD01 Q1: 14 + 16 = 30 JP over 2 employees, neither at 20 yet; Q2: 4 + 6, E2 reaches 22.
    q1, q2 = mart_quarter(warehouse, "OPD01", 1), mart_quarter(warehouse, "OPD01", 2)
    assert (q1["jp_total"], q1["jp_per_employee"], q1["share_20jp"]) == (30.0, 15.0, 0.0)
    assert (q2["jp_total"], q2["share_20jp"]) == (10.0, 0.5)


def test_every_dropped_record_is_audited_with_the_kept_one(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select employee_key, nama_pelatihan, kept_nama_pelatihan, jp, kept_jp, jp_differs,"
        " source_file, source_row, kept_source_file, kept_source_row"
        " from audit.audit_training_duplicates order by jp",
    )
    key = KEY.encode()
    assert [tuple(r.values()) for r in rows] == [
        (pseudonym(E1, key), "Seminar Inovasi Daerah", "Seminar Inovasi Daerah", 4.0, 4.0)
        + (False, TRAINING_A, 2, TRAINING_A, 3),
        (pseudonym(E2, key), "Manajemen Risiko", "manajemen   RISIKO", 8.0, 16.0)
        + (True, TRAINING_A, 6, TRAINING_B, 2),
    ]
    # Every loaded row is counted once or listed here: 7 = 5 + 2.
    (counts,) = query(
        warehouse,
        "select (select count(*) from raw.training) as raw,"
        " (select count(*) from staging.stg_training) as staged,"
        " (select count(*) from audit.audit_training_duplicates) as dropped",
    )
    assert (counts["raw"], counts["staged"], counts["dropped"]) == (7, 5, 2)
