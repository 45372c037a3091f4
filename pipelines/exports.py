"""The export formats (README, "Your own exports"): the columns each source's files carry,
in their order. The generator writes them and ingestion expects them, so both import them
from here."""

from __future__ import annotations

SKM_ELEMENTS = [f"u{i}" for i in range(1, 10)]

ASSESSMENT_COLUMNS = [
    "nip",
    "nama",
    "kode_opd",
    "nama_opd",
    "unit_kerja",
    "jabatan",
    "jenis_jabatan",
    "golongan",
    "tahun",
    "periode",
    "kode_indikator",
    "indikator",
    "target",
    "realisasi",
    "satuan",
    "nilai_mandiri",
    "nilai_atasan",
    "rating_hasil_kerja",
    "rating_perilaku",
    "predikat",
    "nip_penilai",
]

SURVEY_COLUMNS = [
    "id_responden",
    "tanggal",
    "kode_opd",
    "unit_layanan",
    "jenis_layanan",
    "jenis_kelamin",
    "usia",
    "pendidikan",
    "pekerjaan",
    *SKM_ELEMENTS,
    "saran",
]

TRAINING_COLUMNS = [
    "nip",
    "nama_pelatihan",
    "jenis",
    "penyelenggara",
    "tanggal_mulai",
    "tanggal_selesai",
    "jp",
    "sertifikat",
]
