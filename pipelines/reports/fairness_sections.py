"""The sections of the evaluators' report, one builder each, in page order: curve compliance,
the findings and their calibration, raters and indicators across agencies, then one section
per year (picker "tahun") and one per agency (picker "opd").

Every builder takes the report's tables (data.FairnessTables) and returns finished Sections;
none reads the warehouse. Charts leave suppressed groups out; a section lists them by name
only, as SUPPRESSED_LABEL.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from pipelines.reports import findings_text
from pipelines.reports.data import FairnessTables
from pipelines.reports.fairness_text import (
    curve_summary,
    group_label,
    rater_table,
    rule_sentence,
    suppressed_note,
)
from pipelines.reports.figures import fairness as fairness_fig
from pipelines.reports.figures.forest import ForestAxis, ForestColumns, forest
from pipelines.reports.html import Chart, Section
from pipelines.reports.labels import (
    OUTCOME_LABELS,
    SUPPRESSED_LABEL,
    dimension_label,
    fmt_number,
)

RATE_DIMENSIONS = ["gender", "age_band", "golongan", "jenis_jabatan", "kode_opd"]
DISTRIBUTION_DIMENSIONS = ["gender", "age_band", "golongan", "jenis_jabatan"]
# Gaps in shares, as the forest plots show them: percentage points.
PP_COLUMNS = ForestColumns(label="label", estimate="pp", low="pp_low", high="pp_high")


def _points(prefix: str = "difference") -> list[pl.Expr]:
    """A share difference and its interval in percentage points: pp, pp_low, pp_high."""
    return [
        (100 * pl.col(prefix)).alias("pp"),
        (100 * pl.col(f"{prefix}_ci_low")).alias("pp_low"),
        (100 * pl.col(f"{prefix}_ci_high")).alias("pp_high"),
    ]


def _dimension_name() -> pl.Expr:
    return pl.col("dimension").map_elements(dimension_label, return_dtype=pl.String)


def curve_section(tables: FairnessTables) -> Section:
    """Each agency-year's compliance with the distribution curve, and every broken rule."""
    broken = tables.broken_rules
    charts = [
        Chart(
            fairness_fig.curve_compliance_heatmap(tables.year),
            "baris = instansi, kolom = tahun. Hijau = sebaran predikat pegawai memenuhi semua"
            " aturan kurva untuk predikat organisasi tahun itu (tertulis di kotak); merah ="
            " setidaknya satu aturan dilanggar. Rinciannya di grafik dan daftar di bawah.",
            key="kepatuhan_kurva",
        )
    ]
    if broken.height:
        charts.append(
            Chart(
                fairness_fig.curve_rule_bars(tables.curve),
                "untuk setiap aturan yang dilanggar: batang = porsi pegawai yang teramati,"
                " garis tegak hitam = batas yang diminta aturan. Nama aturan mengikuti tabel"
                " acuan distribution_curve_rules.",
                key="aturan_kurva_dilanggar",
            )
        )
    return Section(
        "Kepatuhan kurva distribusi predikat (SE MenPANRB 3/2023)",
        "Predikat organisasi membatasi sebaran predikat pegawainya (mis. organisasi 'Baik':"
        " Baik harus mayoritas, paling banyak 70%, dan minimal satu pegawai Butuh Perbaikan"
        " atau Kurang/Misconduct).",
        charts=charts,
        notes=[rule_sentence(r) for r in broken.iter_rows(named=True)]
        or [curve_summary(tables.year)],
    )


def findings_sections(found: pl.DataFrame, reports_dir: Path) -> list[Section]:
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


def _indicator_forest(indicators: pl.DataFrame, title: str, key: str = "") -> Chart | None:
    """Women's minus men's achievement per indicator and year, or None when nothing shows."""
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
            *_points(),
        )
        .sort("kode_indikator", "tahun")
    )
    if frame.is_empty():
        return None
    axis = ForestAxis(
        title=title,
        x_title="Selisih capaian indikator, perempuan − laki-laki (poin persen)",
        reference=0.0,
        colour_by_sign=True,
    )
    return Chart(
        forest(frame, PP_COLUMNS, axis),
        "satu baris per indikator dan tahun; titik = rata-rata capaian (realisasi/target)"
        " pegawai perempuan dikurangi laki-laki pada indikator yang sama, garis = selang"
        " kepercayaan 95% (Welch). Merah = signifikan merugikan kelompok yang dibandingkan,"
        " hijau = signifikan menguntungkan, abu-abu = tidak signifikan.",
        key=key,
    )


