"""IKM charts on their grade bands. The bands come from dbt_project/seeds/ikm_grades.csv (via
pipelines.rules.skm), the seed the marts grade `ikm_grade` with, so the shading behind a line
always agrees with the grade letter in the tables; only the colours live in styles.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl

from pipelines.reports.figures.periods import quarter_axis, with_period
from pipelines.reports.labels import fmt_number
from pipelines.reports.styles import (
    IKM_GRADE_COLOUR_NAMES,
    IKM_GRADE_FILLS,
    LINE_PALETTE,
    NEUTRAL,
    apply_layout,
)
from pipelines.rules.skm import seed_grades

Cell = int | str | None  # a subplot row or column: a number, "all", or None for no subplots


def index_top() -> float:
    """The highest index the grades cover (100): the top of every IKM axis."""
    return max(g.max_index for g in seed_grades())


def axis_floor(values: list[float | None]) -> float:
    """Where an IKM axis starts: a multiple of 5 at least 3 points under the lowest value,
    never under the lowest grade's floor (25), and never above the second-lowest grade's
    lower bound (65), so every chart shows the grades from 'Kurang Baik' up."""
    grades = seed_grades()
    bottom, cap = grades[-1].min_index, grades[-2].min_index
    present = [v for v in values if v is not None]
    lowest = min(present) if present else cap
    return max(bottom, min(cap, math.floor((lowest - 3) / 5) * 5))


def shade_grades(
    fig: go.Figure, floor: float, *, row: Cell = None, col: Cell = None, annotate: bool = False
) -> None:
    """Shade each grade's band above `floor` behind the lines, so a reader sees the grade at
    a glance; `annotate` writes the grade's letter and name at the right edge."""
    for grade in seed_grades():
        if grade.max_index < floor:
            continue
        low = max(grade.min_index, floor)
        fig.add_hrect(
            y0=low,
            y1=grade.max_index,
            fillcolor=IKM_GRADE_FILLS[grade.grade],
            line_width=0,
            layer="below",
            row=row,
            col=col,
        )
        if annotate:
            fig.add_annotation(
                x=1.0,
                xref="paper",
                xanchor="right",
                y=(low + grade.max_index) / 2,
                text=f"{grade.grade} {grade.label}",
                showarrow=False,
                font={"size": 10, "color": NEUTRAL},
            )


def grade_shading_text() -> str:
    """The bands in words for a caption: 'hijau tua A Sangat Baik (≥ 88,31), …, merah D Tidak
    Baik' (the lowest grade is whatever lies under the others, so it has no interval)."""
    grades = seed_grades()
    parts = []
    for i, grade in enumerate(grades):
        if i == 0:
            interval = f" (≥ {fmt_number(grade.min_index, 2)})"
        elif i < len(grades) - 1:
            interval = f" ({fmt_number(grade.min_index, 2)}–{fmt_number(grade.max_index, 2)})"
        else:
            interval = ""
        parts.append(f"{IKM_GRADE_COLOUR_NAMES[grade.grade]} {grade.grade} {grade.label}{interval}")
    return ", ".join(parts)


def unit_ikm_lines(units: pl.DataFrame, kode_opd: str) -> go.Figure:
    """IKM per service unit of one agency, over quarters, on the grade bands."""
    frame = with_period(units.filter(pl.col("kode_opd") == kode_opd)).sort(
        "unit_layanan", "tahun", "triwulan"
    )
    fig = go.Figure()
    for i, unit in enumerate(frame["unit_layanan"].unique(maintain_order=True).to_list()):
        part = frame.filter(pl.col("unit_layanan") == unit)
        fig.add_trace(
            go.Scatter(
                x=part["periode_label"].to_list(),
                y=part["ikm"].to_list(),
                mode="lines+markers",
                name=unit,
                line={"color": LINE_PALETTE[i % len(LINE_PALETTE)], "width": 2},
                customdata=part["n_responden"].to_list(),
                hovertemplate=f"{unit}<br>%{{x}}: IKM %{{y:.2f}}"
                "<br>n = %{customdata} responden<extra></extra>",
            )
        )
    floor = axis_floor(frame["ikm"].to_list())
    shade_grades(fig, floor, annotate=True)
    fig.update_yaxes(range=[floor, index_top()], title="IKM")
    fig.update_xaxes(title="Triwulan", categoryorder="array", categoryarray=quarter_axis(frame))
    return apply_layout(fig, f"IKM per unit layanan — {kode_opd}", height=420)
