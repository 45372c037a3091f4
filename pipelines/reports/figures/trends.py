"""The planners' charts: each agency's measures quarter by quarter (small multiples with shared
axes, so agencies compare at a glance), one agency in detail, all agencies in one quarter, and
the slopes of the significant trends."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pipelines.reports.figures.ikm import axis_floor, index_top, shade_grades
from pipelines.reports.figures.periods import grid, quarter_axis, with_period
from pipelines.reports.labels import (
    PREDIKAT_ORDER,
    PREDIKAT_SHARE_COLUMNS,
    fmt_number,
    measure_label,
    quarter_label,
)
from pipelines.reports.styles import (
    ACCENT,
    BAD,
    COVERAGE_BAR,
    GOOD,
    IKM_BAR,
    NEUTRAL,
    PREDIKAT_COLORS,
    apply_layout,
)


def _agencies(frame: pl.DataFrame) -> list[str]:
    return frame.select("kode_opd").unique().sort("kode_opd")["kode_opd"].to_list()


def _scaled(values: list[float | None], scale: float) -> list[float | None]:
    return [None if v is None else v * scale for v in values]


def agency_measure_small_multiples(
    quarter: pl.DataFrame,
    measure: str,
    *,
    percent: bool = False,
    cols: int = 4,
    title: str | None = None,
) -> go.Figure:
    """One small panel per agency: the measure over quarters, shared axes for comparison."""
    frame = with_period(quarter.filter(pl.col(measure).is_not_null()))
    agencies = _agencies(frame)
    rows, ncols = grid(len(agencies), cols)
    fig = _agency_panels(agencies, rows, ncols, 0.12 / max(rows - 1, 1) * 2 if rows > 1 else 0.1)
    suffix = "%" if percent else ""
    for i, kode in enumerate(agencies):
        part = frame.filter(pl.col("kode_opd") == kode)
        fig.add_trace(
            go.Scatter(
                x=part["periode_label"].to_list(),
                y=_scaled(part[measure].to_list(), 100.0 if percent else 1.0),
                mode="lines+markers",
                name=kode,
                line={"color": ACCENT, "width": 2},
                marker={"size": 5},
                showlegend=False,
                hovertemplate=f"{kode}<br>%{{x}}: %{{y:.1f}}{suffix}<extra></extra>",
            ),
            row=i // ncols + 1,
            col=i % ncols + 1,
        )
    if measure == "ikm":
        many = rows * ncols > 1
        shade_grades(
            fig,
            axis_floor(frame[measure].to_list()),
            row="all" if many else None,
            col="all" if many else None,
        )
    fig.update_xaxes(
        categoryorder="array", categoryarray=quarter_axis(frame), tickangle=-45, tickfont_size=9
    )
    fig.update_yaxes(ticksuffix=suffix)
    return apply_layout(fig, title or measure_label(measure), height=230 * rows + 120)


def predikat_share_small_multiples(quarter: pl.DataFrame, cols: int = 4) -> go.Figure:
    """Stacked predikat shares per quarter, one panel per agency."""
    frame = with_period(quarter.filter(pl.col("n_assessed") > 0))
    agencies = _agencies(frame)
    rows, ncols = grid(len(agencies), cols)
    fig = _agency_panels(agencies, rows, ncols, 0.24 / max(rows, 1))
    for i, kode in enumerate(agencies):
        part = frame.filter(pl.col("kode_opd") == kode)
        for predikat in PREDIKAT_ORDER:
            column = PREDIKAT_SHARE_COLUMNS[predikat]
            fig.add_trace(
                go.Bar(
                    x=part["periode_label"].to_list(),
                    y=[100 * v for v in part[column].fill_null(0).to_list()],
                    name=predikat,
                    legendgroup=predikat,
                    showlegend=i == 0,
                    marker_color=PREDIKAT_COLORS[predikat],
                    hovertemplate=f"{kode} %{{x}}<br>{predikat}: %{{y:.1f}}%<extra></extra>",
                ),
                row=i // ncols + 1,
                col=i % ncols + 1,
            )
    fig.update_layout(barmode="stack", bargap=0.1)
    fig.update_xaxes(
        categoryorder="array", categoryarray=quarter_axis(frame), tickangle=-45, tickfont_size=9
    )
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return apply_layout(
        fig, "Sebaran predikat kinerja pegawai per triwulan", height=230 * rows + 140
    )


DETAIL_PANELS = [
    "Capaian kinerja rata-rata (%)",
    "IKM (indeks 25–100)",
    "Cakupan 20 JP (kumulatif tahun berjalan)",
    "Selisih nilai mandiri − atasan (poin)",
    "Sebaran predikat (%)",
    "Jumlah responden SKM",
]


def _detail_line(
    fig: go.Figure,
    x: list[str],
    values: list[float | None],
    cell: tuple[int, int],
    name: str,
    suffix: str = "",
) -> None:
    """One measure's line in one (row, col) panel of the agency detail."""
    fig.add_trace(
        go.Scatter(
            x=x,
            y=values,
            mode="lines+markers",
            name=name,
            showlegend=False,
            line={"color": ACCENT, "width": 2},
            hovertemplate=f"%{{x}}: %{{y:.2f}}{suffix}<extra>{name}</extra>",
        ),
        row=cell[0],
        col=cell[1],
    )


