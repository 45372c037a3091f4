"""The page shell shared by both reports: one self-contained HTML file per report.

plotly.js is inlined once per page (no CDN: the reports are opened offline on office PCs);
every chart is a JSON blob in a `<script type="application/json">` tag that the page's own
few lines of JS hand to `Plotly.newPlot`. Sections may be tagged with a picker value (an
agency, a quarter, a year): the pickers show the matching sections and hide the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from pipelines.reports.png import export_pngs

TEMPLATES = Path(__file__).parent / "templates"
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "locale": "id"}


@dataclass
class Chart:
    figure: go.Figure
    caption: str
    key: str = ""  # file stem for the PNG export; empty = not a key chart


@dataclass
class Section:
    title: str
    intro: str = ""
    charts: list[Chart] = field(default_factory=list)
    table: str = ""  # pre-rendered, already escaped HTML
    notes: list[str] = field(default_factory=list)
    picker: str = ""  # picker name this section belongs to ('' = always shown)
    value: str = ""  # the picker value that shows it


@dataclass
class Picker:
    name: str
    label: str
    options: list[tuple[str, str]]  # (value, shown text)


@dataclass
class Page:
    """Everything one report page shows, top to bottom."""

    title: str
    subtitle: str
    summary: list[str]  # the findings in sentences, above every chart
    pickers: list[Picker]
    sections: list[Section]
    banner: list[str] = field(default_factory=list)  # heading, items: banner.blocked_banner

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


@dataclass(frozen=True)
class ReportInfo:
    path: Path
    n_charts: int
    png_paths: list[Path]
    summary: list[str]


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON safe inside a <script> element."""
    payload = {"data": figure.to_plotly_json()["data"], "layout": figure.to_plotly_json()["layout"]}
    text = json.dumps(payload, cls=PlotlyJSONEncoder, ensure_ascii=False)
    return text.replace("</", "<\\/")


def render_page(page: Page) -> str:
    """The page as one self-contained HTML document; the banner, if any, tops it."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    numbered: list[tuple[Section, list[tuple[str, str, str]]]] = []
    counter = 0
    for section in page.sections:
        charts = []
        for chart in section.charts:
            counter += 1
            charts.append((f"chart-{counter}", figure_json(chart.figure), chart.caption))
        numbered.append((section, charts))
    return env.get_template("report.html.j2").render(
        title=page.title,
        subtitle=page.subtitle,
        summary=page.summary,
        pickers=page.pickers,
        sections=numbered,
        banner=page.banner,
        plotlyjs=get_plotlyjs(),
        config=json.dumps(PLOT_CONFIG),
    )


def write_report(path: Path, page: str) -> None:
    """Write atomically: a reader never opens half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)


def publish_page(page: Page, out_path: Path, png_dir: Path | None, png_prefix: str) -> ReportInfo:
    """Write the page, then PNG copies of its key charts (those with a key) when png_dir is
    given: `<png_dir>/<png_prefix>_<key>.png`. The HTML is complete even if no PNG is."""
    write_report(out_path, render_page(page))
    charts = page.charts
    keyed = [c for c in charts if c.key]
    pngs = export_pngs(keyed, png_dir, prefix=png_prefix) if png_dir else []
    return ReportInfo(out_path, len(charts), pngs, page.summary)
