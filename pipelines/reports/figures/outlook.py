"""The year-end outlook chart: per agency the projected capaian and 20-JP coverage at year
end with their 95% interval as whiskers, the value to date beside it and the 100% target.
It is kinerja's projection, not a regulation's figure: the title says so."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pipelines.reports.labels import quarter_label
from pipelines.reports.styles import ACCENT, ERROR_BAR, NEUTRAL, RULE_BOUND, apply_layout

PROJECTION_TITLE = "Proyeksi kinerja, bukan ketentuan regulasi"
PANELS = (
    ("capaian_annual", "Capaian thd target tahunan (%)"),
    ("share_20jp", "Cakupan 20 JP (% pegawai)"),
)


def _percent(values: list[float | None]) -> list[float | None]:
    return [None if v is None else 100 * v for v in values]


def outlook_chart(outlook: pl.DataFrame) -> go.Figure:
    """Agency rows of analysis.year_end_outlook that are projected, one panel per measure."""
    rows = outlook.filter((pl.col("scope") == "agency") & (pl.col("status") == "projected"))
    agencies = sorted(rows["kode_opd"].unique().to_list(), reverse=True)
    fig = make_subplots(
        rows=1,
        cols=len(PANELS),
        shared_yaxes=True,
        subplot_titles=[title for _, title in PANELS],
        horizontal_spacing=0.06,
    )
    for col, (measure, _) in enumerate(PANELS, start=1):
        part = rows.filter(pl.col("measure") == measure).sort("kode_opd")
        projected = _percent(part["projected"].to_list())
        low = _percent(part["projected_low"].to_list())
        high = _percent(part["projected_high"].to_list())
        plus = [
            None if h is None or p is None else h - p for p, h in zip(projected, high, strict=True)
        ]
        minus = [
            None if v is None or p is None else p - v for p, v in zip(projected, low, strict=True)
        ]
        names = part["kode_opd"].to_list()
        fig.add_trace(
            go.Scatter(
                x=projected,
                y=names,
                mode="markers",
                name="Proyeksi akhir tahun (interval 95%)",
                marker={"color": ACCENT, "size": 10, "symbol": "diamond"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": plus,
                    "arrayminus": minus,
                    "color": ERROR_BAR,
                    "thickness": 1.5,
                },
                legendgroup="projected",
                showlegend=col == 1,
                hovertemplate="%{y}: proyeksi %{x:.1f}%<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=_percent(part["value_to_date"].to_list()),
                y=names,
                mode="markers",
                name="Sampai triwulan ini",
                marker={"color": NEUTRAL, "size": 7, "symbol": "circle-open"},
                legendgroup="to_date",
                showlegend=col == 1,
                hovertemplate="%{y}: sampai kini %{x:.1f}%<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_vline(x=100, line_dash="dash", line_color=RULE_BOUND, row=1, col=col)
        fig.update_xaxes(title_text="%", row=1, col=col)
    fig.update_yaxes(categoryorder="array", categoryarray=agencies, title_text="Instansi (OPD)")
    when = ""
    if rows.height:
        tahun, q = rows.select("tahun", "as_of_triwulan").row(0)
        when = f" — akhir tahun {tahun}, per {quarter_label(tahun, q)}"
    height = max(320, 120 + 26 * len(agencies))
    return apply_layout(fig, f"{PROJECTION_TITLE}{when}", height=height)
