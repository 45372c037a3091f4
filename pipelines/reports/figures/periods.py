"""The quarter axis of the time charts: '2024 TW II' labels, in calendar order."""

from __future__ import annotations

import math

import polars as pl

from pipelines.reports.labels import quarter_label


def quarter_axis(frame: pl.DataFrame) -> list[str]:
    """Every (tahun, triwulan) of the frame as a label, oldest first: the category order of
    an x axis, so a quarter missing from the first trace does not reorder the axis."""
    periods = frame.select("tahun", "triwulan").unique().sort("tahun", "triwulan")
    return [quarter_label(t, q) for t, q in periods.iter_rows()]


def with_period(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in time order with its quarter label as `periode_label`."""
    return frame.sort("tahun", "triwulan").with_columns(
        pl.struct("tahun", "triwulan")
        .map_elements(lambda r: quarter_label(r["tahun"], r["triwulan"]), return_dtype=pl.String)
        .alias("periode_label")
    )


def grid(n: int, cols: int) -> tuple[int, int]:
    """(rows, columns) of a small-multiples grid for n panels, at most `cols` wide."""
    return max(1, math.ceil(n / cols)), min(cols, max(n, 1))
