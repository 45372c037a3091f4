"""Words and numbers as the reports print them: Indonesian labels for measures, dimensions and
outcomes, quarter names as the official form writes them, decimal commas, pseudonymous rater
names. Charts and sentences use the same functions, so a chart and the summary under it
never name one thing two ways.
"""

from __future__ import annotations

import math
import re

from pipelines.rules import predikat
from pipelines.rules.skm import NRR_COLUMNS

PREDIKAT_ORDER = list(predikat.ORDER)
# Each predikat's share column in the agency marts ('Kurang/Misconduct' ->
# share_kurang_misconduct), as dbt's agency_measures macro names them.
PREDIKAT_SHARE_COLUMNS = {p: "share_" + re.sub(r"[^a-z]+", "_", p.lower()) for p in PREDIKAT_ORDER}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
DIMENSION_LABELS = {
    "gender": "Jenis kelamin",
    "age_band": "Kelompok usia",
    "golongan": "Golongan",
    "jenis_jabatan": "Jenis jabatan",
    "kode_opd": "Instansi (OPD)",
    "gender x golongan": "Jenis kelamin × golongan",
    "gender x jenis_jabatan": "Jenis kelamin × jenis jabatan",
}
OUTCOME_LABELS = {
    "top_band": "Predikat Sangat Baik",
    "bottom_band": "Predikat di bawah Baik",
}
MEASURE_LABELS = {
    "mean_achievement": "Capaian kinerja rata-rata",
    "ikm": "Indeks Kepuasan Masyarakat (IKM)",
    "share_20jp": "Cakupan 20 JP",
    "mean_self_supervisor_gap": "Selisih nilai mandiri − atasan",
    "share_sangat_baik": "Porsi predikat Sangat Baik",
    "share_baik": "Porsi predikat Baik",
    "share_butuh_perbaikan": "Porsi predikat Butuh Perbaikan",
    "share_kurang_misconduct": "Porsi predikat Kurang/Misconduct",
    "share_sangat_kurang": "Porsi predikat Sangat Kurang",
    "jp_per_employee": "JP per pegawai",
    "n_assessed": "Jumlah pegawai dinilai",
    "n_responden": "Jumlah responden SKM",
    # Measures of the trend tables (analysis.trend_series), not columns of the marts.
    "share_bottom_band": "Porsi predikat di bawah Baik",
    **{c: f"NRR unsur {c.removeprefix('nrr_').upper()}" for c in NRR_COLUMNS},
}
SUPPRESSED_LABEL = "disembunyikan (n < {n})"


def quarter_label(tahun: int, triwulan: int) -> str:
    """'2024 TW II': sorts by year and reads the way the official form names quarters."""
    return f"{tahun} TW {ROMAN[int(triwulan)]}"


def measure_label(measure: str) -> str:
    """The measure's Indonesian name; an unlisted column reads as its words."""
    return MEASURE_LABELS.get(measure, measure.replace("_", " "))


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension)


def fmt_number(value: float | None, digits: int = 1) -> str:
    """A number the Indonesian way (decimal comma, dot for thousands); '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{fmt_number(100 * value, digits)}%"


def short_key(key: str) -> str:
    """Raters appear by the first 8 characters of their pseudonymous key, never by NIP."""
    return f"penilai {key[:8]}"
