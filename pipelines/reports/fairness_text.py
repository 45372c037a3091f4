"""What the evaluators' report says in words: broken curve rules as sentences, the summary
lines used when analysis.findings is not built (significant group gaps, lenient or severe
raters, indicator gaps, self-assessment gaps), and the table of flagged raters.

Suppressed groups (n < minimum) are only ever named with SUPPRESSED_LABEL, never with
figures; raters only by a shortened pseudonymous key (labels.short_key).
"""

from __future__ import annotations

import html

import polars as pl

from pipelines.reports.labels import (
    OUTCOME_LABELS,
    SUPPRESSED_LABEL,
    dimension_label,
    fmt_number,
    fmt_percent,
    short_key,
)

OPERATOR_TEXT = {
    ">": "harus lebih dari",
    ">=": "minimal",
    "<": "harus kurang dari",
    "<=": "maksimal",
    "=": "harus tepat",
    "==": "harus tepat",
}


def group_label(dimension: str, value: str) -> str:
    """'Jenis kelamin × golongan: P × III' — how charts and sentences name a group."""
    return f"{dimension_label(dimension)}: {value.replace(' x ', ' × ')}"


def rule_sentence(row: dict) -> str:
    """A broken curve rule in Indonesian: which share, what it was, what the rule demands."""
    bound = row["bound"]
    if row["operator"] in (">=", ">") and bound == 0:
        demand = "minimal ada satu pegawai"
    elif row["operator"] in ("<=", "=", "==") and bound == 0:
        demand = "tidak boleh ada"
    else:
        demand = f"{OPERATOR_TEXT.get(row['operator'], row['operator'])} {fmt_percent(bound, 0)}"
    return (
        f"{row['kode_opd']} {row['tahun']} (predikat organisasi {row['predikat_organisasi']}):"
        f" porsi {row['predikat_group']} {fmt_percent(row['observed_share'])}"
        f" ({row['n_in_group']} dari {row['n_assessed']} pegawai), aturan {row['rule_id']}:"
        f" {demand}."
    )


def curve_summary(year: pl.DataFrame) -> str:
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


def suppressed_note(frame: pl.DataFrame, min_group_size: int) -> list[str]:
    """The groups hidden for being small, by name only, or nothing when none is."""
    hidden = frame.filter(pl.col("suppressed")).select("dimension", "group_value").unique()
    if hidden.is_empty():
        return []
    listed = ", ".join(
        group_label(d, v) for d, v in hidden.sort("dimension", "group_value").iter_rows()
    )
    return [f"Kelompok {SUPPRESSED_LABEL.format(n=min_group_size)}: {listed}."]


