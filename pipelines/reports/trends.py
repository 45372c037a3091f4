"""The planners' report (trends.html): how each agency's performance, citizen satisfaction and
training coverage move quarter by quarter, and which of those moves are real trends.

Reads marts.mart_agency_quarter, intermediate.int_survey_unit_quarter (IKM per service unit)
and, when built, analysis.trend_series / analysis.trend_tests / analysis.findings. The page is
the summary, then one builder per section: the trend tests, all agencies side by side, the
quarterly evaluation (Form E.81: rankings, year-end outlook; see evaluation.py), one agency
(picker) with its Form E.81, one quarter (picker). The words and tables are in trends_text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl

from pipelines.reports import findings_text
from pipelines.reports.banner import blocked_banner
from pipelines.reports.data import TrendTables, read_trend_tables
from pipelines.reports.evaluation import agency_section, overview_section, read_evaluation_tables
from pipelines.reports.figures import ikm as ikm_fig
from pipelines.reports.figures import trends as trend_fig
from pipelines.reports.html import Chart, Page, Picker, ReportInfo, Section, publish_page
from pipelines.reports.labels import quarter_label
from pipelines.reports.trends_text import (
    HEADLINE_MEASURES,
    changes_table,
    snapshot_summary,
    tests_table,
    trend_sentences,
)
from pipelines.rules import skm


def unit_ikm(units: pl.DataFrame) -> pl.DataFrame:
    """IKM per service unit and quarter from its element averages NRR_i (mean answer of
    element i): 25 × the mean of the nine NRR (see docs/domain.md, 'SKM index'); missing
    when an element had no answer, as in the marts."""
    return units.with_columns(skm.skm_index().alias("ikm"))


def _read(conn: duckdb.DuckDBPyConnection) -> TrendTables:
    """The tables, with unit IKM added and, when analysis.findings is built, each test's
    `significant` replaced by its findings verdict (so the page says what the findings say)."""
    tables = read_trend_tables(conn)
    tables = replace(tables, units=unit_ikm(tables.units))
    if tables.tests is not None and tables.findings is not None:
        tables = replace(tables, tests=findings_text.judged_trends(tables.tests, tables.findings))
    return tables


def _summary(tables: TrendTables) -> list[str]:
    """Coverage of the data, then the significant trends, then where things stand now."""
    periods = tables.periods
    summary = [
        f"Data mencakup {len(tables.names)} instansi (OPD), dari {quarter_label(*periods[0])}"
        f" sampai {quarter_label(*periods[-1])} ({len(periods)} triwulan)."
    ]
    if tables.tests is not None:
        sentences = trend_sentences(tables.tests, tables.series)
        summary += sentences or ["Uji Mann-Kendall tidak menemukan tren yang menjadi temuan."]
    else:
        summary.append(
            "Uji tren belum tersedia: tabel analysis.trend_tests belum dibangun di gudang data ini."
        )
    return summary + snapshot_summary(tables.quarter, tables.year)


def _tests_section(tests: pl.DataFrame) -> Section:
    """The significant trends: a slope chart of the headline measures and the full table."""
    significant = tests.filter(pl.col("significant"))
    headline = significant.filter(pl.col("measure").is_in(HEADLINE_MEASURES))
    charts = []
    if headline.height:
        charts.append(
            Chart(
                trend_fig.trend_slopes(headline),
                "setiap batang adalah satu deret (ukuran · OPD · unit layanan) yang trennya"
                " signifikan setelah koreksi Benjamini-Hochberg. Panjang batang = Sen's slope,"
                " yaitu perubahan median per triwulan dalam satuan ukurannya (IKM dalam poin"
                " indeks, porsi dalam proporsi). Merah = memburuk, hijau = membaik.",
                key="trend_signifikan",
            )
        )
    return Section(
        "Temuan uji tren",
        "Uji Mann-Kendall (dikoreksi Hamed-Rao bila deretnya berautokorelasi) per OPD dan"
        " per unit layanan atas seluruh triwulan yang tersedia; p-value dikoreksi untuk"
        " banyaknya uji (Benjamini-Hochberg). Yang ditampilkan adalah temuan di"
        " analysis.findings: signifikan dan tau Kendall minimal 0,3.",
        charts=charts,
        table=tests_table(significant),
    )


def _overview_section(quarter: pl.DataFrame) -> Section:
    """All agencies side by side, one small panel each, measure by measure."""
    return Section(
        "Gambaran semua instansi per triwulan",
        "Panel kecil per instansi (OPD) dengan sumbu yang sama, agar bisa dibandingkan.",
        charts=[
            Chart(
                trend_fig.agency_measure_small_multiples(
                    quarter,
                    "mean_achievement",
                    percent=True,
                    title="Capaian kinerja rata-rata (realisasi/target, %)",
                ),
                "satu panel per OPD; garis = rata-rata realisasi dibagi target semua indikator"
                " pegawai pada triwulan itu. 100% berarti target tercapai tepat.",
                key="capaian_kinerja",
            ),
            Chart(
                trend_fig.agency_measure_small_multiples(
                    quarter, "ikm", title="Indeks Kepuasan Masyarakat (IKM) per triwulan"
                ),
                "IKM (25–100) dari survei kepuasan masyarakat. Pita latar menandai mutu:"
                f" {ikm_fig.grade_shading_text()}. Garis yang turun menembus pita"
                " berarti mutu layanan turun kelas.",
                key="ikm",
            ),
            Chart(
                trend_fig.predikat_share_small_multiples(quarter),
                "tiap batang = 100% pegawai yang dinilai pada triwulan itu, dibagi menurut"
                " predikat kinerja. Hijau tua melebar = makin banyak Sangat Baik; warna"
                " kuning-merah = predikat di bawah Baik.",
                key="sebaran_predikat",
            ),
            Chart(
                trend_fig.agency_measure_small_multiples(
                    quarter,
                    "share_20jp",
                    percent=True,
                    title="Cakupan 20 JP (porsi pegawai, kumulatif tahun berjalan)",
                ),
                "porsi pegawai yang sampai akhir triwulan itu sudah menerima ≥ 20 JP"
                " pengembangan kompetensi pada tahun tersebut. Angka naik sepanjang tahun dan"
                " mulai lagi dari nol di TW I; yang penting adalah nilai TW IV (hak 20 JP"
                " setahun).",
                key="cakupan_20jp",
            ),
            Chart(
                trend_fig.agency_measure_small_multiples(
                    quarter,
                    "mean_self_supervisor_gap",
                    title="Selisih nilai mandiri − nilai atasan (poin)",
                ),
                "rata-rata nilai penilaian diri dikurangi nilai dari atasan. Di atas nol ="
                " pegawai menilai dirinya lebih tinggi daripada atasannya; selisih yang"
                " melebar menandakan ekspektasi yang perlu diselaraskan.",
                key="selisih_mandiri_atasan",
            ),
        ],
    )


def _agency_section(tables: TrendTables, kode: str, nama: str) -> Section:
    """One agency (picker "opd"): its measures in detail, its units' IKM, its own trends."""
    notes: list[str] = []
    table_html = ""
    if tables.tests is not None:
        own = tables.tests.filter((pl.col("kode_opd") == kode) & pl.col("significant"))
        table_html = tests_table(own)
        if tables.series is not None:
            notes = trend_sentences(own, tables.series)
    return Section(
        f"{kode} — {nama}",
        "Ukuran kunci instansi ini per triwulan, lalu IKM tiap unit layanannya.",
        charts=[
            Chart(
                trend_fig.agency_detail(tables.quarter, kode, nama),
                "enam panel untuk satu OPD: capaian kinerja, IKM (pita warna = mutu),"
                " cakupan 20 JP kumulatif, selisih nilai mandiri − atasan (garis putus ="
                " nol), sebaran predikat (batang bertumpuk 100%), dan jumlah responden"
                " SKM yang mendasari IKM.",
            ),
            Chart(
                ikm_fig.unit_ikm_lines(tables.units, kode),
                "satu garis per unit layanan. Unit yang menurun terus adalah sasaran"
                " perbaikan layanan; arahkan kursor untuk melihat jumlah responden.",
            ),
        ],
        table=table_html,
        notes=notes,
        picker="opd",
        value=kode,
    )


