"""Which int_employee_period rows can speak to achievement: the own assessment exports
(``source = 'export'``) carry indicator rows; BKN SIASN records (``source = 'siasn'``) are
ratings only (``n_indicators = 0``, achievement and the self/supervisor gap NULL), so those
measures are not assessable on them - not missing. Families that read achievement or the
gap filter with ``with_indicators`` and say so with ``RATINGS_ONLY_REASON``."""

from __future__ import annotations

import polars as pl

# Why achievement and the self/supervisor gap cannot be judged where there are no
# indicator rows: the records are BKN SIASN ratings only (not missing data).
RATINGS_ONLY_REASON = (
    "Catatan hanya berisi predikat dan rating (SIASN BKN, tanpa indikator kinerja):"
    " capaian tidak dapat dinilai."
)


def with_indicators(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of an int_employee_period frame that carry indicator rows (the own
    exports): achievement and the self/supervisor gap exist only there. SIASN records are
    ratings only (``n_indicators = 0``, ``source = 'siasn'``): not assessable for them,
    not missing. A frame with neither column predates SIASN and holds exports only."""
    if "n_indicators" in frame.columns:
        return frame.filter(pl.col("n_indicators") > 0)
    if "source" in frame.columns:
        return frame.filter(pl.col("source") == "export")
    return frame