def agency_detail(quarter: pl.DataFrame, kode_opd: str, nama_opd: str) -> go.Figure:
    """One agency's key measures side by side: achievement, IKM, 20 JP, self gap, predikat."""
    frame = with_period(quarter.filter(pl.col("kode_opd") == kode_opd))
    x = frame["periode_label"].to_list()
    fig = make_subplots(
        rows=2,
        cols=3,
        subplot_titles=DETAIL_PANELS,
        vertical_spacing=0.2,
        horizontal_spacing=0.07,
    )
    achievement = _scaled(frame["mean_achievement"].to_list(), 100)
    _detail_line(fig, x, achievement, (1, 1), "Capaian", "%")
    ikm = frame["ikm"].to_list()
    _detail_line(fig, x, ikm, (1, 2), "IKM")
    floor = axis_floor(ikm)
    shade_grades(fig, floor, row=1, col=2)
    fig.update_yaxes(range=[floor, index_top()], row=1, col=2)
    coverage = _scaled(frame["share_20jp"].to_list(), 100)
    _detail_line(fig, x, coverage, (1, 3), "Cakupan 20 JP", "%")
    fig.update_yaxes(range=[0, 100], ticksuffix="%", row=1, col=3)
    _detail_line(fig, x, frame["mean_self_supervisor_gap"].to_list(), (2, 1), "Selisih")
    fig.add_hline(y=0, line_dash="dot", line_color=NEUTRAL, row=2, col=1)
    for predikat in PREDIKAT_ORDER:
        fig.add_trace(
            go.Bar(
                x=x,
                y=[100 * v for v in frame[PREDIKAT_SHARE_COLUMNS[predikat]].fill_null(0).to_list()],
                name=predikat,
                marker_color=PREDIKAT_COLORS[predikat],
                hovertemplate=f"%{{x}} {predikat}: %{{y:.1f}}%<extra></extra>",
            ),
            row=2,
            col=2,
        )
    fig.update_yaxes(range=[0, 100], ticksuffix="%", row=2, col=2)
    fig.add_trace(
        go.Bar(
            x=x,
            y=frame["n_responden"].fill_null(0).to_list(),
            name="Responden",
            showlegend=False,
            marker_color=NEUTRAL,
            hovertemplate="%{x}: %{y} responden<extra></extra>",
        ),
        row=2,
        col=3,
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickangle=-45, tickfont_size=9)
    fig.update_yaxes(ticksuffix="%", row=1, col=1)
    apply_layout(fig, f"{kode_opd} — {nama_opd}", height=700)
    # The predikat legend goes under the grid, clear of the panel titles.
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0.0},
        margin={"b": 120},
    )
    return fig


