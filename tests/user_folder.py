"""A folder of exports as a user would make one by hand: the three sources and only the
required reference files, with the defects issue 11 §3 tried (used by test_user_folder.py
and to try `kinerja run` by hand: ``python -m tests.user_folder DIR``).

What it holds (2024, two agencies, 12 employees):

- assessments: 12 employees x (TW I..TW IV, TAHUNAN) x 2 indicators = 120 rows, all valid;
- surveys: 15 respondents per agency and quarter = 120 rows; in Q3 9 of the 30 rows name an
  unknown agency (30% of 30 rows: that quarter is blocked, its 21 valid rows stay out of
  the marts);
- training: Q1 8 rows of which 2 bad (25%, but only 8 rows: not blocked), Q2 1 row, bad
  (every row of the quarter: blocked), Q3 6 and Q4 4 valid rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.exports import ASSESSMENT_COLUMNS, SURVEY_COLUMNS, TRAINING_COLUMNS

AGENCIES = {"OPD01": "Dinas Kesehatan", "OPD02": "Dinas Pendidikan"}
UNITS = {"OPD01": "Puskesmas Kota", "OPD02": "Layanan Mutasi Guru"}
EMPLOYEES = 12
PERIODS = ["TW I", "TW II", "TW III", "TW IV", "TAHUNAN"]
RATINGS = [
    ("SESUAI EKSPEKTASI", "SESUAI EKSPEKTASI", "Baik"),
    ("DI ATAS EKSPEKTASI", "DI ATAS EKSPEKTASI", "Sangat Baik"),
    ("DI BAWAH EKSPEKTASI", "SESUAI EKSPEKTASI", "Butuh Perbaikan"),
]
SURVEYS_PER_AGENCY_QUARTER = 15
SURVEY_BAD_Q3 = 9
# (tanggal_mulai, tanggal_selesai, jp) per training row; a jp of 0 or an end before the
# start is quarantined.
TRAINING_ROWS = {
    "Q1": [("2024-01-10", "2024-01-12", "12")] * 6
    + [("2024-02-10", "2024-02-12", "0"), ("2024-03-10", "2024-03-01", "8")],
    "Q2": [("2024-05-06", "2024-05-07", "-4")],
    "Q3": [("2024-08-05", "2024-08-07", "16")] * 6,
    "Q4": [("2024-11-04", "2024-11-05", "10")] * 4,
}
REQUIRED_REFERENCE = {
    "agencies.csv": "kode_opd,nama_opd,pemda\n"
    + "".join(f"{code},{name},Kota Contoh\n" for code, name in AGENCIES.items()),
    "predikat_organisasi.csv": "kode_opd,tahun,predikat\nOPD01,2024,Baik\nOPD02,2024,Istimewa\n",
}
POPULATION_HEADER = "kode_opd,unit_layanan,tahun,populasi\n"


def nip(i: int) -> str:
    """A valid PNS NIP: born 1980+i-01-15, appointed 2010-01, sex 1/2, sequence i+1."""
    return f"19{80 + i:02d}0115201001{1 + i % 2}{i + 1:03d}"


def agency(i: int) -> str:
    return "OPD01" if i < EMPLOYEES // 2 else "OPD02"


def _csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(header), *(sep.join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def assessment_rows() -> list[list[str]]:
    rows = []
    for i in range(EMPLOYEES):
        code = agency(i)
        hasil, perilaku, predikat = RATINGS[i % len(RATINGS)]
        for periode in PERIODS:
            for k, (target, realisasi) in enumerate([("100", "95"), ("12", "12")], start=1):
                values = {
                    "nip": nip(i),
                    "nama": f"Pegawai {i + 1}",
                    "kode_opd": code,
                    "nama_opd": AGENCIES[code],
                    "unit_kerja": "Sekretariat",
                    "jabatan": "Analis",
                    "jenis_jabatan": "Pelaksana",
                    "golongan": "III/a",
                    "tahun": "2024",
                    "periode": periode,
                    "kode_indikator": f"IKI-{k}",
                    "indikator": f"Indikator {k}",
                    "target": target,
                    "realisasi": realisasi,
                    "satuan": "%",
                    "nilai_mandiri": "90",
                    "nilai_atasan": "88",
                    "rating_hasil_kerja": hasil,
                    "rating_perilaku": perilaku,
                    "predikat": predikat,
                    "nip_penilai": nip(0 if i else 1),
                }
                rows.append([values[c] for c in ASSESSMENT_COLUMNS])
    return rows


def survey_rows() -> list[list[str]]:
    rows = []
    for quarter, month in enumerate((2, 5, 8, 11), start=1):
        for code in AGENCIES:
            for n in range(SURVEYS_PER_AGENCY_QUARTER):
                bad = quarter == 3 and code == "OPD02" and n < SURVEY_BAD_Q3
                values = {
                    "id_responden": f"{code}-{quarter}-{n + 1}",
                    "tanggal": f"{n + 1:02d}/{month:02d}/2024",
                    "kode_opd": "OPD99" if bad else code,
                    "unit_layanan": UNITS[code],
                    "jenis_layanan": "Umum",
                    "jenis_kelamin": "P" if n % 2 else "L",
                    "usia": str(25 + n),
                    "pendidikan": "SMA",
                    "pekerjaan": "Swasta",
                    **{f"u{e}": str(3 + (n + e) % 2) for e in range(1, 10)},
                    "saran": "",
                }
                rows.append([values[c] for c in SURVEY_COLUMNS])
    return rows


def training_rows() -> list[list[str]]:
    rows = []
    for n, (start, end, jp) in enumerate(r for rs in TRAINING_ROWS.values() for r in rs):
        values = {
            "nip": nip(n % EMPLOYEES),
            "nama_pelatihan": f"Pelatihan {n + 1}",
            "jenis": "klasikal",
            "penyelenggara": "BPSDM",
            "tanggal_mulai": start,
            "tanggal_selesai": end,
            "jp": jp,
            "sertifikat": "ya",
        }
        rows.append([values[c] for c in TRAINING_COLUMNS])
    return rows


def write_user_folder(data_dir: Path) -> Path:
    """The folder (exports and the required reference files only); returns ``data_dir``."""
    _csv(data_dir / "raw/assessments/skp_2024.csv", ASSESSMENT_COLUMNS, assessment_rows(), ";")
    _csv(data_dir / "raw/surveys/skm_2024.csv", SURVEY_COLUMNS, survey_rows())
    _csv(data_dir / "raw/training/pelatihan_2024.csv", TRAINING_COLUMNS, training_rows())
    for name, text in REQUIRED_REFERENCE.items():
        (data_dir / "reference").mkdir(parents=True, exist_ok=True)
        (data_dir / "reference" / name).write_text(text, encoding="utf-8")
    return data_dir


if __name__ == "__main__":
    print(write_user_folder(Path(sys.argv[1])))
