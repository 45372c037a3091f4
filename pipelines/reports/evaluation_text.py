"""The tables of the quarterly evaluation (Form E.81) in the planners' report: one agency's
indicators as of a quarter, the rankings of a quarter, one agency's year-end outlook.

A figure the extract hides (a group under the publishable minimum) or that has no data is
NULL there and prints as "—" (MISSING); quarters after the as-of quarter are left blank.
"""

from __future__ import annotations

import html

import polars as pl

from pipelines.reports.labels import ROMAN, fmt_number, fmt_percent

MISSING = "—"
MISSING_NOTE = (
    "— = tidak dipublikasikan (kelompok terlalu kecil untuk dipublikasikan) atau datanya tidak ada."
)
TIED_NOTE = "seri: nilai sama pada ketelitian yang ditampilkan"
RANK_MEASURES = {"capaian": "Capaian kinerja rata-rata", "ikm": "Indeks Kepuasan Masyarakat"}
PACE_KINDS = {
    "per_triwulan_minimal": "≥ {v} per triwulan",
    "per_triwulan_maksimal": "≤ {v} per triwulan",
    "tingkat_tw4_minimal": "≥ {v} pada TW IV",
    "tingkat_tw4_maksimal": "≤ {v} pada TW IV",
    "jp_per_pegawai_per_triwulan": "{v} JP per pegawai per triwulan",
}


def number(value: float | None) -> str:
    """A realisation or target in its own unit: whole numbers plain, others 2 decimals."""
    if value is None:
        return MISSING
    return fmt_number(value, 0 if float(value).is_integer() else 2)


def percent(value: float | None) -> str:
    return MISSING if value is None else fmt_percent(value)


def points(change: float | None) -> str:
    """A change of capaian in percentage points, signed."""
    if change is None:
        return MISSING
    sign = "+" if change > 0 else ""
    return f"{sign}{fmt_number(100 * change, 1)}"


def _with_band(value: float | None, band: str | None) -> str:
    return percent(value) + (f" ({html.escape(band)})" if band else "")


def _table(headers: list[str], rows: list[list[str]], numeric: range) -> str:
    """Cells are already escaped HTML; the columns in `numeric` are right-aligned."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{c}</td>" if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def indicator_table(rows: pl.DataFrame) -> str:
    """One agency's indicators as of one quarter, in the shape of Form E.81."""
    if rows.is_empty():
        return '<p class="muted">Tidak ada indikator pada triwulan ini.</p>'
    headers = [
        "Indikator",
        "Pemegang",
        "Target tahunan",
        *(f"Realisasi TW {ROMAN[k]}" for k in range(1, 5)),
        "Realisasi s.d. triwulan",
        "Capaian thd target tahunan",
        "Capaian thd target s.d. triwulan",
        "Capaian s.d. triwulan tahun lalu",
        "Perubahan (poin %)",
    ]
    lines = []
    for r in rows.sort("kode_indikator").iter_rows(named=True):
        unit = f" ({html.escape(r['satuan'])})" if r.get("satuan") else ""
        name = f"{html.escape(r['kode_indikator'])} — {html.escape(r['indikator'] or '')}{unit}"
        rule = f"{r['arah'] or ''}, {r['jenis_agregasi'] or ''}"
        kind = f"<br><span class='muted'>{html.escape(rule)}</span>"
        quarters = [
            number(r[f"realisasi_tw{k}"]) if k <= r["triwulan"] else "" for k in range(1, 5)
        ]
        lines.append(
            [
                name + kind,
                MISSING if r["n_holders"] is None else str(r["n_holders"]),
                number(r["annual_target"]),
                *quarters,
                number(r["realisasi_to_date"]),
                _with_band(r["capaian_annual"], r["capaian_annual_band"]),
                _with_band(r["capaian_to_date"], r["capaian_to_date_band"]),
                percent(r["capaian_to_date_prev_year"]),
                points(r["capaian_to_date_change"]),
            ]
        )
    return _table(headers, lines, range(1, len(headers)))


def _rank_cell(r: dict) -> str:
    if r["status"] != "ranked":
        return MISSING
    return f"{r['rank']} (seri)" if r["tied"] else str(r["rank"])


def _rank_value(measure: str, value: float | None) -> str:
    if value is None:
        return MISSING
    return fmt_percent(value) if measure == "capaian" else fmt_number(value, 2)


def ranking_table(ranking: pl.DataFrame, measure: str) -> str:
    """One pemda-quarter-measure: ranked agencies first, then those not ranked with why."""
    if ranking.is_empty():
        return '<p class="muted">Tidak ada instansi.</p>'
    n_ranked = ranking["n_ranked"].max()
    rows = [
        [
            html.escape(r["kode_opd"]),
            _rank_cell(r),
            _rank_value(measure, r["value"]),
            MISSING if r["n"] is None else str(r["n"]),
            html.escape(r["reason"] or (TIED_NOTE if r["tied"] else "")),
        ]
        for r in ranking.sort(pl.col("rank"), "kode_opd", nulls_last=True).iter_rows(named=True)
    ]
    who = "pegawai dengan indikator" if measure == "capaian" else "responden"
    headers = ["Instansi (OPD)", f"Peringkat (dari {n_ranked})", "Nilai", f"n {who}", "Keterangan"]
    return _table(headers, rows, range(1, 4))


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return MISSING
    return f"{percent(low)} – {percent(high)}"


def _pace(r: dict) -> str:
    if r["required_pace"] is None or r["required_pace_kind"] is None:
        return MISSING
    template = PACE_KINDS.get(r["required_pace_kind"], "{v}")
    return html.escape(template.format(v=number(round(r["required_pace"], 2))))


def outlook_table(outlook: pl.DataFrame) -> str:
    """One agency's outlook: its agency rows, then one row per indicator."""
    if outlook.is_empty():
        return '<p class="muted">Tidak ada proyeksi untuk instansi ini.</p>'
    headers = [
        "Ukuran",
        "Sampai kini",
        "Proyeksi akhir tahun",
        "Interval 95%",
        "Predikat proyeksi",
        "Yang dibutuhkan",
        "Keterangan",
    ]
    rows = []
    for r in outlook.iter_rows(named=True):
        if r["scope"] == "agency":
            what = (
                "Cakupan 20 JP" if r["measure"] == "share_20jp" else "Rata-rata capaian indikator"
            )
            what = f"<b>{what}</b>"
        else:
            what = f"{html.escape(r['kode_indikator'])} — {html.escape(r['indikator'] or '')}"
        rows.append(
            [
                what,
                percent(r["value_to_date"]),
                percent(r["projected"]),
                _interval(r["projected_low"], r["projected_high"]),
                html.escape(r["projected_band"] or MISSING),
                _pace(r),
                html.escape(r["reason"] or ""),
            ]
        )
    return _table(headers, rows, range(1, 6))
