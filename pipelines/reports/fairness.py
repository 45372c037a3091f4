"""The evaluators' report (fairness.html): are ratings distributed fairly across groups,
indicators and raters, and does each agency's predikat distribution obey the curve rules?

Reads marts.mart_agency_year / marts.mart_distribution_curve and, when built, the analysis
fairness tables. Suppressed groups (n < minimum) appear only as "disembunyikan", never with
figures; raters appear only by a shortened pseudonymous key.
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

RATE_DIMENSIONS = ["gender", "age_band", "golongan", "jenis_jabatan", "kode_opd"]
DISTRIBUTION_DIMENSIONS = ["gender", "age_band", "golongan", "jenis_jabatan"]
OPERATOR_TEXT = {
    ">": "harus lebih dari",
    ">=": "minimal",
    "<": "harus kurang dari",
    "<=": "maksimal",
}
OPERATOR_TEXT.update({"=": "harus tepat", "==": "harus tepat"})


def _group_label(dimension: str, value: str) -> str:
    return f"{fx.dimension_label(dimension)}: {value.replace(' x ', ' × ')}"


def rule_sentence(row: dict) -> str:
    """A broken curve rule in Indonesian: which share, what it was, what the rule demands."""
    bound = row["bound"]
    if row["operator"] in (">=", ">") and bound == 0:
        demand = "minimal ada satu pegawai"
    elif row["operator"] in ("<=", "=", "==") and bound == 0:
        demand = "tidak boleh ada"
    else:
        demand = f"{OPERATOR_TEXT.get(row['operator'], row['operator'])} {fx.fmt_percent(bound, 0)}"
    return (
        f"{row['kode_opd']} {row['tahun']} (predikat organisasi {row['predikat_organisasi']}):"
        f" porsi {row['predikat_group']} {fx.fmt_percent(row['observed_share'])}"
        f" ({row['n_in_group']} dari {row['n_assessed']} pegawai), aturan {row['rule_id']}:"
        f" {demand}."
    )


def _suppressed_note(frame: pl.DataFrame, min_group_size: int) -> list[str]:
    hidden = frame.filter(pl.col("suppressed")).select("dimension", "group_value").unique()
    if hidden.is_empty():
        return []
    listed = ", ".join(
        _group_label(d, v) for d, v in hidden.sort("dimension", "group_value").iter_rows()
    )
    return [f"Kelompok {fx.SUPPRESSED_LABEL.format(n=min_group_size)}: {listed}."]


def _rate_forest(rates: pl.DataFrame, tahun: int, outcome: str) -> Chart | None:
    frame = (
        rates.filter(
            (pl.col("tahun") == tahun)
            & (pl.col("outcome") == outcome)
            & ~pl.col("suppressed")
            & pl.col("dimension").is_in(RATE_DIMENSIONS)
            & (pl.col("group_value") != pl.col("reference_group"))
        )
        .with_columns(
            pl.struct("dimension", "group_value", "reference_group")
            .map_elements(
                lambda r: (
                    f"{_group_label(r['dimension'], r['group_value'])} (vs {r['reference_group']})"
                ),
                return_dtype=pl.String,
            )
            .alias("label"),
            (100 * pl.col("difference")).alias("pp"),
            (100 * pl.col("difference_ci_low")).alias("pp_low"),
            (100 * pl.col("difference_ci_high")).alias("pp_high"),
            pl.col("dimension")
            .map_elements(fx.dimension_label, return_dtype=pl.String)
            .alias("dimensi"),
        )
        .sort(pl.col("dimension").replace_strict(RATE_DIMENSIONS, list(range(5))), "group_value")
    )
    if frame.filter(pl.col("pp").is_not_null()).is_empty():
        return None
    outcome_text = fx.OUTCOME_LABELS[outcome]
    figure = fx.forest(
        frame,
        estimate="pp",
        low="pp_low",
        high="pp_high",
        label="label",
        group_by="dimensi",
        title=f"{outcome_text}: selisih peluang terhadap kelompok acuan — {tahun}",
        x_title="Selisih porsi pegawai terhadap kelompok acuan (poin persen)",
        reference=0.0,
    )
    return Chart(
        figure,
        f"satu baris per kelompok; titik = porsi kelompok yang memperoleh {outcome_text.lower()}"
        " dikurangi porsi kelompok acuan (dalam kurung), garis = selang kepercayaan 95%"
        " (Newcombe). Garis yang tidak menyentuh garis putus-putus nol berarti berbeda;"
        " belah ketupat besar = tetap signifikan setelah koreksi banyak uji (BH).",
        key=f"selisih_{outcome}_{tahun}",
    )


def _significant_rates(rates: pl.DataFrame) -> list[str]:
    lines = []
    significant = rates.filter(pl.col("significant") & ~pl.col("suppressed")).sort(
        "dimension", "tahun", "group_value"
    )
    for r in significant.iter_rows(named=True):
        if r["dimension"] == "kode_opd":
            continue
        outcome = fx.OUTCOME_LABELS[r["outcome"]].lower()
        lines.append(
            f"{_group_label(r['dimension'], r['group_value'])} {r['tahun']}: {outcome}"
            f" {fx.fmt_percent(r['rate'])} vs {fx.fmt_percent(r['reference_rate'])} pada kelompok"
            f" acuan {r['reference_group']} (p terkoreksi {fx.fmt_number(r['p_adjusted'], 4)})."
        )
    if not lines:
        lines.append(
            "Tidak ada kelompok jenis kelamin, usia, golongan atau jabatan yang peluang"
            " predikatnya berbeda signifikan dari kelompok acuan."
        )
    agency = significant.filter(pl.col("dimension") == "kode_opd")
    if agency.height:
        lines.append(
            f"Antar-OPD, {agency.select('group_value').n_unique()} instansi berbeda signifikan"
            " dari OPD acuan dalam porsi predikat teratas/terbawah; ini wajar bila predikat"
            " organisasinya berbeda, lihat bagian kurva distribusi."
        )
    return lines


def _rater_rows(raters: pl.DataFrame) -> str:
    flagged = raters.filter(pl.col("label").is_in(["lenient", "severe"]) & ~pl.col("suppressed"))
    if flagged.is_empty():
        return '<p class="muted">Tidak ada penilai yang tergolong murah atau keras.</p>'
    rows = []
    for r in flagged.sort("kode_opd", "tahun").iter_rows(named=True):
        label = "murah (lenient)" if r["label"] == "lenient" else "keras (severe)"
        css = "bad" if r["label"] == "severe" else "good"
        rows.append(
            f"<tr><td>{html.escape(r['kode_opd'])}</td><td>{r['tahun']}</td>"
            f"<td>{html.escape(fx.short_key(r['penilai_key']))}</td>"
            f"<td class='num'>{r['n_ratees']}</td>"
            f"<td class='num'>{fx.fmt_number(r['mean_score'], 2)}</td>"
            f"<td class='num'>{fx.fmt_number(r['agency_mean'], 2)}</td>"
            f"<td class='num'>{fx.fmt_number(r['raw_effect'], 2)}"
            f" [{fx.fmt_number(r['ci_low'], 2)}; {fx.fmt_number(r['ci_high'], 2)}]</td>"
            f"<td class='num'>{fx.fmt_number(r['shrunk_effect'], 2)}</td>"
            f"<td class='num'>{fx.fmt_number(r['p_adjusted'], 4)}</td>"
            f"<td class='{css}'>{label}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Tahun</th><th>Penilai</th>"
        "<th>Pegawai dinilai</th><th>Skor rata-rata</th><th>Rata-rata OPD</th>"
        "<th>Efek [selang 95%]</th><th>Efek EB (disusutkan)</th><th>p terkoreksi</th>"
        "<th>Label</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _indicator_forest(indicators: pl.DataFrame, title: str) -> Chart | None:
    frame = (
        indicators.filter(~pl.col("suppressed") & pl.col("difference").is_not_null())
        .with_columns(
            pl.format(
                "{} · {} · {} vs {}",
                "kode_indikator",
                pl.col("tahun").cast(pl.String),
                "group_value",
                "reference_group",
            ).alias("label"),
            (100 * pl.col("difference")).alias("pp"),
            (100 * pl.col("difference_ci_low")).alias("pp_low"),
            (100 * pl.col("difference_ci_high")).alias("pp_high"),
        )
        .sort("kode_indikator", "tahun")
    )
    if frame.is_empty():
        return None
    return Chart(
        fx.forest(
            frame,
            estimate="pp",
            low="pp_low",
            high="pp_high",
            label="label",
            title=title,
            x_title="Selisih capaian indikator, perempuan − laki-laki (poin persen)",
            reference=0.0,
            colour_by_sign=True,
        ),
        "satu baris per indikator dan tahun; titik = rata-rata capaian (realisasi/target)"
        " pegawai perempuan dikurangi laki-laki pada indikator yang sama, garis = selang"
        " kepercayaan 95% (Welch). Merah = signifikan merugikan kelompok yang dibandingkan,"
        " hijau = signifikan menguntungkan, abu-abu = tidak signifikan.",
        key="",
    )


def _curve_summary(year: pl.DataFrame) -> str:
    """Compliance over the agency-years that could be checked; the rest are named as not
    assessable, so "0 of 0" never reads as "all comply"."""
    checked = year.filter(pl.col("curve_compliant").is_not_null())
    n_broken = checked.filter(~pl.col("curve_compliant")).height
    unknown = year.filter(
        pl.col("curve_compliant").is_null() & pl.col("predikat_organisasi").is_not_null()
    ).height
    if checked.is_empty():
        return (
            "Kurva distribusi: TIDAK DAPAT DINILAI — tidak ada OPD-tahun dengan predikat"
            " tahunan (TAHUNAN) dan predikat organisasi; kepatuhan belum diketahui."
        )
    text = (
        f"Kurva distribusi: {checked.height - n_broken} dari {checked.height} pasangan OPD-tahun"
        f" yang dapat dinilai patuh; {n_broken} melanggar."
    )
    if unknown:
        text += f" {unknown} OPD-tahun tidak dapat dinilai (tidak ada predikat tahunan)."
    return text


def _findings_sections(found: pl.DataFrame, reports_dir: Path) -> list[Section]:
    """Findings with effect and p side by side, what could not be assessed, calibration."""
    sections = [
        Section(
            "Temuan (analysis.findings)",
            "Satu baris per hipotesis yang menjadi temuan: p terkoreksi (Benjamini-Hochberg per"
            " keluarga uji dan tahun) di bawah 0,05 DAN efek di luar batas praktis (rasio di luar"
            " 0,8–1,25; 0,5 poin predikat untuk penilai; 5 poin persen capaian; 15 poin persen"
            " porsi memenuhi target; peluang unggul di luar 0,44–0,56). Tahun tanpa predikat"
            " tahunan dinilai dari predikat periodik terakhir setiap pegawai (kolom basis).",
            table=findings_text.findings_table(found),
            notes=findings_text.not_assessable_notes(found),
        )
    ]
    calibration = findings_text.load_calibration(reports_dir)
    if calibration is None:
        notes = ["Belum dikalibrasi: jalankan `make calibrate` setelah `make run`."]
        table_html = ""
    else:
        notes = [
            f"{calibration['runs']} ulangan acak (seed {calibration['seed']}) atas"
            f" {calibration['employee_years']} pegawai-tahun, {calibration['created']}."
        ]
        table_html = findings_text.calibration_table(calibration)
    sections.append(
        Section(
            "Kalibrasi: seberapa sering uji menuduh tanpa dasar",
            "Label kelompok diacak di dalam OPD × golongan × tahun, penilai diacak di dalam"
            " OPD-tahun, kode indikator di dalam pegawai-tahun, dan urutan deret tren diacak;"
            " setiap keluarga uji dijalankan ulang. Laju = porsi ulangan dengan setidaknya satu"
            " temuan (harus ≤ 5%).",
            table=table_html,
            notes=notes,
        )
    )
    return sections


def build_fairness_report(
    conn: duckdb.DuckDBPyConnection,
    out_path: Path,
    png_dir: Path | None = None,
    min_group_size: int = 5,
) -> ReportInfo:
    """Render fairness.html from the warehouse; PNGs of the key charts when png_dir is given."""
    year = table(conn, "marts.mart_agency_year").sort("kode_opd", "tahun")
    curve = table(conn, "marts.mart_distribution_curve")
    rates = optional_table(conn, "analysis.fairness_group_rates")
    distribution = optional_table(conn, "analysis.fairness_distribution")
    dist_tests = optional_table(conn, "analysis.fairness_distribution_tests")
    raters = optional_table(conn, "analysis.rater_effects")
    indicators = optional_table(conn, "analysis.indicator_fairness")
    gaps = optional_table(conn, "analysis.self_gap_by_group")
    names = dict(year.select("kode_opd", "nama_opd").unique().iter_rows())
    agencies = sorted(names)
    years = sorted(year["tahun"].unique().to_list())
    hidden = fx.SUPPRESSED_LABEL.format(n=min_group_size)

    found = optional_table(conn, "analysis.findings")
    summary: list[str] = []
    broken = curve.filter(~pl.col("passed")).sort("kode_opd", "tahun", "rule_id")
    summary.append(_curve_summary(year))
    summary += [f"Pelanggaran — {rule_sentence(r)}" for r in broken.iter_rows(named=True)]

    sections: list[Section] = []
    curve_charts = [
        Chart(
            fx.curve_compliance_heatmap(year),
            "baris = instansi, kolom = tahun. Hijau = sebaran predikat pegawai memenuhi semua"
            " aturan kurva untuk predikat organisasi tahun itu (tertulis di kotak); merah ="
            " setidaknya satu aturan dilanggar. Rinciannya di grafik dan daftar di bawah.",
            key="kepatuhan_kurva",
        )
    ]
    if broken.height:
        curve_charts.append(
            Chart(
                fx.curve_rule_bars(curve),
                "untuk setiap aturan yang dilanggar: batang = porsi pegawai yang teramati,"
                " garis tegak hitam = batas yang diminta aturan. Nama aturan mengikuti tabel"
                " acuan distribution_curve_rules.",
                key="aturan_kurva_dilanggar",
            )
        )
    sections.append(
        Section(
            "Kepatuhan kurva distribusi predikat (SE MenPANRB 3/2023)",
            "Predikat organisasi membatasi sebaran predikat pegawainya (mis. organisasi 'Baik':"
            " Baik harus mayoritas, paling banyak 70%, dan minimal satu pegawai Butuh Perbaikan"
            " atau Kurang/Misconduct).",
            charts=curve_charts,
            notes=[rule_sentence(r) for r in broken.iter_rows(named=True)]
            or [_curve_summary(year)],
        )
    )

    if found is not None:
        summary += findings_text.summary_lines(found)
        sections += _findings_sections(found, out_path.parent)
    elif rates is not None:
        summary += _significant_rates(rates)
    else:
        summary.append("Tabel analisis keadilan (analysis.fairness_group_rates) belum dibangun.")
    if raters is not None and found is None:
        flagged = raters.filter(
            pl.col("label").is_in(["lenient", "severe"]) & ~pl.col("suppressed")
        )
        for (kode, key, label), part in flagged.group_by(
            "kode_opd", "penilai_key", "label", maintain_order=True
        ):
            kind = "murah (menilai lebih tinggi)" if label == "lenient" else "keras"
            summary.append(
                f"Penilai {key[:8]} di {kode} tergolong {kind} pada tahun"
                f" {', '.join(str(t) for t in sorted(part['tahun'].to_list()))}: skor predikat"
                f" rata-rata {fx.fmt_number(part['mean_score'].mean(), 2)} vs rata-rata OPD"
                f" {fx.fmt_number(part['agency_mean'].mean(), 2)}"
                f" ({part['n_ratees'].max()} pegawai dinilai)."
            )
        if flagged.is_empty():
            summary.append("Tidak ada penilai yang tergolong murah atau keras secara signifikan.")
    if indicators is not None and found is None:
        significant = indicators.filter(pl.col("significant") & ~pl.col("suppressed"))
        for (kode, indikator), part in significant.group_by(
            "kode_opd", "kode_indikator", maintain_order=True
        ):
            summary.append(
                f"Indikator {indikator} di {kode}: capaian pegawai perempuan lebih"
                f" {'rendah' if part['difference'].mean() < 0 else 'tinggi'} rata-rata"
                f" {fx.fmt_number(abs(100 * part['difference'].mean()), 1)} poin persen daripada"
                f" laki-laki ({part.height} tahun signifikan)."
            )
    if gaps is not None and found is None:
        for r in gaps.filter(pl.col("significant") & ~pl.col("suppressed")).iter_rows(named=True):
            summary.append(
                f"Selisih nilai mandiri − atasan {_group_label(r['dimension'], r['group_value'])}"
                f" {r['tahun']}: {fx.fmt_number(r['mean_gap'], 2)} poin, berbeda"
                f" {fx.fmt_number(r['difference'], 2)} dari acuan {r['reference_group']}."
            )

    if raters is not None or indicators is not None:
        sections.append(
            Section(
                "Penilai yang murah atau keras (semua OPD)",
                "Efek penilai = rata-rata skor predikat (Sangat Baik 5 … Sangat Kurang 1) yang"
                " ia berikan dikurangi rata-rata OPD, dengan selang 95% dan uji Welch. Kolom"
                " 'Efek EB' adalah efek yang disusutkan (empirical Bayes) ke arah rata-rata OPD"
                " agar penilai dengan sedikit pegawai tidak tampak ekstrem; gunakan untuk"
                " mengurutkan, bukan untuk menguji. Penilai ditampilkan dengan kode samaran,"
                " tidak pernah dengan NIP atau nama.",
                table=_rater_rows(raters) if raters is not None else "",
            )
        )
        if indicators is not None:
            chart = _indicator_forest(
                indicators.filter(pl.col("significant")),
                "Indikator dengan selisih capaian signifikan menurut jenis kelamin",
            )
            if chart is not None:
                chart.key = "selisih_indikator"
                sections.append(
                    Section(
                        "Selisih capaian per indikator (perempuan vs laki-laki)",
                        charts=[chart],
                    )
                )

    for tahun in years:
        charts: list[Chart] = []
        notes: list[str] = []
        table_html = ""
        if rates is not None:
            for outcome in ("top_band", "bottom_band"):
                chart = _rate_forest(rates, tahun, outcome)
                if chart is not None:
                    charts.append(chart)
            notes += _suppressed_note(rates.filter(pl.col("tahun") == tahun), min_group_size)
        if distribution is not None:
            for dimension in DISTRIBUTION_DIMENSIONS:
                part = distribution.filter(
                    (pl.col("dimension") == dimension) & (pl.col("tahun") == tahun)
                )
                if part.filter(~pl.col("suppressed")).is_empty():
                    continue
                test = (
                    dist_tests.filter(
                        (pl.col("tahun") == tahun) & (pl.col("dimension") == dimension)
                    )
                    if dist_tests is not None
                    else None
                )
                verdict = ""
                if test is not None and test.height and test["p_adjusted"][0] is not None:
                    p = test["p_adjusted"][0]
                    verdict = (
                        f" Uji khi-kuadrat: p terkoreksi {fx.fmt_number(p, 4)}"
                        f" ({'sebaran berbeda antar kelompok' if p < 0.05 else 'tidak berbeda'})."
                    )
                charts.append(
                    Chart(
                        fx.rating_distribution(distribution, dimension, tahun),
                        "setiap batang = 100% pegawai dalam satu kelompok, dibagi menurut"
                        f" predikat tahunan. Kelompok n < {min_group_size} tidak ditampilkan."
                        + verdict,
                    )
                )
        if gaps is not None:
            frame = gaps.filter(
                (pl.col("tahun") == tahun)
                & ~pl.col("suppressed")
                & pl.col("dimension").is_in(RATE_DIMENSIONS)
            ).with_columns(
                pl.struct("dimension", "group_value")
                .map_elements(
                    lambda r: _group_label(r["dimension"], r["group_value"]),
                    return_dtype=pl.String,
                )
                .alias("label"),
                pl.col("dimension")
                .map_elements(fx.dimension_label, return_dtype=pl.String)
                .alias("dimensi"),
            )
            if frame.height:
                charts.append(
                    Chart(
                        fx.forest(
                            frame,
                            estimate="mean_gap",
                            low="ci_low",
                            high="ci_high",
                            label="label",
                            group_by="dimensi",
                            title=f"Selisih nilai mandiri − atasan per kelompok — {tahun}",
                            x_title="Rata-rata nilai mandiri − nilai atasan (poin)",
                            reference=None,
                        ),
                        "titik = rata-rata selisih penilaian diri terhadap nilai atasan dalam"
                        " kelompok, garis = selang kepercayaan 95%. Kelompok yang jauh di kanan"
                        " menilai dirinya jauh lebih tinggi daripada atasan; belah ketupat ="
                        " berbeda signifikan dari kelompok acuan.",
                        key=f"selisih_mandiri_{tahun}" if tahun == years[-1] else "",
                    )
                )
            notes += _suppressed_note(gaps.filter(pl.col("tahun") == tahun), min_group_size)
        if not charts:
            notes.append("Tabel analisis keadilan belum tersedia untuk tahun ini.")
        sections.append(
            Section(
                f"Keadilan penilaian menurut kelompok — {tahun}",
                "Predikat tahunan (TAHUNAN) per kelompok pegawai dibandingkan dengan kelompok"
                f" acuan. Kelompok dengan kurang dari {min_group_size} pegawai ditulis"
                f" '{hidden}' tanpa angka.",
                charts=charts,
                table=table_html,
                notes=notes,
                picker="tahun",
                value=str(tahun),
            )
        )

    for kode in agencies:
        charts = []
        notes = []
        if raters is not None:
            own = raters.filter(pl.col("kode_opd") == kode)
            for tahun in years:
                part = own.filter(
                    (pl.col("tahun") == tahun)
                    & ~pl.col("suppressed")
                    & pl.col("shrunk_effect").is_not_null()
                )
                if part.height:
                    charts.append(
                        Chart(
                            fx.rater_effects(own, kode, tahun),
                            "satu baris per penilai (kode samaran). Titik = efek penilai dalam"
                            " poin predikat dibanding rata-rata OPD, garis = selang 95%; belah"
                            " ketupat kosong = efek setelah penyusutan empirical Bayes. Hijau ="
                            " murah (memberi predikat lebih tinggi), merah = keras, abu-abu ="
                            " wajar.",
                        )
                    )
            n_hidden = own.filter(pl.col("suppressed")).height
            if n_hidden:
                notes.append(
                    f"{n_hidden} penilai-tahun {hidden}: jumlah pegawai yang dinilainya terlalu"
                    " kecil untuk dipublikasikan."
                )
        if indicators is not None:
            chart = _indicator_forest(
                indicators.filter(pl.col("kode_opd") == kode),
                f"Selisih capaian indikator menurut jenis kelamin — {kode}",
            )
            if chart is not None:
                charts.append(chart)
            n_hidden = indicators.filter((pl.col("kode_opd") == kode) & pl.col("suppressed"))
            if n_hidden.height:
                notes.append(f"{n_hidden.height} perbandingan indikator-tahun {hidden}.")
        agency_curve = broken.filter(pl.col("kode_opd") == kode)
        notes += [rule_sentence(r) for r in agency_curve.iter_rows(named=True)]
        if not charts:
            notes.append("Tabel penilai dan indikator belum tersedia.")
        sections.append(
            Section(
                f"{kode} — {names[kode]}",
                "Penilai dan indikator di instansi ini.",
                charts=charts,
                notes=notes,
                picker="opd",
                value=kode,
            )
        )

    pickers = [
        Picker("tahun", "Tahun", [(str(t), str(t)) for t in reversed(years)]),
        Picker("opd", "Instansi (OPD)", [(k, f"{k} — {names[k]}") for k in agencies]),
    ]
    page = render_page(
        title="Laporan Keadilan Penilaian Kinerja",
        subtitle=(
            "Untuk evaluator: predikat menurut kelompok pegawai, indikator dan penilai, serta"
            " kepatuhan kurva distribusi"
        ),
        summary=summary,
        pickers=pickers,
        sections=sections,
        banner=blocked_banner(conn),
    )
    write_report(out_path, page)
    charts_all = [c for s in sections for c in s.charts]
    keyed = [c for c in charts_all if c.key]
    pngs = export_pngs(keyed, png_dir, prefix="keadilan") if png_dir else []
    return ReportInfo(out_path, len(charts_all), pngs, summary)