# The quarter snapshot's panels: column, scale to display units, bar colour.
SNAPSHOT_PANELS = [
    ("mean_achievement", 100.0, ACCENT),
    ("ikm", 1.0, IKM_BAR),
    ("share_20jp", 100.0, COVERAGE_BAR),
]


def quarter_snapshot(quarter: pl.DataFrame, tahun: int, triwulan: int) -> go.Figure:
    """All agencies in one quarter: achievement, IKM and 20-JP coverage as ranked bars."""
    frame = quarter.filter((pl.col("tahun") == tahun) & (pl.col("triwulan") == triwulan)).sort(
        "kode_opd", descending=True
    )
    y = frame["kode_opd"].to_list()
    fig = make_subplots(
        rows=1,
        cols=3,
        shared_yaxes=True,
        subplot_titles=["Capaian kinerja rata-rata (%)", "IKM", "Cakupan 20 JP (%)"],
        horizontal_spacing=0.04,
    )
    for col, (column, scale, colour) in enumerate(SNAPSHOT_PANELS, start=1):
        values = _scaled(frame[column].to_list(), scale)
        fig.add_trace(
            go.Bar(
                x=values,
                y=y,
                orientation="h",
                marker_color=colour,
                showlegend=False,
                name=measure_label(column),
                text=[fmt_number(v) for v in values],
                textposition="auto",
                hovertemplate="%{y}: %{x:.1f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    ikm = [v for v in frame["ikm"].to_list() if v is not None]
    if ikm:
        fig.update_xaxes(range=[axis_floor(ikm), index_top()], row=1, col=2)
    fig.update_xaxes(range=[0, 100], row=1, col=3)
    achievement = [v for v in frame["mean_achievement"].to_list() if v is not None]
    if achievement:
        fig.update_xaxes(
            range=[math.floor(min(achievement) * 100 - 5), math.ceil(max(achievement) * 100 + 2)],
            row=1,
            col=1,
        )
    return apply_layout(
        fig,
        f"Perbandingan instansi — {quarter_label(tahun, triwulan)}",
        height=max(320, 34 * len(y) + 140),
    )


def trend_slopes(tests: pl.DataFrame) -> go.Figure:
    """Sen's slope of each significant trend, coloured by whether it is good or bad news."""
    frame = tests.sort("sen_slope")
    labels = [
        f"{measure_label(m)} · {k}" + (f" · {u}" if u else "")
        for m, k, u in frame.select("measure", "kode_opd", "unit_layanan").iter_rows()
    ]
    colours = [
        GOOD if a == "improving" else BAD if a == "declining" else NEUTRAL
        for a in frame["assessment"].to_list()
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["sen_slope"].to_list(),
            y=labels,
            orientation="h",
            marker_color=colours,
            customdata=frame.select("p_adjusted", "n_periods").rows(),
            hovertemplate="%{y}<br>Sen's slope %{x:.3f} per periode"
            "<br>p (BH) %{customdata[0]:.4f}, %{customdata[1]} periode<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=0, line_color=NEUTRAL)
    fig.update_xaxes(title="Sen's slope (perubahan per periode, satuan ukuran)")
    fig.update_yaxes(automargin=True)
    return apply_layout(
        fig,
        "Tren signifikan (uji Mann-Kendall, p terkoreksi BH < 0,05)",
        height=max(300, 28 * len(labels) + 150),
    )


def _agency_panels(agencies: list[str], rows: int, cols: int, vertical_spacing: float) -> go.Figure:
    """A grid of small panels, one per agency, sharing both axes so panels compare."""
    return make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=agencies,
        shared_xaxes=True,
        shared_yaxes="all",
        vertical_spacing=vertical_spacing,
        horizontal_spacing=0.03,
    )