def significant_rates(rates: pl.DataFrame) -> list[str]:
    """Groups whose chance of the top or bottom predikat differs from their reference group;
    agencies only as a count (their predikat organisasi differ by design)."""
    lines = []
    significant = rates.filter(pl.col("significant") & ~pl.col("suppressed")).sort(
        "dimension", "tahun", "group_value"
    )
    for r in significant.iter_rows(named=True):
        if r["dimension"] == "kode_opd":
            continue
        outcome = OUTCOME_LABELS[r["outcome"]].lower()
        lines.append(
            f"{group_label(r['dimension'], r['group_value'])} {r['tahun']}: {outcome}"
            f" {fmt_percent(r['rate'])} vs {fmt_percent(r['reference_rate'])} pada kelompok"
            f" acuan {r['reference_group']} (p terkoreksi {fmt_number(r['p_adjusted'], 4)})."
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


def flagged_raters(raters: pl.DataFrame) -> pl.DataFrame:
    """Rater-years labelled lenient or severe that may be shown (not suppressed)."""
    return raters.filter(pl.col("label").is_in(["lenient", "severe"]) & ~pl.col("suppressed"))


def rater_summary(raters: pl.DataFrame) -> list[str]:
    """One line per lenient or severe rater (all their flagged years together)."""
    flagged = flagged_raters(raters)
    lines = []
    for (kode, key, label), part in flagged.group_by(
        "kode_opd", "penilai_key", "label", maintain_order=True
    ):
        kind = "murah (menilai lebih tinggi)" if label == "lenient" else "keras"
        lines.append(
            f"Penilai {key[:8]} di {kode} tergolong {kind} pada tahun"
            f" {', '.join(str(t) for t in sorted(part['tahun'].to_list()))}: skor predikat"
            f" rata-rata {fmt_number(part['mean_score'].mean(), 2)} vs rata-rata OPD"
            f" {fmt_number(part['agency_mean'].mean(), 2)}"
            f" ({part['n_ratees'].max()} pegawai dinilai)."
        )
    if flagged.is_empty():
        lines.append("Tidak ada penilai yang tergolong murah atau keras secara signifikan.")
    return lines


def indicator_summary(indicators: pl.DataFrame) -> list[str]:
    """One line per agency and indicator where women's achievement differs significantly."""
    significant = indicators.filter(pl.col("significant") & ~pl.col("suppressed"))
    lines = []
    for (kode, indikator), part in significant.group_by(
        "kode_opd", "kode_indikator", maintain_order=True
    ):
        lines.append(
            f"Indikator {indikator} di {kode}: capaian pegawai perempuan lebih"
            f" {'rendah' if part['difference'].mean() < 0 else 'tinggi'} rata-rata"
            f" {fmt_number(abs(100 * part['difference'].mean()), 1)} poin persen daripada"
            f" laki-laki ({part.height} tahun signifikan)."
        )
    return lines


def gap_summary(gaps: pl.DataFrame) -> list[str]:
    """One line per group whose self-minus-supervisor gap differs from its reference's."""
    return [
        f"Selisih nilai mandiri − atasan {group_label(r['dimension'], r['group_value'])}"
        f" {r['tahun']}: {fmt_number(r['mean_gap'], 2)} poin, berbeda"
        f" {fmt_number(r['difference'], 2)} dari acuan {r['reference_group']}."
        for r in gaps.filter(pl.col("significant") & ~pl.col("suppressed")).iter_rows(named=True)
    ]


def rater_table(raters: pl.DataFrame) -> str:
    """HTML table of the lenient and severe raters of every agency, by agency and year."""
    flagged = flagged_raters(raters)
    if flagged.is_empty():
        return '<p class="muted">Tidak ada penilai yang tergolong murah atau keras.</p>'
    rows = []
    for r in flagged.sort("kode_opd", "tahun").iter_rows(named=True):
        label = "murah (lenient)" if r["label"] == "lenient" else "keras (severe)"
        css = "bad" if r["label"] == "severe" else "good"
        rows.append(
            f"<tr><td>{html.escape(r['kode_opd'])}</td><td>{r['tahun']}</td>"
            f"<td>{html.escape(short_key(r['penilai_key']))}</td>"
            f"<td class='num'>{r['n_ratees']}</td>"
            f"<td class='num'>{fmt_number(r['mean_score'], 2)}</td>"
            f"<td class='num'>{fmt_number(r['agency_mean'], 2)}</td>"
            f"<td class='num'>{fmt_number(r['raw_effect'], 2)}"
            f" [{fmt_number(r['ci_low'], 2)}; {fmt_number(r['ci_high'], 2)}]</td>"
            f"<td class='num'>{fmt_number(r['shrunk_effect'], 2)}</td>"
            f"<td class='num'>{fmt_number(r['p_adjusted'], 4)}</td>"
            f"<td class='{css}'>{label}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Instansi (OPD)</th><th>Tahun</th><th>Penilai</th>"
        "<th>Pegawai dinilai</th><th>Skor rata-rata</th><th>Rata-rata OPD</th>"
        "<th>Efek [selang 95%]</th><th>Efek EB (disusutkan)</th><th>p terkoreksi</th>"
        "<th>Label</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
