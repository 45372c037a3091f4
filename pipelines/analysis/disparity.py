"""Family ``group_disparity`` of analysis.findings: do groups of employees get the top band
(Sangat Baik) or the bottom band (Butuh Perbaikan or worse) at different rates, and is the
whole predikat order shifted?

Unit: one employee-year (``fairness.year_outcomes``: the annual predikat, else the last
periodic one). Scopes: each agency on its own (an evaluator audits one OPD at a time) and
all agencies pooled (kode_opd NULL).

What each group is compared with, so that a difference means what an evaluator reads:
- gender: women (P) against men (L);
- gender x golongan, gender x jenis_jabatan (pooled only): women against men *of the same
  golongan or position type* (P x III/a vs L x III/a), never against the largest cell. Not
  per agency: an agency x gender x golongan table has about half its cells under the
  publishable minimum, and protecting them from subtraction (``protection``) hid every
  pooled figure of the default sample; the pooled comparison is made within agencies
  anyway;
- age band, golongan, position type: each group against all other employees of the scope
  (golongan and position type pooled only: inside an agency they are the job, not a
  protected trait, and every extra test dilutes the year's BH family);
- agency (pooled only): against the other agencies holding the same organisation predikat
  that year and complying with its curve, because the curve *requires* an Istimewa agency to
  give more Sangat Baik (and one agency breaking it must not make its peers look strict); an
  agency alone in its predikat is not assessable.

Tests: top and bottom band by Fisher's exact test on the 2x2 table (exact at any cell
size; no chi-square on sparse tables); in the pooled scope the comparison is made within
agencies (Mantel-Haenszel rate ratio, Greenland-Robins interval, CMH test), so agencies
with different curves do not manufacture a gap. The predikat order by the Mann-Whitney test
(ties corrected) with the probability of superiority P(X > Y) + P(X = Y)/2 as its effect
(0.5 = no shift). Effects are rate ratios with a 0.5 continuity correction when a cell is
empty (a 0-vs-30% gap is a real gap, not an undefined ratio).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable

from pipelines.analysis import findings
from pipelines.rules import periods, predikat

FAMILY = "group_disparity"
WOMEN, MEN = "P", "L"
ORDINAL = "predikat_order"
REST = "lainnya"
SINGLE = ("age_band", "golongan", "jenis_jabatan")
# Inside one agency only the protected attributes are compared: grade and position differ
# in what the job asks, and each extra test costs the whole year's family power under BH.
PROTECTED = ("age_band",)
WITHIN = {"gender x golongan": "golongan", "gender x jenis_jabatan": "jenis_jabatan"}
Z = float(stats.norm.ppf(0.975))


# ---------------------------------------------------------------- statistics


def rate_ratio(a: int, n1: int, c: int, n0: int) -> tuple[float, float, float]:
    """(a/n1)/(c/n0) with the Katz log interval; 0.5 added to every cell when one is 0."""
    if min(a, n1 - a, c, n0 - c) == 0:
        a, c, n1, n0 = a + 0.5, c + 0.5, n1 + 1, n0 + 1
    ratio = (a / n1) / (c / n0)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    return ratio, ratio * math.exp(-Z * se), ratio * math.exp(Z * se)


def mantel_haenszel_ratio(tables: list[np.ndarray]) -> tuple[float, float, float] | None:
    """MH pooled rate ratio over 2x2 strata [[a, n1-a], [c, n0-c]] with the Greenland-Robins
    interval; None when no stratum holds both groups with an outcome."""
    kept = [t for t in tables if t[0].sum() > 0 and t[1].sum() > 0]
    num = den = var_num = 0.0
    for t in kept:
        a, b, c, d = t[0, 0], t[0, 1], t[1, 0], t[1, 1]
        n1, n0 = a + b, c + d
        total = n1 + n0
        num += a * n0 / total
        den += c * n1 / total
        var_num += (n1 * n0 * (a + c) - a * c * total) / total**2
    if num == 0 or den == 0:
        return None
    ratio = num / den
    se = math.sqrt(var_num / (num * den))
    return ratio, ratio * math.exp(-Z * se), ratio * math.exp(Z * se)


def cmh_p(tables: list[np.ndarray]) -> float | None:
    kept = [t for t in tables if t[0].sum() > 0 and t[1].sum() > 0]
    if not kept:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        p = float(StratifiedTable(np.dstack(kept).astype(float)).test_null_odds().pvalue)
    return p if math.isfinite(p) else None


def superiority(x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
    """P(X > Y) + P(X = Y)/2 and the two-sided Mann-Whitney p (None when all values tie)."""
    if np.concatenate([x, y]).min() == np.concatenate([x, y]).max():
        return 0.5, None
    result = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    return float(result.statistic) / (len(x) * len(y)), float(result.pvalue)


# ---------------------------------------------------------------- comparisons


def _comparisons(rows: pl.DataFrame, pooled: bool, org: pl.DataFrame) -> Iterator[tuple]:
    """(dimension, subject, reference, subject rows mask, reference rows mask)."""
    gender = rows["gender"].to_numpy()
    yield "gender", WOMEN, MEN, gender == WOMEN, gender == MEN
    for dimension in SINGLE if pooled else PROTECTED:
        values = rows[dimension].to_numpy()
        for value in sorted({v for v in values if v is not None}):
            yield dimension, value, REST, values == value, (values != value) & (values != None)  # noqa: E711
    for dimension, column in WITHIN.items() if pooled else ():
        values = rows[column].to_numpy()
        for value in sorted({v for v in values if v is not None}):
            same = values == value
            yield (
                dimension,
                f"{WOMEN} x {value}",
                f"{MEN} x {value}",
                same & (gender == WOMEN),
                same & (gender == MEN),
            )
    if pooled:
        by_agency = rows.join(org, on=["kode_opd", "tahun"], how="left")
        agency = by_agency["kode_opd"].to_numpy()
        org_value = by_agency["predikat_organisasi"].fill_null("(tidak diketahui)").to_numpy()
        # An agency that breaks its curve is no yardstick for what the predikat allows.
        yardstick = by_agency["curve_compliant"].fill_null(True).to_numpy()
        for value in sorted(set(agency)):
            own_org = org_value[agency == value][0]
            yield (
                "kode_opd",
                value,
                f"OPD lain berpredikat {own_org} yang patuh kurva",
                agency == value,
                (agency != value) & (org_value == own_org) & yardstick,
            )


def group_disparity(
    employee_year: pl.DataFrame,
    predikat_organisasi: pl.DataFrame | None = None,
    min_group_size: int = 5,
) -> pl.DataFrame:
    """Candidate rows of the group_disparity family (see the module docstring), from
    ``fairness.year_outcomes`` rows (computed once by the caller: a sort of every period)."""
    years = employee_year.with_columns(
        pl.col("tahun").cast(pl.Int32),
        pl.col("predikat").replace_strict(predikat.SCORE, return_dtype=pl.Int8).alias("score"),
    )
    schema = {
        "kode_opd": pl.String,
        "tahun": pl.Int32,
        "predikat_organisasi": pl.String,
        "curve_compliant": pl.Boolean,
    }
    org = pl.DataFrame(schema=schema)
    if predikat_organisasi is not None:
        given = predikat_organisasi
        if "curve_compliant" not in given.columns:
            given = given.with_columns(curve_compliant=pl.lit(None, pl.Boolean))
        org = given.select([pl.col(c).cast(t) for c, t in schema.items()]).unique(
            ["kode_opd", "tahun"]
        )
    records: list[dict[str, object]] = []
    for (tahun,), year in sorted(years.partition_by("tahun", as_dict=True).items()):
        basis = _basis_text(year)
        records += _scope(year, int(tahun), None, org, basis, min_group_size)
        for (kode,), agency in sorted(year.partition_by("kode_opd", as_dict=True).items()):
            records += _scope(agency, int(tahun), kode, org, basis, min_group_size)
    return findings.candidates(records)


def _basis_text(year: pl.DataFrame) -> str:
    """How the year's predikat were taken, for the reason column."""
    counts = year.group_by("outcome_basis").len().sort("len", descending=True)
    if counts.height == 1 and counts["outcome_basis"][0] == periods.ANNUAL:
        return periods.ANNUAL
    parts = [f"{b} ({n})" for b, n in counts.iter_rows()]
    return "predikat tahunan, atau periodik terakhir bila tidak ada: " + ", ".join(parts)


