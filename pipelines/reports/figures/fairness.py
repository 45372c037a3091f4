"""The evaluators' charts besides the forest plots: predikat distributions per group, each
rater's leniency or severity, and each agency-year's compliance with the distribution curve.
Suppressed groups and raters (n under the minimum) are left out of every chart."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pipelines.reports.labels import PREDIKAT_ORDER, dimension_label, short_key
from pipelines.reports.styles import (
    BAD,
    COMPLIANCE_SCALE,
    ERROR_BAR,
    GOOD,
    NEUTRAL,
    PREDIKAT_COLORS,
    RULE_BOUND,
    apply_layout,
)


def _spans(upper: list[float | None], lower: list[float | None]) -> list[float | None]:
    """Error-bar lengths upper - lower; missing where either end is missing."""
    return [None if u is None or lo is None else u - lo for u, lo in zip(upper, lower, strict=True)]


def rating_distribution(dist: pl.DataFrame, dimension: str, tahun: int) -> go.Figure:
    """Predikat shares within each group of one dimension (suppressed groups left out)."""
    frame = dist.filter(
        (pl.col("dimension") == dimension) & (pl.col("tahun") == tahun) & ~pl.col("suppressed")
    )
    groups = frame["group_value"].unique().sort().to_list()
    fig = go.Figure()
    for predikat in PREDIKAT_ORDER:
        part = frame.filter(pl.col("predikat") == predikat)
        share = dict(zip(part["group_value"].to_list(), part["share"].to_list(), strict=True))
        fig.add_trace(
            go.Bar(
                y=groups,
                x=[100 * (share.get(g) or 0.0) for g in groups],
                name=predikat,
                orientation="h",
                marker_color=PREDIKAT_COLORS[predikat],
                hovertemplate=f"%{{y}} {predikat}: %{{x:.1f}}%<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title="Porsi pegawai")
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=groups[::-1])
    return apply_layout(
        fig,
        f"Sebaran predikat menurut {dimension_label(dimension).lower()} — {tahun}",
        height=max(280, 30 * len(groups) + 160),
    )


def rater_effects(raters: pl.DataFrame, kode_opd: str, tahun: int) -> go.Figure:
    """Caterpillar plot of rater effects: the observed effect with its 95% interval (what the
    significance test judges) and, hollow, the empirical-Bayes shrunk estimate (a ranking aid
    that pulls raters with few ratees toward the agency mean)."""
    frame = (
        raters.filter(
            (pl.col("kode_opd") == kode_opd) & (pl.col("tahun") == tahun) & ~pl.col("suppressed")
        )
        .filter(pl.col("raw_effect").is_not_null())
        .sort("raw_effect")
        .with_columns(
            pl.col("penilai_key").map_elements(short_key, return_dtype=pl.String).alias("rater"),
        )
    )
    colour = {"lenient": GOOD, "severe": BAD}
    labels = frame["label"].to_list()
    fig = go.Figure(
        [
            go.Scatter(
                x=frame["raw_effect"].to_list(),
                y=frame["rater"].to_list(),
                mode="markers",
                name="Efek teramati [selang 95%]",
                marker={
                    "color": [colour.get(lbl, NEUTRAL) for lbl in labels],
                    "size": [11 if lbl in colour else 7 for lbl in labels],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": _spans(frame["ci_high"].to_list(), frame["raw_effect"].to_list()),
                    "arrayminus": _spans(frame["raw_effect"].to_list(), frame["ci_low"].to_list()),
                    "color": ERROR_BAR,
                },
                customdata=frame.select("n_ratees", "shrunk_effect", "label").rows(),
                hovertemplate="%{y}: efek %{x:.2f} (EB %{customdata[1]:.2f}),"
                " %{customdata[0]} pegawai dinilai, %{customdata[2]}<extra></extra>",
            ),
            go.Scatter(
                x=frame["shrunk_effect"].to_list(),
                y=frame["rater"].to_list(),
                mode="markers",
                name="Efek EB (disusutkan)",
                marker={"symbol": "diamond-open", "color": NEUTRAL, "size": 8},
                hovertemplate="%{y}: efek EB %{x:.2f}<extra></extra>",
            ),
        ]
    )
    fig.add_vline(x=0, line_dash="dash", line_color=NEUTRAL)
    fig.update_xaxes(title="Efek penilai (poin predikat vs rata-rata OPD)")
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=frame["rater"].to_list())
    return apply_layout(
        fig,
        f"Kemurahan/kekerasan penilai — {kode_opd}, {tahun}",
        height=max(300, 24 * frame.height + 150),
    )


def curve_compliance_heatmap(year: pl.DataFrame) -> go.Figure:
    """Agency × year grid: green when the predikat distribution obeys the curve, red when not."""
    frame = year.filter(pl.col("curve_compliant").is_not_null()).sort("kode_opd", "tahun")
    agencies = frame["kode_opd"].unique().sort().to_list()
    years = frame["tahun"].unique().sort().to_list()
    lookup = {
        (k, t): (c, p)
        for k, t, c, p in frame.select(
            "kode_opd", "tahun", "curve_compliant", "predikat_organisasi"
        ).iter_rows()
    }
    z = [
        [None if (k, t) not in lookup else int(lookup[(k, t)][0]) for t in years] for k in agencies
    ]
    text = [
        [
            ""
            if (k, t) not in lookup
            else f"{lookup[(k, t)][1]}<br>{'patuh' if lookup[(k, t)][0] else 'MELANGGAR'}"
            for t in years
        ]
        for k in agencies
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(t) for t in years],
            y=agencies,
            text=text,
            texttemplate="%{text}",
            colorscale=COMPLIANCE_SCALE,
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=3,
            ygap=3,
            hovertemplate="%{y} %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title="Instansi (OPD)")
    fig.update_xaxes(title="Tahun", type="category")
    return apply_layout(
        fig,
        "Kepatuhan kurva distribusi predikat (predikat organisasi → sebaran predikat pegawai)",
        height=max(320, 36 * len(agencies) + 140),
    )


def curve_rule_bars(curve: pl.DataFrame) -> go.Figure:
    """Observed share against the bound for every rule an agency-year broke."""
    frame = curve.filter(~pl.col("passed")).sort("kode_opd", "tahun", "rule_id")
    labels = [
        f"{k} {t} · {r}" for k, t, r in frame.select("kode_opd", "tahun", "rule_id").iter_rows()
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[100 * v for v in frame["observed_share"].to_list()],
            orientation="h",
            name="Porsi teramati",
            marker_color=BAD,
            hovertemplate="%{y}: %{x:.1f}%<extra>teramati</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=[100 * v for v in frame["bound"].to_list()],
            mode="markers",
            name="Batas aturan",
            marker={
                "symbol": "line-ns-open",
                "size": 26,
                "color": RULE_BOUND,
                "line": {"width": 3},
            },
            hovertemplate="%{y}: batas %{x:.0f}%<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title="Porsi pegawai")
    fig.update_yaxes(automargin=True)
    return apply_layout(
        fig,
        "Aturan kurva yang dilanggar: porsi teramati vs batas",
        height=max(260, 50 * len(labels) + 150),
    )
