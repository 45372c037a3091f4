"""Plotly figure builders for the reports and notebooks: one function per chart.

Every builder takes tidy polars frames (marts or analysis tables) and returns a figure with
Indonesian titles and axis labels. Values go into traces as plain Python lists (not numpy
arrays) so the page's embedded JSON stays readable numbers, and `separators=",."` makes
plotly print decimal commas as readers in Indonesia expect.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

PREDIKAT_ORDER = ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"]
PREDIKAT_SHARE_COLUMNS = {
    "Sangat Baik": "share_sangat_baik",
    "Baik": "share_baik",
    "Butuh Perbaikan": "share_butuh_perbaikan",
    "Kurang/Misconduct": "share_kurang_misconduct",
    "Sangat Kurang": "share_sangat_kurang",
}
PREDIKAT_COLORS = {
    "Sangat Baik": "#1a7f37",
    "Baik": "#7cc47f",
    "Butuh Perbaikan": "#f2c14e",
    "Kurang/Misconduct": "#e8743b",
    "Sangat Kurang": "#b3261e",
}
# IKM quality grades (PermenPANRB 14/2017), converted index 25..100.
IKM_GRADES = [
    ("A", "Sangat Baik", 88.31, 100.0, "rgba(26,127,55,0.10)"),
    ("B", "Baik", 76.61, 88.30, "rgba(124,196,127,0.14)"),
    ("C", "Kurang Baik", 65.00, 76.60, "rgba(242,193,78,0.16)"),
    ("D", "Tidak Baik", 25.00, 64.99, "rgba(179,38,30,0.10)"),
]
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
DIMENSION_LABELS = {
    "gender": "Jenis kelamin",
    "age_band": "Kelompok usia",
    "golongan": "Golongan",
    "jenis_jabatan": "Jenis jabatan",
    "kode_opd": "Instansi (OPD)",
    "gender x golongan": "Jenis kelamin × golongan",
    "gender x jenis_jabatan": "Jenis kelamin × jenis jabatan",
}
OUTCOME_LABELS = {
    "top_band": "Predikat Sangat Baik",
    "bottom_band": "Predikat di bawah Baik",
}
MEASURE_LABELS = {
    "mean_achievement": "Capaian kinerja rata-rata",
    "ikm": "Indeks Kepuasan Masyarakat (IKM)",
    "share_20jp": "Cakupan 20 JP",
    "mean_self_supervisor_gap": "Selisih nilai mandiri − atasan",
    "share_sangat_baik": "Porsi predikat Sangat Baik",
    "share_baik": "Porsi predikat Baik",
    "share_butuh_perbaikan": "Porsi predikat Butuh Perbaikan",
    "share_kurang_misconduct": "Porsi predikat Kurang/Misconduct",
    "share_sangat_kurang": "Porsi predikat Sangat Kurang",
    "jp_per_employee": "JP per pegawai",
    "n_assessed": "Jumlah pegawai dinilai",
    "n_responden": "Jumlah responden SKM",
}
GOOD = "#1a7f37"
BAD = "#b3261e"
NEUTRAL = "#5b6770"
ACCENT = "#2f5d9b"
SUPPRESSED_LABEL = "disembunyikan (n < {n})"


def quarter_label(tahun: int, triwulan: int) -> str:
    """'2024 TW II': sorts by year and reads the way the official form names quarters."""
    return f"{tahun} TW {ROMAN[int(triwulan)]}"


def measure_label(measure: str) -> str:
    return MEASURE_LABELS.get(measure, measure.replace("_", " "))


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension)


def fmt_number(value: float | None, digits: int = 1) -> str:
    """A number the Indonesian way (decimal comma, dot for thousands); '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{fmt_number(100 * value, digits)}%"


def short_key(key: str) -> str:
    """Raters appear by the first 8 characters of their pseudonymous key, never by NIP."""
    return f"penilai {key[:8]}"


def _spans(upper: list[float | None], lower: list[float | None]) -> list[float | None]:
    """Error-bar lengths upper - lower; missing where either end is missing."""
    return [None if u is None or lo is None else u - lo for u, lo in zip(upper, lower, strict=True)]