def _quarter_section(quarter: pl.DataFrame, tahun: int, triwulan: int) -> Section:
    """All agencies in one quarter (picker "triwulan"), with the change on the quarter before."""
    latest = quarter.filter((pl.col("tahun") == tahun) & (pl.col("triwulan") == triwulan))
    return Section(
        f"Perbandingan instansi pada {quarter_label(tahun, triwulan)}",
        charts=[
            Chart(
                trend_fig.quarter_snapshot(quarter, tahun, triwulan),
                "semua OPD pada triwulan yang dipilih. Batang lebih panjang = lebih baik"
                " untuk ketiga ukuran. Tabel di bawah memuat perubahan terhadap triwulan"
                " sebelumnya (Δ).",
            )
        ],
        table=changes_table(latest),
        picker="triwulan",
        value=f"{tahun}-{triwulan}",
    )


def build_trends_report(
    conn: duckdb.DuckDBPyConnection, out_path: Path, png_dir: Path | None = None
) -> ReportInfo:
    """Render trends.html from the warehouse; PNGs of the key charts when png_dir is given."""
    tables = _read(conn)
    names = tables.names
    agencies = sorted(names)
    periods = tables.periods
    sections = [_tests_section(tables.tests)] if tables.tests is not None else []
    sections.append(_overview_section(tables.quarter))
    evaluation = read_evaluation_tables(conn)
    sections.append(overview_section(evaluation))
    for kode in agencies:
        sections += [_agency_section(tables, kode, names[kode])]
        sections += [agency_section(evaluation, kode, names[kode])]
    sections += [_quarter_section(tables.quarter, t, q) for t, q in periods]
    page = Page(
        title="Laporan Tren Kinerja Instansi",
        subtitle=(
            "Untuk perencana: capaian kinerja pegawai, kepuasan masyarakat (SKM/IKM) dan"
            " pengembangan kompetensi per triwulan"
        ),
        summary=_summary(tables),
        pickers=[
            Picker("opd", "Instansi (OPD)", [(k, f"{k} — {names[k]}") for k in agencies]),
            Picker(
                "triwulan",
                "Triwulan",
                [(f"{t}-{q}", quarter_label(t, q)) for t, q in reversed(periods)],
            ),
        ],
        sections=sections,
        banner=blocked_banner(conn),
    )
    return publish_page(page, out_path, png_dir, png_prefix="tren")
