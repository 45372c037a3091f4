"""The evaluators' report reads its verdicts from analysis.findings, never from a table's
own `significant` flag: what the summary says, the findings table, what could not be
assessed and why, and the calibration of every family."""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

from pipelines.reports.labels import dimension_label, fmt_number, fmt_percent, short_key

FAMILY_LABELS = {
    "group_disparity": "Kesenjangan antar-kelompok",
    "rater": "Penilai murah/keras",
    "indicator": "Capaian indikator perempuan vs laki-laki",
    "indicator_difficulty": "Kesulitan indikator",
    "distribution_curve": "Kurva distribusi",
    "trend": "Tren",
    "conditional_rating": "Predikat pada capaian yang sama",
}
VERDICT_LABELS = {
    "finding": "temuan",
    "no_finding": "bukan temuan",
    "not_assessable": "tidak dapat dinilai",
    "suppressed": "disembunyikan (kelompok kecil)",
}
OUTCOME_LABELS = {
    "top_band": "predikat teratas (Sangat Baik)",
    "bottom_band": "predikat terbawah (Butuh Perbaikan ke bawah)",
    "predikat_order": "urutan predikat",
    "top_band_within_opd": "predikat teratas, dibandingkan di dalam OPD",
    "bottom_band_within_opd": "predikat terbawah, dibandingkan di dalam OPD",
    "predikat_score": "skor predikat",
    "achievement": "capaian",
    "share_meeting_target": "porsi memenuhi target",
    "predikat_distribution": "sebaran predikat",
    "predikat": "predikat",
    "rating_hasil_kerja": "rating hasil kerja",
    "rating_perilaku": "rating perilaku kerja",
    "quarter": "per triwulan",
    "year": "per tahun",
}
FINDINGS_PER_FAMILY = 5  # in the summary; the rest are in the findings table
CALIBRATION_FILE = "kalibrasi.json"
FAIRNESS_FAMILIES = [f for f in FAMILY_LABELS if f != "trend"]
# The curve has its own summary lines (rule by rule); a rule check is not counted as a test.
SUMMARY_FAMILIES = [f for f in FAIRNESS_FAMILIES if f != "distribution_curve"]


def _where(r: dict) -> str:
    parts = [str(r["tahun"]) if r["tahun"] is not None else "", r["kode_opd"] or "semua OPD"]
    if r["dimension"]:
        parts.append(f"{dimension_label(r['dimension'])}")
    if r["subject"]:
        subject = r["subject"]
        if r["family"] == "rater":
            subject = short_key(subject)
        parts.append(subject.replace(" x ", " × "))
    if r["reference"]:
        reference = r["reference"].replace(" x ", " × ")
        parts.append(reference if " vs " in reference else f"vs {reference}")
    if r["outcome"]:
        parts.append(f"({OUTCOME_LABELS.get(r['outcome'], r['outcome'])})")
    return " · ".join(p for p in parts if p)


def summary_lines(found: pl.DataFrame, families: list[str] = SUMMARY_FAMILIES) -> list[str]:
    """One line per family: how many hypotheses, findings and non-assessable ones; then each
    family's strongest findings in one sentence each. A family with nothing tested says so
    instead of "all clear"."""
    lines = []
    for family in families:
        part = found.filter(pl.col("family") == family)
        counts = {v: int((part["verdict"] == v).sum()) for v in VERDICT_LABELS}
        tested = counts["finding"] + counts["no_finding"]
        label = FAMILY_LABELS[family]
        if tested == 0:
            reason = ""
            reasons = part.filter(pl.col("verdict") == "not_assessable")["reason"].unique()
            if reasons.len():
                reason = f" Alasan: {reasons.sort()[0]}"
            lines.append(
                f"{label}: TIDAK DAPAT DINILAI — tidak ada uji yang dapat dihitung"
                f" ({counts['not_assessable']} tidak dapat dinilai, {counts['suppressed']}"
                f" disembunyikan).{reason}"
            )
            continue
        lines.append(
            f"{label}: {counts['finding']} temuan dari {tested} uji"
            f" ({counts['not_assessable']} tidak dapat dinilai, {counts['suppressed']}"
            " disembunyikan karena kelompok kecil)."
        )
    for family in families:
        hits = found.filter((pl.col("family") == family) & (pl.col("verdict") == "finding"))
        strongest = hits.sort("p_adjusted", "tahun", "kode_opd", nulls_last=True)
        for r in strongest.head(FINDINGS_PER_FAMILY).iter_rows(named=True):
            lines.append(f"{_where(r)} — {r['reason']}")
        if hits.height > FINDINGS_PER_FAMILY:
            lines.append(
                f"… dan {hits.height - FINDINGS_PER_FAMILY} temuan {FAMILY_LABELS[family].lower()}"
                " lain: lihat tabel Temuan."
            )
    return lines


