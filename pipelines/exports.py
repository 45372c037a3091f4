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
# Optional in an assessment export: each indicator's aspect, direction (naik / turun) and how
# its quarters make a year (jumlah / terakhir), spelled as the seed indicator_vocabulary
# accepts. An export that carries them has them after satuan.
ASSESSMENT_INDICATOR_COLUMNS = ["aspek", "arah", "jenis_agregasi"]
_AFTER = ASSESSMENT_COLUMNS.index("satuan") + 1
ASSESSMENT_COLUMNS_WITH_INDICATOR = [
    *ASSESSMENT_COLUMNS[:_AFTER],
    *ASSESSMENT_INDICATOR_COLUMNS,
    *ASSESSMENT_COLUMNS[_AFTER:],
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
