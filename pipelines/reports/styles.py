"""The look every report chart shares: colours, fonts, the plotly template, layout defaults.

Kept in one place so the two reports (and their PNG copies) read as one family: the same
green always means "good", the same red "bad", and a predikat has the same colour in every
chart. `separators=",."` makes plotly print decimal commas, as readers in Indonesia expect.
"""

from __future__ import annotations

import plotly.graph_objects as go

TEMPLATE = "plotly_white"
SEPARATORS = ",."
FONT = {"family": "Segoe UI, Roboto, Helvetica, Arial, sans-serif", "size": 12}
# Room above the plot for the title and the horizontal legend under it.
MARGIN = {"l": 60, "r": 20, "t": 95, "b": 50}
TITLE = {"x": 0.01, "xanchor": "left", "y": 0.995, "yanchor": "top", "yref": "container"}
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0.0, "traceorder": "normal"}

GOOD = "#1a7f37"
BAD = "#b3261e"
NEUTRAL = "#5b6770"
ACCENT = "#2f5d9b"
ERROR_BAR = "#9aa4ab"
RULE_BOUND = "#222"
# Categorical series (units, groups) in this order; lines use the first six.
GROUP_PALETTE = ("#2f5d9b", "#c05a1f", "#6a3d9a", "#1b9e77", "#e7298a", "#666666", "#a6761d")
LINE_PALETTE = GROUP_PALETTE[:6]
IKM_BAR = "#6a3d9a"
COVERAGE_BAR = "#1b9e77"
# Curve compliance heatmap: broken (0) to compliant (1).
COMPLIANCE_SCALE = [[0, "#f4b4ae"], [1, "#bfe3c3"]]

PREDIKAT_COLORS = {
    "Sangat Baik": "#1a7f37",
    "Baik": "#7cc47f",
    "Butuh Perbaikan": "#f2c14e",
    "Kurang/Misconduct": "#e8743b",
    "Sangat Kurang": "#b3261e",
}
# Shading behind IKM charts per grade letter of dbt_project/seeds/ikm_grades.csv (the seed
# holds the intervals; a new grade there needs a colour here), and the colour's name for
# captions that explain the shading.
IKM_GRADE_FILLS = {
    "A": "rgba(26,127,55,0.10)",
    "B": "rgba(124,196,127,0.14)",
    "C": "rgba(242,193,78,0.16)",
    "D": "rgba(179,38,30,0.10)",
}
IKM_GRADE_COLOUR_NAMES = {"A": "hijau tua", "B": "hijau muda", "C": "kuning", "D": "merah"}


def apply_layout(fig: go.Figure, title: str, height: int, **extra: object) -> go.Figure:
    """The shared layout: title top left, horizontal legend above the plot, white template."""
    fig.update_layout(
        title={"text": title, **TITLE},
        template=TEMPLATE,
        separators=SEPARATORS,
        height=height,
        margin=dict(MARGIN),
        font=dict(FONT),
        legend=dict(LEGEND),
        **extra,
    )
    return fig
