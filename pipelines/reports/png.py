"""Static PNG copies of the key charts (for slides and letters), via kaleido and a local Chrome.

Optional by design: when kaleido cannot find or start a browser, the HTML reports still stand,
so this logs a warning and returns no paths instead of failing the run.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # html imports this module to export a page's key charts
    from pipelines.reports.html import Chart

log = logging.getLogger(__name__)
CHROME_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_browser() -> str | None:
    for candidate in CHROME_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("google-chrome")


def export_pngs(charts: list[Chart], png_dir: Path, prefix: str) -> list[Path]:
    """Write `<png_dir>/<prefix>_<key>.png` for each chart, all in one browser session."""
    if not charts:
        return []
    browser = find_browser()
    if browser is None:
        log.warning("No Chrome/Chromium found: skipping PNG export of %d charts", len(charts))
        return []
    png_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for chart in charts:
        height = chart.figure.layout.height or 500
        jobs.append(
            {
                "fig": chart.figure,
                "path": str(png_dir / f"{prefix}_{chart.key}.png"),
                "opts": {"format": "png", "width": 1300, "height": int(height), "scale": 1},
            }
        )
    try:
        import kaleido

        kaleido.write_fig_from_object_sync(jobs)
    except Exception as error:  # kaleido raises several browser-startup errors; none is fatal
        log.warning("PNG export skipped: kaleido could not render with %s (%s)", browser, error)
        return []
    return [Path(j["path"]) for j in jobs if Path(j["path"]).exists()]