def findings_table(found: pl.DataFrame, verdicts: tuple[str, ...] = ("finding",)) -> str:
    """HTML table of the rows with the given verdicts: where, effect [CI], p, p adjusted."""
    rows = found.filter(pl.col("verdict").is_in(verdicts)).sort("family", "tahun", "kode_opd")
    if rows.is_empty():
        return '<p class="muted">Tidak ada baris.</p>'
    body = []
    for r in rows.iter_rows(named=True):
        effect = fmt_number(r["effect"], 2)
        if r["effect_ci_low"] is not None:
            low, high = (fmt_number(r[c], 2) for c in ("effect_ci_low", "effect_ci_high"))
            effect += f" [{low}; {high}]"
        body.append(
            f"<tr><td>{html.escape(FAMILY_LABELS.get(r['family'], r['family']))}</td>"
            f"<td>{html.escape(_where(r))}</td>"
            f"<td class='num'>{r['n'] if r['n'] is not None else '-'}"
            f" / {r['n_reference'] if r['n_reference'] is not None else '-'}</td>"
            f"<td>{html.escape(r['effect_measure'] or '-')}</td>"
            f"<td class='num'>{effect}</td>"
            f"<td class='num'>{fmt_number(r['p_value'], 4)}</td>"
            f"<td class='num'>{fmt_number(r['p_adjusted'], 4)}</td>"
            f"<td>{html.escape(VERDICT_LABELS[r['verdict']])}</td>"
            f"<td>{html.escape(r['reason'] or '')}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Keluarga uji</th><th>Yang diuji</th><th>n / n acuan</th>"
        "<th>Ukuran efek</th><th>Efek [selang 95%]</th><th>p</th><th>p terkoreksi</th>"
        "<th>Putusan</th><th>Alasan</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def not_assessable_notes(found: pl.DataFrame, families: list[str] = FAIRNESS_FAMILIES) -> list[str]:
    """Each distinct reason something could not be assessed, with how many rows it covers."""
    rows = found.filter((pl.col("verdict") == "not_assessable") & pl.col("family").is_in(families))
    counted = rows.group_by("family", "reason").len().sort("family", "reason")
    return [f"{FAMILY_LABELS[f]}: {reason} ({n} baris)" for f, reason, n in counted.iter_rows()]


def load_calibration(reports_dir: Path) -> dict | None:
    path = reports_dir / CALIBRATION_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def calibration_table(calibration: dict) -> str:
    body = []
    for r in calibration["families"]:
        if not r["units"]:
            rate = "<td class='num' colspan='3'>tidak ada uji pada data ini</td>"
        else:
            rate = (
                f"<td class='num'>{r['units_with_false_finding']} / {r['units']}</td>"
                f"<td class='num'>{fmt_percent(r['rate'])} ({fmt_percent(r['rate_ci_low'])}"
                f" – {fmt_percent(r['rate_ci_high'])})</td>"
                f"<td class='num'>{fmt_percent(r['rate_any_year'])}</td>"
            )
        body.append(
            f"<tr><td>{html.escape(FAMILY_LABELS.get(r['family'], r['family']))}</td>"
            f"<td class='num'>{r['runs']}</td>{rate}"
            f"<td class='num'>{r['tests_per_run']:.0f}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Keluarga uji</th><th>Ulangan acak</th>"
        "<th>Keluarga-tahun dengan temuan palsu</th><th>Laju per keluarga-tahun (selang 95%)</th>"
        "<th>Ulangan dengan temuan palsu di tahun mana pun</th><th>Uji per ulangan</th></tr>"
        "</thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def judged_trends(tests: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """analysis.trend_tests with `significant` replaced by the findings verdict (significant
    after BH *and* a practical tau), so the planners' summary says what the findings say."""
    verdicts = found.filter(pl.col("family") == "trend").select(
        pl.col("kode_opd"),
        pl.col("unit_layanan"),
        pl.col("subject").alias("measure"),
        pl.col("outcome").alias("grain"),
        (pl.col("verdict") == "finding").alias("_finding"),
    )
    keys = ["kode_opd", "unit_layanan", "measure", "grain"]
    return (
        tests.join(verdicts, on=keys, how="left", nulls_equal=True)
        .with_columns(significant=pl.col("_finding").fill_null(False))
        .drop("_finding")
    )