def _scope(
    rows: pl.DataFrame,
    tahun: int,
    kode_opd: str | None,
    org: pl.DataFrame,
    basis: str,
    min_group_size: int,
) -> list[dict[str, object]]:
    top = rows["top_band"].to_numpy()
    bottom = rows["bottom_band"].to_numpy()
    score = rows["score"].to_numpy()
    # Agency codes once per scope: np.unique over a million strings took seconds per test.
    _, agency = np.unique(rows["kode_opd"].to_numpy(), return_inverse=True)
    out = []
    for dimension, subject, reference, own, other in _comparisons(rows, kode_opd is None, org):
        n1, n0 = int(own.sum()), int(other.sum())
        base = {
            "family": FAMILY,
            "tahun": tahun,
            "kode_opd": kode_opd,
            "dimension": dimension,
            "subject": subject,
            "reference": reference,
            "basis": basis,
        }
        if n1 == 0:
            continue  # the group does not exist in this scope: nothing to say about it
        for outcome, flags in (("top_band", top), ("bottom_band", bottom), (ORDINAL, score)):
            row = base | {"outcome": outcome}
            if n0 == 0:
                out.append(
                    row
                    | {
                        "verdict": findings.NOT_ASSESSABLE,
                        "reason": f"Tidak ada kelompok pembanding ({reference}) di cakupan ini.",
                    }
                )
                continue
            if n1 < min_group_size or n0 < min_group_size:
                out.append(
                    row
                    | {
                        "verdict": findings.SUPPRESSED,
                        "reason": f"Kelompok atau pembandingnya kurang dari {min_group_size}"
                        " pegawai: tidak dipublikasikan.",
                    }
                )
                continue
            row |= {"n": n1, "n_reference": n0}
            if outcome == ORDINAL:
                effect, p = superiority(flags[own].astype(float), flags[other].astype(float))
                out.append(
                    row
                    | {
                        "effect": effect,
                        "effect_measure": "probability_of_superiority",
                        "p_value": p,
                    }
                    | ({"p_value": 1.0} if p is None else {})
                )
                continue
            a, c = int(flags[own].sum()), int(flags[other].sum())
            if a == 0 and c == 0:
                out.append(
                    row
                    | {
                        "verdict": findings.NOT_ASSESSABLE,
                        "reason": "Tidak ada pegawai dengan predikat ini pada kedua kelompok.",
                    }
                )
                continue
            if kode_opd is None and dimension != "kode_opd":
                tables = _strata(flags, own, other, agency)
                pooled = mantel_haenszel_ratio(tables)
                p = cmh_p(tables)
                if pooled is None or p is None:
                    out.append(
                        row
                        | {
                            "verdict": findings.NOT_ASSESSABLE,
                            "reason": "Tidak ada OPD yang memuat kedua kelompok dengan predikat"
                            " ini: perbandingan di dalam OPD tidak dapat dihitung.",
                        }
                    )
                    continue
                ratio, low, high = pooled
                row["outcome"] = f"{outcome}_within_opd"
            else:
                ratio, low, high = rate_ratio(a, n1, c, n0)
                table = np.array([[a, n1 - a], [c, n0 - c]])
                p = float(stats.fisher_exact(table).pvalue)
            out.append(
                row
                | {
                    "effect": ratio,
                    "effect_ci_low": low,
                    "effect_ci_high": high,
                    "effect_measure": "rate_ratio",
                    "p_value": min(p, 1.0),
                }
            )
    return out