def rater_sections(tables: FairnessTables) -> list[Section]:
    """Lenient and severe raters of every agency, then the significant indicator gaps."""
    raters, indicators = tables.raters, tables.indicators
    if raters is None and indicators is None:
        return []
    sections = [
        Section(
            "Penilai yang murah atau keras (semua OPD)",
            "Efek penilai = rata-rata skor predikat (Sangat Baik 5 … Sangat Kurang 1) yang"
            " ia berikan dikurangi rata-rata OPD, dengan selang 95% dan uji Welch. Kolom"
            " 'Efek EB' adalah efek yang disusutkan (empirical Bayes) ke arah rata-rata OPD"
            " agar penilai dengan sedikit pegawai tidak tampak ekstrem; gunakan untuk"
            " mengurutkan, bukan untuk menguji. Penilai ditampilkan dengan kode samaran,"
            " tidak pernah dengan NIP atau nama.",
            table=rater_table(raters) if raters is not None else "",
        )
    ]
    if indicators is not None:
        chart = _indicator_forest(
            indicators.filter(pl.col("significant")),
            "Indikator dengan selisih capaian signifikan menurut jenis kelamin",
            key="selisih_indikator",
        )
        if chart is not None:
            sections.append(
                Section("Selisih capaian per indikator (perempuan vs laki-laki)", charts=[chart])
            )
    return sections


def _rate_forest(rates: pl.DataFrame, tahun: int, outcome: str) -> Chart | None:
    """Each group's chance of `outcome` minus its reference group's, in percentage points."""
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
                    f"{group_label(r['dimension'], r['group_value'])} (vs {r['reference_group']})"
                ),
                return_dtype=pl.String,
            )
            .alias("label"),
            *_points(),
            _dimension_name().alias("dimensi"),
        )
        .sort(pl.col("dimension").replace_strict(RATE_DIMENSIONS, list(range(5))), "group_value")
    )
    if frame.filter(pl.col("pp").is_not_null()).is_empty():
        return None
    outcome_text = OUTCOME_LABELS[outcome]
    axis = ForestAxis(
        title=f"{outcome_text}: selisih peluang terhadap kelompok acuan — {tahun}",
        x_title="Selisih porsi pegawai terhadap kelompok acuan (poin persen)",
        reference=0.0,
    )
    return Chart(
        forest(frame, replace(PP_COLUMNS, group_by="dimensi"), axis),
        f"satu baris per kelompok; titik = porsi kelompok yang memperoleh {outcome_text.lower()}"
        " dikurangi porsi kelompok acuan (dalam kurung), garis = selang kepercayaan 95%"
        " (Newcombe). Garis yang tidak menyentuh garis putus-putus nol berarti berbeda;"
        " belah ketupat besar = tetap signifikan setelah koreksi banyak uji (BH).",
        key=f"selisih_{outcome}_{tahun}",
    )


def _distribution_charts(tables: FairnessTables, tahun: int, min_group_size: int) -> list[Chart]:
    """Predikat shares per group, one chart per dimension, with the chi-square verdict."""
    distribution, tests = tables.distribution, tables.distribution_tests
    if distribution is None:
        return []
    charts = []
    for dimension in DISTRIBUTION_DIMENSIONS:
        part = distribution.filter((pl.col("dimension") == dimension) & (pl.col("tahun") == tahun))
        if part.filter(~pl.col("suppressed")).is_empty():
            continue
        test = (
            tests.filter((pl.col("tahun") == tahun) & (pl.col("dimension") == dimension))
            if tests is not None
            else None
        )
        verdict = ""
        if test is not None and test.height and test["p_adjusted"][0] is not None:
            p = test["p_adjusted"][0]
            verdict = (
                f" Uji khi-kuadrat: p terkoreksi {fmt_number(p, 4)}"
                f" ({'sebaran berbeda antar kelompok' if p < 0.05 else 'tidak berbeda'})."
            )
        charts.append(
            Chart(
                fairness_fig.rating_distribution(distribution, dimension, tahun),
                "setiap batang = 100% pegawai dalam satu kelompok, dibagi menurut"
                f" predikat tahunan. Kelompok n < {min_group_size} tidak ditampilkan." + verdict,
            )
        )
    return charts


def _gap_forest(gaps: pl.DataFrame, tahun: int, key: str) -> Chart | None:
    """Each group's mean self-minus-supervisor score gap with its interval."""
    frame = gaps.filter(
        (pl.col("tahun") == tahun)
        & ~pl.col("suppressed")
        & pl.col("dimension").is_in(RATE_DIMENSIONS)
    ).with_columns(
        pl.struct("dimension", "group_value")
        .map_elements(
            lambda r: group_label(r["dimension"], r["group_value"]), return_dtype=pl.String
        )
        .alias("label"),
        _dimension_name().alias("dimensi"),
    )
    if not frame.height:
        return None
    columns = ForestColumns(
        label="label", estimate="mean_gap", low="ci_low", high="ci_high", group_by="dimensi"
    )
    axis = ForestAxis(
        title=f"Selisih nilai mandiri − atasan per kelompok — {tahun}",
        x_title="Rata-rata nilai mandiri − nilai atasan (poin)",
    )
    return Chart(
        forest(frame, columns, axis),
        "titik = rata-rata selisih penilaian diri terhadap nilai atasan dalam"
        " kelompok, garis = selang kepercayaan 95%. Kelompok yang jauh di kanan"
        " menilai dirinya jauh lebih tinggi daripada atasan; belah ketupat ="
        " berbeda signifikan dari kelompok acuan.",
        key=key,
    )