def _layout(fig: go.Figure, title: str, height: int, **extra: object) -> go.Figure:
    fig.update_layout(
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 0.995,
            "yanchor": "top",
            "yref": "container",
        },
        template="plotly_white",
        separators=",.",
        height=height,
        margin={"l": 60, "r": 20, "t": 95, "b": 50},
        font={"family": "Segoe UI, Roboto, Helvetica, Arial, sans-serif", "size": 12},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.01,
            "x": 0.0,
            "traceorder": "normal",
        },
        **extra,
    )
    return fig


def _quarter_axis(frame: pl.DataFrame) -> list[str]:
    periods = frame.select("tahun", "triwulan").unique().sort("tahun", "triwulan")
    return [quarter_label(t, q) for t, q in periods.iter_rows()]


def _with_period(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("tahun", "triwulan").with_columns(
        pl.struct("tahun", "triwulan")
        .map_elements(lambda r: quarter_label(r["tahun"], r["triwulan"]), return_dtype=pl.String)
        .alias("periode_label")
    )


def _grid(n: int, cols: int) -> tuple[int, int]:
    return max(1, math.ceil(n / cols)), min(cols, max(n, 1))


def _ikm_bands(fig: go.Figure, rows: int, cols: int, y_min: float) -> None:
    """Shade the IKM grade bands behind every panel so a reader sees the grade at a glance."""
    for _grade, _label, low, high, colour in IKM_GRADES:
        if high < y_min:
            continue
        fig.add_hrect(
            y0=max(low, y_min),
            y1=high,
            fillcolor=colour,
            line_width=0,
            layer="below",
            row="all" if rows * cols > 1 else None,
            col="all" if rows * cols > 1 else None,
        )


def _ikm_floor(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    lowest = min(present) if present else 65.0
    return max(25.0, min(65.0, math.floor((lowest - 3) / 5) * 5))


def agency_measure_small_multiples(
    quarter: pl.DataFrame,
    measure: str,
    *,
    percent: bool = False,
    cols: int = 4,
    title: str | None = None,
) -> go.Figure:
    """One small panel per agency: the measure over quarters, shared axes for comparison."""
    frame = _with_period(quarter.filter(pl.col(measure).is_not_null()))
    agencies = frame.select("kode_opd").unique().sort("kode_opd")["kode_opd"].to_list()
    rows, ncols = _grid(len(agencies), cols)
    fig = make_subplots(
        rows=rows,
        cols=ncols,
        subplot_titles=agencies,
        shared_xaxes=True,
        shared_yaxes="all",
        vertical_spacing=0.12 / max(rows - 1, 1) * 2 if rows > 1 else 0.1,
        horizontal_spacing=0.03,
    )
    scale = 100.0 if percent else 1.0
    suffix = "%" if percent else ""
    axis = _quarter_axis(frame)
    for i, kode in enumerate(agencies):
        part = frame.filter(pl.col("kode_opd") == kode)
        values = [None if v is None else v * scale for v in part[measure].to_list()]
        fig.add_trace(
            go.Scatter(
                x=part["periode_label"].to_list(),
                y=values,
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
        _ikm_bands(fig, rows, ncols, _ikm_floor(frame[measure].to_list()))
    fig.update_xaxes(categoryorder="array", categoryarray=axis, tickangle=-45, tickfont_size=9)
    fig.update_yaxes(ticksuffix="%" if percent else "")
    return _layout(fig, title or measure_label(measure), height=230 * rows + 120)


def predikat_share_small_multiples(quarter: pl.DataFrame, cols: int = 4) -> go.Figure:
    """Stacked predikat shares per quarter, one panel per agency."""
    frame = _with_period(quarter.filter(pl.col("n_assessed") > 0))
    agencies = frame.select("kode_opd").unique().sort("kode_opd")["kode_opd"].to_list()
    rows, ncols = _grid(len(agencies), cols)
    fig = make_subplots(
        rows=rows,
        cols=ncols,
        subplot_titles=agencies,
        shared_xaxes=True,
        shared_yaxes="all",
        vertical_spacing=0.24 / max(rows, 1),
        horizontal_spacing=0.03,
    )
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
        categoryorder="array", categoryarray=_quarter_axis(frame), tickangle=-45, tickfont_size=9
    )
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return _layout(fig, "Sebaran predikat kinerja pegawai per triwulan", height=230 * rows + 140)


def agency_detail(quarter: pl.DataFrame, kode_opd: str, nama_opd: str) -> go.Figure:
    """One agency's key measures side by side: achievement, IKM, 20 JP, self gap, predikat."""
    frame = _with_period(quarter.filter(pl.col("kode_opd") == kode_opd))
    x = frame["periode_label"].to_list()
    fig = make_subplots(
        rows=2,
        cols=3,
        subplot_titles=[
            "Capaian kinerja rata-rata (%)",
            "IKM (indeks 25–100)",
            "Cakupan 20 JP (kumulatif tahun berjalan)",
            "Selisih nilai mandiri − atasan (poin)",
            "Sebaran predikat (%)",
            "Jumlah responden SKM",
        ],
        vertical_spacing=0.2,
        horizontal_spacing=0.07,
    )

    def line(values: list[float | None], row: int, col: int, name: str, suffix: str) -> None:
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
            row=row,
            col=col,
        )

    line(
        [None if v is None else 100 * v for v in frame["mean_achievement"].to_list()],
        1,
        1,
        "Capaian",
        "%",
    )
    ikm = frame["ikm"].to_list()
    line(ikm, 1, 2, "IKM", "")
    floor = _ikm_floor(ikm)
    for _grade, _label, low, high, colour in IKM_GRADES:
        if high >= floor:
            fig.add_hrect(
                y0=max(low, floor),
                y1=high,
                fillcolor=colour,
                line_width=0,
                layer="below",
                row=1,
                col=2,
            )
    fig.update_yaxes(range=[floor, 100], row=1, col=2)
    line(
        [None if v is None else 100 * v for v in frame["share_20jp"].to_list()],
        1,
        3,
        "Cakupan 20 JP",
        "%",
    )
    fig.update_yaxes(range=[0, 100], ticksuffix="%", row=1, col=3)
    line(frame["mean_self_supervisor_gap"].to_list(), 2, 1, "Selisih", "")
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
    _layout(fig, f"{kode_opd} — {nama_opd}", height=700)
    # The predikat legend goes under the grid, clear of the panel titles.
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0.0},
        margin={"b": 120},
    )
    return fig


