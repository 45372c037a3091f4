"""Family ``distribution_curve`` of analysis.findings: does each agency-year's predikat
distribution obey the rules its organisation predikat sets (SE MenPANRB 3/2023)?

A rule check on the counts the agency reported, not a statistical test (no p-value): the
curve binds the agency's actual distribution. The effect is how far the worst rule is
beyond its bound (share points, > 0 broken). The curve is defined on the annual predikat,
so an agency-year without annual (TAHUNAN) rows is ``not_assessable`` - never "complies".
"""

from __future__ import annotations

import polars as pl

from pipelines.analysis import findings
from pipelines.rules import periods

FAMILY = "distribution_curve"
# share beyond the bound, by rule operator: > 0 when the rule is broken.
BEYOND = {
    ">": pl.col("bound") - pl.col("observed_share"),
    ">=": pl.col("bound") - pl.col("observed_share"),
    "<": pl.col("observed_share") - pl.col("bound"),
    "<=": pl.col("observed_share") - pl.col("bound"),
}


def curve_candidates(curve: pl.DataFrame) -> pl.DataFrame:
    """One row per agency-year of marts.mart_distribution_curve."""
    beyond = pl.lit(None, pl.Float64)
    for operator, expr in BEYOND.items():
        beyond = pl.when(pl.col("operator") == operator).then(expr).otherwise(beyond)
    per_year = (
        curve.with_columns(beyond.alias("beyond"))
        .group_by("kode_opd", "tahun")
        .agg(
            predikat_organisasi=pl.col("predikat_organisasi").first(),
            n=pl.col("n_assessed").max(),
            broken=(~pl.col("passed")).sum(),
            rules=pl.len(),
            effect=pl.col("beyond").max(),
            violations=pl.col("violation").drop_nulls().sort().str.join("; "),
        )
        .sort("tahun", "kode_opd")
    )
    records = []
    for r in per_year.iter_rows(named=True):
        row = {
            "family": FAMILY,
            "tahun": r["tahun"],
            "kode_opd": r["kode_opd"],
            "subject": f"predikat organisasi {r['predikat_organisasi']}",
            "outcome": "predikat_distribution",
            "basis": periods.ANNUAL,
        }
        if not r["n"]:
            records.append(
                row
                | {
                    "verdict": findings.NOT_ASSESSABLE,
                    "reason": "Tidak ada predikat tahunan (TAHUNAN) untuk OPD-tahun ini: kurva"
                    " distribusi dinilai atas predikat tahunan, jadi kepatuhan tidak dapat"
                    " dinilai.",
                }
            )
            continue
        row |= {
            "n": r["n"],
            "effect": r["effect"],
            "effect_measure": "share_beyond_bound",
            "practical": r["broken"] > 0,
        }
        if r["broken"]:
            row["reason"] = (
                f"{r['broken']} dari {r['rules']} aturan kurva dilanggar: {r['violations']}."
            )
        records.append(row)
    return findings.candidates(records)
