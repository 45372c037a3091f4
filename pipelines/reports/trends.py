"""The planners' report (trends.html): how each agency's performance, citizen satisfaction and
training coverage move quarter by quarter, and which of those moves are real trends.

Reads marts.mart_agency_quarter, intermediate.int_survey_unit_quarter (IKM per service unit)
and, when built, analysis.trend_series / analysis.trend_tests.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import polars as pl

from pipelines.reports import figures as fx
from pipelines.reports import findings_text
from pipelines.reports.banner import blocked_banner
from pipelines.reports.data import optional_table, table
from pipelines.reports.html import Chart, Picker, ReportInfo, Section, render_page, write_report
from pipelines.reports.png import export_pngs

# Measures the summary talks about one by one; NRR elements are summarised as a count.
HEADLINE_MEASURES = [
    "ikm",
    "mean_achievement",
    "share_sangat_baik",
    "share_bottom_band",
    "share_20jp",
    "jp_per_employee",
    "mean_self_supervisor_gap",
]
PERCENT_MEASURES = {"mean_achievement", "share_sangat_baik", "share_bottom_band", "share_20jp"}
fx.MEASURE_LABELS.setdefault("share_bottom_band", "Porsi predikat di bawah Baik")
for _i in range(1, 10):
    fx.MEASURE_LABELS.setdefault(f"nrr_u{_i}", f"NRR unsur U{_i}")


def unit_ikm(units: pl.DataFrame) -> pl.DataFrame:
    """IKM per service unit and quarter from the answer sums (DESIGN §1.3): NRR_i is the
    mean answer of element i, IKM = 25 × mean of the nine NRR."""
    nrr = [pl.col(f"nrr_u{i}") for i in range(1, 10)]
    return units.with_columns((pl.sum_horizontal(nrr) / 9 * 25).alias("ikm"))


def _value(measure: str, value: float | None) -> str:
    if measure in PERCENT_MEASURES:
        return fx.fmt_percent(value)
    return fx.fmt_number(value, 2 if measure.startswith("nrr") else 1)


def _slope(measure: str, slope: float) -> str:
    if measure in PERCENT_MEASURES:
        return f"{fx.fmt_number(100 * slope, 2)} poin persen"
    unit = "JP" if measure == "jp_per_employee" else "poin"
    return f"{fx.fmt_number(slope, 3 if measure.startswith('nrr') else 2)} {unit}"


def _subject(measure: str, kode_opd: str, unit: str | None) -> str:
    label = fx.measure_label(measure)
    if measure == "ikm":
        label = "IKM"
    return f"{label} {unit} di {kode_opd}" if unit else f"{label} {kode_opd}"


def _endpoints(series: pl.DataFrame | None, row: dict) -> tuple[str, str]:
    """The first and last value of the tested series, for a sentence a planner can check."""
    if series is None:
        return "", ""
    unit_match = (
        pl.col("unit_layanan").is_null()
        if row["unit_layanan"] is None
        else pl.col("unit_layanan") == row["unit_layanan"]
    )
    part = series.filter(
        (pl.col("scope") == row["scope"])
        & (pl.col("kode_opd") == row["kode_opd"])
        & unit_match
        & (pl.col("measure") == row["measure"])
        & (pl.col("grain") == row["grain"])
        & pl.col("value").is_not_null()
    ).sort("tahun", pl.col("triwulan").fill_null(0))
    if part.is_empty():
        return "", ""
    first, last = part.row(0, named=True), part.row(-1, named=True)

    def when(r: dict) -> str:
        return fx.quarter_label(r["tahun"], r["triwulan"]) if r["triwulan"] else str(r["tahun"])

    return (
        f"{_value(row['measure'], first['value'])} ({when(first)})",
        f"{_value(row['measure'], last['value'])} ({when(last)})",
    )


def trend_sentences(tests: pl.DataFrame, series: pl.DataFrame | None) -> list[str]:
    """One plain sentence per significant headline trend, NRR elements folded in as a count."""
    significant = tests.filter(
        pl.col("significant") & pl.col("assessment").is_in(["improving", "declining"])
    )
    headline = significant.filter(pl.col("measure").is_in(HEADLINE_MEASURES)).sort(
        pl.col("assessment") != "declining", "p_adjusted"
    )
    lines = []
    for row in headline.iter_rows(named=True):
        verb = "menurun" if row["mk_trend"] == "decreasing" else "meningkat"
        verdict = "memburuk" if row["assessment"] == "declining" else "membaik"
        first, last = _endpoints(series, row)
        movement = f" dari {first} menjadi {last}" if first else ""
        unit_match = (
            pl.col("unit_layanan").is_null()
            if row["unit_layanan"] is None
            else pl.col("unit_layanan") == row["unit_layanan"]
        )
        elements = significant.filter(
            (pl.col("kode_opd") == row["kode_opd"])
            & unit_match
            & pl.col("measure").str.starts_with("nrr_")
            & (pl.col("assessment") == row["assessment"])
        ).height
        extra = (
            f"; {elements} dari 9 unsur SKM ikut {verb}"
            if row["measure"] == "ikm" and elements
            else ""
        )
        period = "triwulan" if row["grain"] == "quarter" else "tahun"
        lines.append(
            f"{_subject(row['measure'], row['kode_opd'], row['unit_layanan'])} {verb} signifikan"
            f" ({verdict}){movement}: Sen's slope {_slope(row['measure'], row['sen_slope'])} per"
            f" {period} selama {row['n_periods']} {period}, p terkoreksi"
            f" {fx.fmt_number(row['p_adjusted'], 4)}{extra}."
        )
    return lines


def _snapshot_summary(quarter: pl.DataFrame, year: pl.DataFrame) -> list[str]:
    last_year, last_q = quarter.select("tahun", "triwulan").sort("tahun", "triwulan").row(-1)
    latest = quarter.filter((pl.col("tahun") == last_year) & (pl.col("triwulan") == last_q))
    lines = []
    low = latest.filter(pl.col("ikm_grade").is_in(["C", "D"])).sort("ikm")
    label = fx.quarter_label(last_year, last_q)
    if low.height:
        listed = ", ".join(
            f"{k} (IKM {fx.fmt_number(v, 2)}, mutu {g})"
            for k, v, g in low.select("kode_opd", "ikm", "ikm_grade").iter_rows()
        )
        lines.append(f"Pada {label}, IKM di bawah mutu Baik: {listed}.")
    else:
        lines.append(f"Pada {label}, semua instansi dengan data SKM bermutu Baik (B) atau lebih.")
    year_latest = year.filter(pl.col("tahun") == year["tahun"].max()).sort("share_20jp")
    weakest = year_latest.filter(pl.col("share_20jp").is_not_null()).head(3)
    if weakest.height:
        listed = ", ".join(
            f"{k} {fx.fmt_percent(v)}"
            for k, v in weakest.select("kode_opd", "share_20jp").iter_rows()
        )
        lines.append(
            f"Cakupan hak pengembangan kompetensi 20 JP tahun {year_latest['tahun'][0]} paling"
            f" rendah di: {listed} pegawai."
        )
    return lines


def _tests_table(tests: pl.DataFrame) -> str:
    """Headline measures in a table; the per-element NRR rows folded away under it."""
    elements = tests.filter(pl.col("measure").str.starts_with("nrr_"))
    main = _tests_rows(tests.filter(~pl.col("measure").str.starts_with("nrr_")))
    if elements.is_empty():
        return main
    return (
        main + f"<details><summary>Unsur SKM (NRR U1–U9) dengan tren signifikan: {elements.height}"
        f" deret</summary>{_tests_rows(elements)}</details>"
    )


def _tests_rows(tests: pl.DataFrame) -> str:
    if tests.is_empty():
        return '<p class="muted">Tidak ada tren signifikan.</p>'
    rows = []
    for r in tests.sort("kode_opd", "unit_layanan", "measure", nulls_last=False).iter_rows(
        named=True
    ):
        css = (
            "bad"
            if r["assessment"] == "declining"
            else "good"
            if r["assessment"] == "improving"
            else ""
        )
        verdict = {"declining": "memburuk", "improving": "membaik"}.get(r["assessment"], "netral")
        rows.append(
            "<tr>"
            f"<td>{html.escape(r['kode_opd'])}</td>"
            f"<td>{html.escape(r['unit_layanan'] or '— (seluruh OPD)')}</td>"
            f"<td>{html.escape(fx.measure_label(r['measure']))}</td>"
            f"<td>{html.escape(r['first_period'])} – {html.escape(r['last_period'])}</td>"
            f"<td class='num'>{_slope(r['measure'], r['sen_slope'])}</td>"
            f"<td class='num'>{fx.fmt_number(r['p_adjusted'], 4)}</td>"
            f"<td class='{css}'>{verdict}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Unit layanan</th><th>Ukuran</th>"
        "<th>Rentang</th><th>Sen's slope per periode</th><th>p terkoreksi (BH)</th>"
        "<th>Penilaian</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _points(share_change: float | None) -> float | None:
    return None if share_change is None else 100 * share_change


def _changes_table(latest: pl.DataFrame) -> str:
    rows = []
    for r in latest.sort("kode_opd").iter_rows(named=True):
        grade = html.escape(r["ikm_grade"] or "–")
        rows.append(
            "<tr>"
            f"<td>{html.escape(r['kode_opd'])}</td>"
            f"<td class='num'>{r['n_assessed']}</td>"
            f"<td class='num'>{fx.fmt_percent(r['mean_achievement'])}</td>"
            f"<td class='num'>{fx.fmt_number(_points(r['mean_achievement_change']), 2)}</td>"
            f"<td class='num'>{fx.fmt_number(r['ikm'], 2)} ({grade})</td>"
            f"<td class='num'>{fx.fmt_number(r['ikm_change'], 2)}</td>"
            f"<td class='num'>{fx.fmt_percent(r['share_20jp'])}</td>"
            f"<td class='num'>{fx.fmt_number(r['mean_self_supervisor_gap'], 2)}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Pegawai dinilai</th><th>Capaian</th>"
        "<th>Δ capaian (poin %)</th><th>IKM (mutu)</th><th>Δ IKM</th><th>Cakupan 20 JP</th>"
        "<th>Selisih mandiri − atasan</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def build_trends_report(
    conn: duckdb.DuckDBPyConnection, out_path: Path, png_dir: Path | None = None
) -> ReportInfo:
    """Render trends.html from the warehouse; PNGs of the key charts when png_dir is given."""
    quarter = table(conn, "marts.mart_agency_quarter").sort("kode_opd", "tahun", "triwulan")
    year = table(conn, "marts.mart_agency_year")
    units = unit_ikm(table(conn, "intermediate.int_survey_unit_quarter"))
    series = optional_table(conn, "analysis.trend_series")
    tests = optional_table(conn, "analysis.trend_tests")
    names = dict(quarter.select("kode_opd", "nama_opd").unique().iter_rows())
    agencies = sorted(names)
    periods = quarter.select("tahun", "triwulan").unique().sort("tahun", "triwulan").rows()

    summary = [
        f"Data mencakup {len(agencies)} instansi (OPD), dari {fx.quarter_label(*periods[0])}"
        f" sampai {fx.quarter_label(*periods[-1])} ({len(periods)} triwulan)."
    ]
    sections: list[Section] = []
    found = optional_table(conn, "analysis.findings")
    if tests is not None and found is not None:
        tests = findings_text.judged_trends(tests, found)
    if tests is not None:
        sentences = trend_sentences(tests, series)
        summary += sentences or ["Uji Mann-Kendall tidak menemukan tren yang menjadi temuan."]
        significant = tests.filter(pl.col("significant"))
        headline = significant.filter(pl.col("measure").is_in(HEADLINE_MEASURES))
        charts = []
        if headline.height:
            charts.append(
                Chart(
                    fx.trend_slopes(headline),
                    "setiap batang adalah satu deret (ukuran · OPD · unit layanan) yang trennya"
                    " signifikan setelah koreksi Benjamini-Hochberg. Panjang batang = Sen's slope,"
                    " yaitu perubahan median per triwulan dalam satuan ukurannya (IKM dalam poin"
                    " indeks, porsi dalam proporsi). Merah = memburuk, hijau = membaik.",
                    key="trend_signifikan",
                )
            )
        sections.append(
            Section(
                "Temuan uji tren",
                "Uji Mann-Kendall (dikoreksi Hamed-Rao bila deretnya berautokorelasi) per OPD dan"
                " per unit layanan atas seluruh triwulan yang tersedia; p-value dikoreksi untuk"
                " banyaknya uji (Benjamini-Hochberg). Yang ditampilkan adalah temuan di"
                " analysis.findings: signifikan dan tau Kendall minimal 0,3.",
                charts=charts,
                table=_tests_table(significant),
            )
        )
    else:
        summary.append(
            "Uji tren belum tersedia: tabel analysis.trend_tests belum dibangun di gudang data ini."
        )
    summary += _snapshot_summary(quarter, year)

    sections.append(
        Section(
            "Gambaran semua instansi per triwulan",
            "Panel kecil per instansi (OPD) dengan sumbu yang sama, agar bisa dibandingkan.",
            charts=[
                Chart(
                    fx.agency_measure_small_multiples(
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
                    fx.agency_measure_small_multiples(
                        quarter, "ikm", title="Indeks Kepuasan Masyarakat (IKM) per triwulan"
                    ),
                    "IKM (25–100) dari survei kepuasan masyarakat. Pita latar menandai mutu: hijau"
                    " tua A Sangat Baik (≥ 88,31), hijau muda B Baik (76,61–88,30), kuning C Kurang"
                    " Baik (65,00–76,60), merah D Tidak Baik. Garis yang turun menembus pita"
                    " berarti mutu layanan turun kelas.",
                    key="ikm",
                ),
                Chart(
                    fx.predikat_share_small_multiples(quarter),
                    "tiap batang = 100% pegawai yang dinilai pada triwulan itu, dibagi menurut"
                    " predikat kinerja. Hijau tua melebar = makin banyak Sangat Baik; warna"
                    " kuning-merah = predikat di bawah Baik.",
                    key="sebaran_predikat",
                ),
                Chart(
                    fx.agency_measure_small_multiples(
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
                    fx.agency_measure_small_multiples(
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
    )

    for kode in agencies:
        notes = []
        table_html = ""
        if tests is not None:
            own = tests.filter((pl.col("kode_opd") == kode) & pl.col("significant"))
            table_html = _tests_table(own)
            if series is not None:
                notes = trend_sentences(own, series)
        sections.append(
            Section(
                f"{kode} — {names[kode]}",
                "Ukuran kunci instansi ini per triwulan, lalu IKM tiap unit layanannya.",
                charts=[
                    Chart(
                        fx.agency_detail(quarter, kode, names[kode]),
                        "enam panel untuk satu OPD: capaian kinerja, IKM (pita warna = mutu),"
                        " cakupan 20 JP kumulatif, selisih nilai mandiri − atasan (garis putus ="
                        " nol), sebaran predikat (batang bertumpuk 100%), dan jumlah responden"
                        " SKM yang mendasari IKM.",
                    ),
                    Chart(
                        fx.unit_ikm_lines(units, kode),
                        "satu garis per unit layanan. Unit yang menurun terus adalah sasaran"
                        " perbaikan layanan; arahkan kursor untuk melihat jumlah responden.",
                    ),
                ],
                table=table_html,
                notes=notes,
                picker="opd",
                value=kode,
            )
        )

    for tahun, triwulan in periods:
        latest = quarter.filter((pl.col("tahun") == tahun) & (pl.col("triwulan") == triwulan))
        sections.append(
            Section(
                f"Perbandingan instansi pada {fx.quarter_label(tahun, triwulan)}",
                charts=[
                    Chart(
                        fx.quarter_snapshot(quarter, tahun, triwulan),
                        "semua OPD pada triwulan yang dipilih. Batang lebih panjang = lebih baik"
                        " untuk ketiga ukuran. Tabel di bawah memuat perubahan terhadap triwulan"
                        " sebelumnya (Δ).",
                    )
                ],
                table=_changes_table(latest),
                picker="triwulan",
                value=f"{tahun}-{triwulan}",
            )
        )

    pickers = [
        Picker("opd", "Instansi (OPD)", [(k, f"{k} — {names[k]}") for k in agencies]),
        Picker(
            "triwulan",
            "Triwulan",
            [(f"{t}-{q}", fx.quarter_label(t, q)) for t, q in reversed(periods)],
        ),
    ]
    page = render_page(
        title="Laporan Tren Kinerja Instansi",
        subtitle=(
            "Untuk perencana: capaian kinerja pegawai, kepuasan masyarakat (SKM/IKM) dan"
            " pengembangan kompetensi per triwulan"
        ),
        summary=summary,
        pickers=pickers,
        sections=sections,
        banner=blocked_banner(conn),
    )
    write_report(out_path, page)
    charts = [c for s in sections for c in s.charts]
    pngs = export_pngs([c for c in charts if c.key], png_dir, prefix="tren") if png_dir else []
    return ReportInfo(out_path, len(charts), pngs, summary)