def unit_ikm_lines(units: pl.DataFrame, kode_opd: str) -> go.Figure:
    """IKM per service unit of one agency, over quarters, on the grade bands."""
    frame = _with_period(units.filter(pl.col("kode_opd") == kode_opd)).sort(
        "unit_layanan", "tahun", "triwulan"
    )
    fig = go.Figure()
    palette = ["#2f5d9b", "#c05a1f", "#6a3d9a", "#1b9e77", "#e7298a", "#666666"]
    for i, unit in enumerate(frame["unit_layanan"].unique(maintain_order=True).to_list()):
        part = frame.filter(pl.col("unit_layanan") == unit)
        fig.add_trace(
            go.Scatter(
                x=part["periode_label"].to_list(),
                y=part["ikm"].to_list(),
                mode="lines+markers",
                name=unit,
                line={"color": palette[i % len(palette)], "width": 2},
                customdata=part["n_responden"].to_list(),
                hovertemplate=f"{unit}<br>%{{x}}: IKM %{{y:.2f}}"
                "<br>n = %{customdata} responden<extra></extra>",
            )
        )
    floor = _ikm_floor(frame["ikm"].to_list())
    for grade, label, low, high, colour in IKM_GRADES:
        if high >= floor:
            fig.add_hrect(
                y0=max(low, floor), y1=high, fillcolor=colour, line_width=0, layer="below"
            )
            fig.add_annotation(
                x=1.0,
                xref="paper",
                xanchor="right",
                y=(max(low, floor) + high) / 2,
                text=f"{grade} {label}",
                showarrow=False,
                font={"size": 10, "color": NEUTRAL},
            )
    fig.update_yaxes(range=[floor, 100], title="IKM")
    fig.update_xaxes(title="Triwulan", categoryorder="array", categoryarray=_quarter_axis(frame))
    return _layout(fig, f"IKM per unit layanan — {kode_opd}", height=420)


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
    specs = [
        ("mean_achievement", 100.0, ACCENT, 1),
        ("ikm", 1.0, "#6a3d9a", 2),
        ("share_20jp", 100.0, "#1b9e77", 3),
    ]
    for column, scale, colour, col in specs:
        values = [None if v is None else v * scale for v in frame[column].to_list()]
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
        fig.update_xaxes(range=[_ikm_floor(ikm), 100], row=1, col=2)
    fig.update_xaxes(range=[0, 100], row=1, col=3)
    achievement = [v for v in frame["mean_achievement"].to_list() if v is not None]
    if achievement:
        fig.update_xaxes(
            range=[math.floor(min(achievement) * 100 - 5), math.ceil(max(achievement) * 100 + 2)],
            row=1,
            col=1,
        )
    return _layout(
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
    return _layout(
        fig,
        "Tren signifikan (uji Mann-Kendall, p terkoreksi BH < 0,05)",
        height=max(300, 28 * len(labels) + 150),
    )


def forest(
    frame: pl.DataFrame,
    *,
    estimate: str,
    low: str,
    high: str,
    label: str,
    title: str,
    x_title: str,
    reference: float | None,
    log_x: bool = False,
    significant: str | None = "significant",
    group_by: str | None = None,
    colour_by_sign: bool = False,
) -> go.Figure:
    """Forest plot: a point and its confidence interval per row, a line at the reference."""
    rows = frame.filter(pl.col(estimate).is_not_null())
    fig = go.Figure()
    groups = rows[group_by].unique(maintain_order=True).to_list() if group_by else [None]
    palette = ["#2f5d9b", "#c05a1f", "#6a3d9a", "#1b9e77", "#e7298a", "#666666", "#a6761d"]
    for i, group in enumerate(groups):
        part = rows if group is None else rows.filter(pl.col(group_by) == group)
        sig = part[significant].fill_null(False).to_list() if significant else [False] * part.height
        est = part[estimate].to_list()
        if colour_by_sign:
            colours = [
                (GOOD if e > reference else BAD) if s else NEUTRAL
                for e, s in zip(est, sig, strict=True)
            ]
        else:
            colours = [palette[i % len(palette)]] * part.height
        fig.add_trace(
            go.Scatter(
                x=est,
                y=part[label].to_list(),
                mode="markers",
                name=str(group) if group is not None else x_title,
                showlegend=group is not None,
                marker={
                    "color": colours,
                    "size": [11 if s else 7 for s in sig],
                    "symbol": ["diamond" if s else "circle" for s in sig],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if h is None else h - e
                        for h, e in zip(part[high].to_list(), est, strict=True)
                    ],
                    "arrayminus": [
                        None if lo is None else e - lo
                        for lo, e in zip(part[low].to_list(), est, strict=True)
                    ],
                    "color": "#9aa4ab",
                    "thickness": 1.5,
                },
                hovertemplate="%{y}: %{x:.3f}<extra></extra>",
            )
        )
    if reference is not None:
        fig.add_vline(x=reference, line_dash="dash", line_color=NEUTRAL)
    fig.update_xaxes(title=x_title, type="log" if log_x else "linear")
    fig.update_yaxes(
        automargin=True,
        autorange="reversed",
        categoryorder="array",
        categoryarray=rows[label].to_list(),
    )
    return _layout(fig, title, height=max(320, 22 * rows.height + 160))


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
    return _layout(
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
                    "color": "#9aa4ab",
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
    return _layout(
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
            colorscale=[[0, "#f4b4ae"], [1, "#bfe3c3"]],
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
    return _layout(
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
            marker={"symbol": "line-ns-open", "size": 26, "color": "#222", "line": {"width": 3}},
            hovertemplate="%{y}: batas %{x:.0f}%<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title="Porsi pegawai")
    fig.update_yaxes(automargin=True)
    return _layout(
        fig,
        "Aturan kurva yang dilanggar: porsi teramati vs batas",
        height=max(260, 50 * len(labels) + 150),
    )