def year_section(tables: FairnessTables, tahun: int, min_group_size: int) -> Section:
    """One year (picker "tahun"): group gaps in the top and bottom predikat, predikat
    distributions per group, self-assessment gaps per group; small groups named only."""
    charts: list[Chart] = []
    notes: list[str] = []
    if tables.rates is not None:
        for outcome in ("top_band", "bottom_band"):
            chart = _rate_forest(tables.rates, tahun, outcome)
            if chart is not None:
                charts.append(chart)
        notes += suppressed_note(tables.rates.filter(pl.col("tahun") == tahun), min_group_size)
    charts += _distribution_charts(tables, tahun, min_group_size)
    if tables.gaps is not None:
        key = f"selisih_mandiri_{tahun}" if tahun == tables.years[-1] else ""
        chart = _gap_forest(tables.gaps, tahun, key)
        if chart is not None:
            charts.append(chart)
        notes += suppressed_note(tables.gaps.filter(pl.col("tahun") == tahun), min_group_size)
    if not charts:
        notes.append("Tabel analisis keadilan belum tersedia untuk tahun ini.")
    return Section(
        f"Keadilan penilaian menurut kelompok — {tahun}",
        "Predikat tahunan (TAHUNAN) per kelompok pegawai dibandingkan dengan kelompok"
        f" acuan. Kelompok dengan kurang dari {min_group_size} pegawai ditulis"
        f" '{SUPPRESSED_LABEL.format(n=min_group_size)}' tanpa angka.",
        charts=charts,
        notes=notes,
        picker="tahun",
        value=str(tahun),
    )


def _rater_charts(raters: pl.DataFrame, kode: str, years: list[int]) -> list[Chart]:
    """One caterpillar chart of rater effects per year with raters that may be shown."""
    charts = []
    for tahun in years:
        part = raters.filter(
            (pl.col("tahun") == tahun)
            & ~pl.col("suppressed")
            & pl.col("shrunk_effect").is_not_null()
        )
        if part.height:
            charts.append(
                Chart(
                    fairness_fig.rater_effects(raters, kode, tahun),
                    "satu baris per penilai (kode samaran). Titik = efek penilai dalam"
                    " poin predikat dibanding rata-rata OPD, garis = selang 95%; belah"
                    " ketupat kosong = efek setelah penyusutan empirical Bayes. Hijau ="
                    " murah (memberi predikat lebih tinggi), merah = keras, abu-abu ="
                    " wajar.",
                )
            )
    return charts


def agency_section(tables: FairnessTables, kode: str, min_group_size: int) -> Section:
    """One agency (picker "opd"): its raters year by year, its indicator gaps, its broken
    curve rules."""
    hidden = SUPPRESSED_LABEL.format(n=min_group_size)
    charts: list[Chart] = []
    notes: list[str] = []
    if tables.raters is not None:
        own = tables.raters.filter(pl.col("kode_opd") == kode)
        charts += _rater_charts(own, kode, tables.years)
        n_hidden = own.filter(pl.col("suppressed")).height
        if n_hidden:
            notes.append(
                f"{n_hidden} penilai-tahun {hidden}: jumlah pegawai yang dinilainya terlalu"
                " kecil untuk dipublikasikan."
            )
    if tables.indicators is not None:
        own = tables.indicators.filter(pl.col("kode_opd") == kode)
        chart = _indicator_forest(own, f"Selisih capaian indikator menurut jenis kelamin — {kode}")
        if chart is not None:
            charts.append(chart)
        n_hidden = own.filter(pl.col("suppressed")).height
        if n_hidden:
            notes.append(f"{n_hidden} perbandingan indikator-tahun {hidden}.")
    broken = tables.broken_rules.filter(pl.col("kode_opd") == kode)
    notes += [rule_sentence(r) for r in broken.iter_rows(named=True)]
    if not charts:
        notes.append("Tabel penilai dan indikator belum tersedia.")
    return Section(
        f"{kode} — {tables.names[kode]}",
        "Penilai dan indikator di instansi ini.",
        charts=charts,
        notes=notes,
        picker="opd",
        value=kode,
    )
