"""The quarterly evaluation in the planners' report ("Evaluasi triwulanan (Form E.81)"): for
the latest quarter, the agencies' rankings within their pemda and kinerja's year-end outlook
(one section, always shown), and per agency its indicators in the shape of Form E.81 with
their outlook (one section per agency, shown by the "opd" picker).

Reads marts.mart_agency_indicator_quarter, analysis.agency_ranking and
analysis.year_end_outlook when present: a warehouse built before them gets a section that
says they are not available yet ("belum tersedia") instead of failing. The report reads a
temporary extract, so hidden figures are NULL and print as "—" with a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.reports.data import optional_table
from pipelines.reports.evaluation_text import (
    MISSING_NOTE,
    RANK_MEASURES,
    indicator_table,
    outlook_table,
    ranking_table,
)
from pipelines.reports.figures.outlook import PROJECTION_TITLE, outlook_chart
from pipelines.reports.html import Chart, Section
from pipelines.reports.labels import quarter_label

TITLE = "Evaluasi triwulanan (Form E.81)"
INDICATORS = "marts.mart_agency_indicator_quarter"
RANKING = "analysis.agency_ranking"
OUTLOOK = "analysis.year_end_outlook"


def not_available(table: str) -> str:
    return f"belum tersedia: tabel {table} belum dibangun di gudang data ini."


@dataclass(frozen=True)
class EvaluationTables:
    """The section's inputs; None when the table is not in the warehouse."""

    indicators: pl.DataFrame | None
    ranking: pl.DataFrame | None
    outlook: pl.DataFrame | None

    @staticmethod
    def latest(frame: pl.DataFrame | None, quarter: str = "triwulan") -> tuple[int, int] | None:
        if frame is None or frame.is_empty():
            return None
        return frame.select("tahun", quarter).sort("tahun", quarter).row(-1)

    @property
    def indicators_now(self) -> pl.DataFrame | None:
        """The indicator mart's rows of its latest quarter."""
        when = self.latest(self.indicators)
        if when is None:
            return None
        return self.indicators.filter(
            (pl.col("tahun") == when[0]) & (pl.col("triwulan") == when[1])
        )


def read_evaluation_tables(conn: duckdb.DuckDBPyConnection) -> EvaluationTables:
    return EvaluationTables(
        indicators=optional_table(conn, INDICATORS),
        ranking=optional_table(conn, RANKING),
        outlook=optional_table(conn, OUTLOOK),
    )


def _ranking_html(ranking: pl.DataFrame | None) -> tuple[str, str]:
    """(heading text, tables) of the rankings of the latest quarter, per pemda and measure."""
    when = EvaluationTables.latest(ranking)
    if ranking is None:
        return "", f"<p class='muted'>Peringkat {not_available(RANKING)}</p>"
    if when is None:
        return "", "<p class='muted'>Peringkat: belum ada data.</p>"
    latest = ranking.filter((pl.col("tahun") == when[0]) & (pl.col("triwulan") == when[1]))
    parts = []
    for pemda in sorted(latest["pemda"].unique().drop_nulls().to_list()):
        for measure, label in RANK_MEASURES.items():
            part = latest.filter((pl.col("pemda") == pemda) & (pl.col("measure") == measure))
            parts.append(f"<h3>Peringkat {label} — {pemda}, {quarter_label(*when)}</h3>")
            parts.append(ranking_table(part, measure))
    return quarter_label(*when), "".join(parts)


def overview_section(tables: EvaluationTables) -> Section:
    """Rankings and the year-end outlook chart of all agencies."""
    notes = []
    charts = []
    if tables.indicators is None:
        notes.append(f"Form E.81 per instansi {not_available(INDICATORS)}")
    when, rankings = _ranking_html(tables.ranking)
    if tables.outlook is None:
        notes.append(f"{PROJECTION_TITLE}: proyeksi akhir tahun {not_available(OUTLOOK)}")
    elif tables.outlook.filter(pl.col("scope") == "agency").is_empty():
        notes.append(
            f"{PROJECTION_TITLE}: tidak ada proyeksi akhir tahun (tahun terakhir sudah lengkap"
            " sampai TW IV)."
        )
    else:
        charts.append(
            Chart(
                outlook_chart(tables.outlook),
                f"{PROJECTION_TITLE}: perkiraan kinerja sendiri, tidak diminta oleh peraturan"
                " mana pun. Belah ketupat = nilai akhir tahun bila laju sejauh ini berlanjut;"
                " garis = interval 95%; lingkaran kosong = nilai sampai triwulan ini; garis"
                " putus = 100%. Capaian dirata-rata atas indikator instansi; 20 JP = porsi"
                " pegawai yang diproyeksikan mencapai 20 JP. Instansi yang disembunyikan"
                " (kelompok kecil) atau tidak dapat dinilai tidak digambar.",
                key="proyeksi_akhir_tahun",
            )
        )
        hidden = tables.outlook.filter(
            (pl.col("scope") == "agency") & (pl.col("status") != "projected")
        )
        for r in hidden.sort("kode_opd", "measure").iter_rows(named=True):
            notes.append(f"{r['kode_opd']} ({r['measure']}): — {r['reason']}")
    intro = (
        "Peringkat instansi dalam satu pemda per triwulan (capaian kinerja rata-rata dan IKM;"
        " nilai lebih tinggi = lebih baik; peringkat sama bila nilai yang ditampilkan sama,"
        " yaitu capaian sampai 0,1 poin persen dan IKM sampai 2 desimal). Instansi dengan"
        " kelompok terlalu kecil tidak diperingkat dan tidak dihitung. Lalu proyeksi akhir"
        " tahun, yang merupakan perkiraan kinerja, bukan ketentuan regulasi."
    )
    title = f"{TITLE} — {when}" if when else TITLE
    return Section(title, intro, charts=charts, table=rankings, notes=[*notes, MISSING_NOTE])


def agency_section(tables: EvaluationTables, kode: str, nama: str) -> Section:
    """One agency's indicators as of the latest quarter, then its own outlook rows."""
    now = tables.indicators_now
    title = f"{TITLE} — {kode} — {nama}"
    if now is None:
        intro = f"Form E.81 {not_available(INDICATORS)}"
        return Section(title, intro, picker="opd", value=kode)
    when = quarter_label(*EvaluationTables.latest(now))
    parts = [indicator_table(now.filter(pl.col("kode_opd") == kode))]
    parts.append(f"<h3>{PROJECTION_TITLE}: proyeksi akhir tahun</h3>")
    if tables.outlook is None:
        parts.append(f"<p class='muted'>Proyeksi {not_available(OUTLOOK)}</p>")
    else:
        parts.append(outlook_table(tables.outlook.filter(pl.col("kode_opd") == kode)))
    intro = (
        f"Indikator instansi per {when}: target tahunan, realisasi TW I–IV sampai triwulan ini,"
        " realisasi sampai triwulan ini, capaian terhadap target tahunan dan terhadap target"
        " sampai triwulan ini (dengan predikatnya), triwulan yang sama tahun lalu, dan"
        " perubahannya. Indikator jumlah dijumlahkan atas pegawai, indikator terakhir"
        " dirata-rata."
    )
    return Section(
        title, intro, table="".join(parts), notes=[MISSING_NOTE], picker="opd", value=kode
    )


def evaluation_sections(tables: EvaluationTables, names: dict[str, str]) -> list[Section]:
    """The overview section, then one section per agency (kode_opd -> nama_opd)."""
    return [overview_section(tables)] + [
        agency_section(tables, kode, names[kode]) for kode in sorted(names)
    ]