def _strata(
    flags: np.ndarray, own: np.ndarray, other: np.ndarray, agency: np.ndarray
) -> list[np.ndarray]:
    """2x2 table per agency: [[group yes, group no], [reference yes, reference no]], from
    counts per agency code 0..k-1 (one pass, not one per agency: 1M rows x hundreds of
    agencies)."""
    k = int(agency.max()) + 1 if len(agency) else 0
    yes = flags.astype(float)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(
            agency[mask], weights=None if weights is None else weights[mask], minlength=k
        )

    n1, a = count(own), count(own, yes)
    n0, c = count(other), count(other, yes)
    return [np.array([[a[i], n1[i] - a[i]], [c[i], n0[i] - c[i]]]) for i in range(k)]


def not_assessable_years(employee_period: pl.DataFrame, judged_years: set[int]) -> pl.DataFrame:
    """A not_assessable row for every year that has periods but no readable predikat."""
    seen = sorted(set(employee_period["tahun"].cast(pl.Int32).to_list()) - judged_years)
    return findings.candidates(
        {
            "family": FAMILY,
            "tahun": tahun,
            "verdict": findings.NOT_ASSESSABLE,
            "reason": "Tidak ada predikat pegawai yang terbaca untuk tahun ini: keadilan"
            " predikat tidak dapat dinilai.",
        }
        for tahun in seen
    )
