"""Forest plots: one row per comparison, a point for the estimate and a bar for its confidence
interval, against a reference line. The fairness report draws every group gap this way.

What a plot reads is split in two small frozen descriptions instead of a dozen arguments:
`ForestColumns` says which columns of the frame hold a row (the data side), `ForestAxis`
what the reader sees (titles, the reference line, how colour encodes significance).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from pipelines.reports.styles import (
    BAD,
    ERROR_BAR,
    GOOD,
    GROUP_PALETTE,
    NEUTRAL,
    apply_layout,
)


@dataclass(frozen=True)
class ForestColumns:
    """The frame's columns behind each row of a forest plot."""

    label: str  # the row's name on the y axis
    estimate: str  # the point
    low: str  # lower end of the interval
    high: str  # upper end of the interval
    significant: str | None = "significant"  # True: drawn as a bigger diamond
    group_by: str | None = None  # one coloured trace, with a legend entry, per value


@dataclass(frozen=True)
class ForestAxis:
    """What the reader sees: titles, the dashed reference line and the colour rule."""

    title: str
    x_title: str
    reference: float | None = None  # where "no difference" lies; None draws no line
    # Significant rows green above the reference and red below, the rest grey (instead of
    # one colour per group): for gaps where the sign says who is disadvantaged.
    colour_by_sign: bool = False

    def __post_init__(self) -> None:
        if self.colour_by_sign and self.reference is None:
            raise ValueError("colour_by_sign needs a reference to take the sign against")


def _row_colours(
    estimates: list[float], significant: list[bool], axis: ForestAxis, group_colour: str
) -> list[str]:
    """Marker colours: the group's colour, or by side of the reference (colour_by_sign)."""
    if not axis.colour_by_sign:
        return [group_colour] * len(estimates)
    return [
        (GOOD if e > axis.reference else BAD) if s else NEUTRAL
        for e, s in zip(estimates, significant, strict=True)
    ]


def _trace(
    part: pl.DataFrame, columns: ForestColumns, axis: ForestAxis, group: object, colour: str
) -> go.Scatter:
    """The rows of one group: points with asymmetric error bars out to the interval."""
    sig = (
        part[columns.significant].fill_null(False).to_list()
        if columns.significant
        else [False] * part.height
    )
    est = part[columns.estimate].to_list()
    return go.Scatter(
        x=est,
        y=part[columns.label].to_list(),
        mode="markers",
        name=str(group) if group is not None else axis.x_title,
        showlegend=group is not None,
        marker={
            "color": _row_colours(est, sig, axis, colour),
            "size": [11 if s else 7 for s in sig],
            "symbol": ["diamond" if s else "circle" for s in sig],
        },
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [
                None if h is None else h - e
                for h, e in zip(part[columns.high].to_list(), est, strict=True)
            ],
            "arrayminus": [
                None if lo is None else e - lo
                for lo, e in zip(part[columns.low].to_list(), est, strict=True)
            ],
            "color": ERROR_BAR,
            "thickness": 1.5,
        },
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )


def forest(frame: pl.DataFrame, columns: ForestColumns, axis: ForestAxis) -> go.Figure:
    """Forest plot of the frame's rows with an estimate, in frame order, top to bottom."""
    rows = frame.filter(pl.col(columns.estimate).is_not_null())
    fig = go.Figure()
    group_by = columns.group_by
    groups = rows[group_by].unique(maintain_order=True).to_list() if group_by else [None]
    for i, group in enumerate(groups):
        part = rows if group is None else rows.filter(pl.col(group_by) == group)
        colour = GROUP_PALETTE[i % len(GROUP_PALETTE)]
        fig.add_trace(_trace(part, columns, axis, group, colour))
    if axis.reference is not None:
        fig.add_vline(x=axis.reference, line_dash="dash", line_color=NEUTRAL)
    fig.update_xaxes(title=axis.x_title, type="linear")
    fig.update_yaxes(
        automargin=True,
        autorange="reversed",
        categoryorder="array",
        categoryarray=rows[columns.label].to_list(),
    )
    return apply_layout(fig, axis.title, height=max(320, 22 * rows.height + 160))
