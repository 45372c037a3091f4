"""Which int_employee_period rows can speak to achievement: the own assessment exports
(``source = 'export'``) carry indicator rows; BKN SIASN records (``source = 'siasn'``) are
ratings only (``n_indicators = 0``, achievement and the self/supervisor gap NULL), so those
measures are not assessable on them - not missing. Families that read achievement or the
gap filter with ``with_indicators`` and say so with ``RATINGS_ONLY_REASON``."""

from __future__ import annotations

import polars as pl

from pipelines.analysis import findings

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


def ratings_only_agency_years(frame: pl.DataFrame) -> pl.DataFrame:
    """(tahun, kode_opd) whose records are all ratings only: there the indicator families
    have no rows to test, and must say "not assessable" rather than stay silent."""
    if "n_indicators" not in frame.columns:
        return pl.DataFrame(schema={"tahun": pl.Int32, "kode_opd": pl.Utf8})
    return (
        frame.group_by("tahun", "kode_opd")
        .agg(pl.col("n_indicators").fill_null(0).max().alias("most"))
        .filter(pl.col("most") == 0)
        .select(pl.col("tahun").cast(pl.Int32), "kode_opd")
        .sort("tahun", "kode_opd")
    )


def ratings_only_candidates(frame: pl.DataFrame, families: dict[str, str]) -> pl.DataFrame:
    """A not_assessable findings row per ratings-only agency-year and indicator family
    (``families``: family -> outcome it would have tested)."""
    return findings.candidates(
        {
            "family": family,
            "tahun": tahun,
            "kode_opd": kode_opd,
            "outcome": outcome,
            "verdict": findings.NOT_ASSESSABLE,
            "reason": RATINGS_ONLY_REASON,
        }
        for tahun, kode_opd in ratings_only_agency_years(frame).iter_rows()
        for family, outcome in families.items()
    )
