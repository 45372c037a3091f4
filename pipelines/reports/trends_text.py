"""What the planners' report says in words and tables: one sentence per significant trend
(with the series' first and last value, so a planner can check it against the charts), the
latest quarter's low IKM grades and weakest 20-JP coverage, and the tables of trend tests and
quarter-on-quarter changes.
"""

from __future__ import annotations

import html

import polars as pl

from pipelines.reports.labels import fmt_number, fmt_percent, measure_label, quarter_label
from pipelines.rules.skm import seed_grades

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


def _grades_below_good() -> list[str]:
    """Letters of the seed's grades worse than 'Baik' (B), which the summary names."""
    letters = [g.grade for g in seed_grades()]
    return letters[letters.index("B") + 1 :]


def _value(measure: str, value: float | None) -> str:
    """A measure's value in its own unit: shares as %, NRR with two decimals."""
    if measure in PERCENT_MEASURES:
        return fmt_percent(value)
    return fmt_number(value, 2 if measure.startswith("nrr") else 1)


def _slope(measure: str, slope: float) -> str:
    """A Sen's slope in the measure's unit per period: shares in percentage points."""
    if measure in PERCENT_MEASURES:
        return f"{fmt_number(100 * slope, 2)} poin persen"
    unit = "JP" if measure == "jp_per_employee" else "poin"
    return f"{fmt_number(slope, 3 if measure.startswith('nrr') else 2)} {unit}"


def _subject(measure: str, kode_opd: str, unit: str | None) -> str:
    """What a trend sentence is about: 'IKM <unit> di <OPD>' or '<measure> <OPD>'."""
    label = measure_label(measure)
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
        return quarter_label(r["tahun"], r["triwulan"]) if r["triwulan"] else str(r["tahun"])

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
            f" {fmt_number(row['p_adjusted'], 4)}{extra}."
        )
    return lines


def snapshot_summary(quarter: pl.DataFrame, year: pl.DataFrame) -> list[str]:
    """Where things stand now: agencies graded under 'Baik' in the latest quarter, and the
    three with the lowest 20-JP coverage in the latest year."""
    last_year, last_q = quarter.select("tahun", "triwulan").sort("tahun", "triwulan").row(-1)
    latest = quarter.filter((pl.col("tahun") == last_year) & (pl.col("triwulan") == last_q))
    lines = []
    low = latest.filter(pl.col("ikm_grade").is_in(_grades_below_good())).sort("ikm")
    label = quarter_label(last_year, last_q)
    if low.height:
        listed = ", ".join(
            f"{k} (IKM {fmt_number(v, 2)}, mutu {g})"
            for k, v, g in low.select("kode_opd", "ikm", "ikm_grade").iter_rows()
        )
        lines.append(f"Pada {label}, IKM di bawah mutu Baik: {listed}.")
    else:
        lines.append(f"Pada {label}, semua instansi dengan data SKM bermutu Baik (B) atau lebih.")
    year_latest = year.filter(pl.col("tahun") == year["tahun"].max()).sort("share_20jp")
    weakest = year_latest.filter(pl.col("share_20jp").is_not_null()).head(3)
    if weakest.height:
        listed = ", ".join(
            f"{k} {fmt_percent(v)}" for k, v in weakest.select("kode_opd", "share_20jp").iter_rows()
        )
        lines.append(
            f"Cakupan hak pengembangan kompetensi 20 JP tahun {year_latest['tahun'][0]} paling"
            f" rendah di: {listed} pegawai."
        )
    return lines


def tests_table(tests: pl.DataFrame) -> str:
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
    """One table row per test: where, what, over which periods, slope, p, verdict."""
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
            f"<td>{html.escape(measure_label(r['measure']))}</td>"
            f"<td>{html.escape(r['first_period'])} – {html.escape(r['last_period'])}</td>"
            f"<td class='num'>{_slope(r['measure'], r['sen_slope'])}</td>"
            f"<td class='num'>{fmt_number(r['p_adjusted'], 4)}</td>"
            f"<td class='{css}'>{verdict}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Unit layanan</th><th>Ukuran</th>"
        "<th>Rentang</th><th>Sen's slope per periode</th><th>p terkoreksi (BH)</th>"
        "<th>Penilaian</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _points(share_change: float | None) -> float | None:
    """A change of a share in percentage points."""
    return None if share_change is None else 100 * share_change


def changes_table(latest: pl.DataFrame) -> str:
    """Every agency in one quarter with its change (Δ) against the quarter before."""
    rows = []
    for r in latest.sort("kode_opd").iter_rows(named=True):
        grade = html.escape(r["ikm_grade"] or "–")
        rows.append(
            "<tr>"
            f"<td>{html.escape(r['kode_opd'])}</td>"
            f"<td class='num'>{r['n_assessed']}</td>"
            f"<td class='num'>{fmt_percent(r['mean_achievement'])}</td>"
            f"<td class='num'>{fmt_number(_points(r['mean_achievement_change']), 2)}</td>"
            f"<td class='num'>{fmt_number(r['ikm'], 2)} ({grade})</td>"
            f"<td class='num'>{fmt_number(r['ikm_change'], 2)}</td>"
            f"<td class='num'>{fmt_percent(r['share_20jp'])}</td>"
            f"<td class='num'>{fmt_number(r['mean_self_supervisor_gap'], 2)}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Pegawai dinilai</th><th>Capaian</th>"
        "<th>Δ capaian (poin %)</th><th>IKM (mutu)</th><th>Δ IKM</th><th>Cakupan 20 JP</th>"
        "<th>Selisih mandiri − atasan</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
