"""analysis.year_end_outlook: where each agency's indicators and its 20-JP training coverage
will stand at year end if the current pace holds. This is kinerja's projection, no regulation
asks for it: every row carries LABEL, and the reports say so.

The year projected is the latest year of marts.mart_agency_indicator_quarter, as of each
agency's latest quarter q in it, when q < 4 (a year with its fourth quarter is over).

Per indicator (the mart's row at triwulan = q; x_1..x_q its quarterly realisations):
- **jumlah** (the year adds up): projected R = realisasi_to_date + m × mean(x), m = 4 − q.
  95% prediction interval for the m remaining quarters' sum, the quarters taken as
  independent draws of one normal law (q ≥ 2): m·x̄ ± t(0.975, q−1) · s · √(m (1 + m/q)),
  s the sample standard deviation; when no quarter so far is negative the low end is not
  below what is already realised (remaining quarters cannot take away).
- **terakhir** (the latest value counts): the OLS line through (i, x_i), evaluated at i = 4
  (q ≥ 2; the latest value when q = 1). 95% prediction interval at x₀ = 4 (q ≥ 3):
  ŷ ± t(0.975, q−2) · s · √(1 + 1/q + (4 − ī)² / Σ(i − ī)²), s² = SSE/(q−2).
- projected capaian = capaian(R, annual_target, arah) (pipelines.rules.indicator); the
  interval's ends map through it too, swapped for turun (a higher R is a lower capaian).
- required pace: jumlah naik → at least (target − realised)/m per remaining quarter; jumlah
  turun (a ceiling, e.g. complaints) → at most that much per quarter to end at the target
  (0 when the ceiling is already passed: capaian 100% is out of reach); terakhir → the level
  needed at TW IV is the annual target (at least for naik, at most for turun).
Per agency: the mean over its projected indicators of value to date, projection and interval
ends (the interval only when every averaged indicator has one; it is a mean of bounds, not a
joint interval), n = n_with_indicators of marts.mart_agency_quarter; and the 20-JP outlook:
per employee projected JP = jp_ytd_q × 4/q, projected share = share of the agency's
employees (intermediate.int_employee_agency_year) with projected JP ≥ 20, a 95% Wilson
interval, and the mean JP per remaining quarter the employees still under 20 JP need.

Rows of groups under min_group_size are 'suppressed' with every number NULL; the agency mean
only averages published indicator rows, so no hidden row comes back by subtraction. Missing
inputs give 'not_assessable' with a reason, never a clean number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from pipelines.rules.indicator import HIGHER, LOWER, SUM, band, capaian

LABEL = "Proyeksi kinerja (bukan ketentuan regulasi)"
PROJECTED, NOT_ASSESSABLE, SUPPRESSED = "projected", "not_assessable", "suppressed"
INDICATOR, AGENCY = "indicator", "agency"
CAPAIAN_ANNUAL, SHARE_20JP = "capaian_annual", "share_20jp"
JP_RIGHT = 20.0
CONFIDENCE = 0.95

OUTLOOK_SCHEMA = {
    "kode_opd": pl.String,
    "nama_opd": pl.String,
    "pemda": pl.String,
    "tahun": pl.Int32,
    "as_of_triwulan": pl.Int32,
    "scope": pl.String,
    "kode_indikator": pl.String,
    "indikator": pl.String,
    "measure": pl.String,
    "method": pl.String,
    "value_to_date": pl.Float64,
    "projected": pl.Float64,
    "projected_low": pl.Float64,
    "projected_high": pl.Float64,
    "projected_band": pl.String,
    "target": pl.Float64,
    "annual_target": pl.Float64,
    "projected_realisasi": pl.Float64,
    "projected_realisasi_low": pl.Float64,
    "projected_realisasi_high": pl.Float64,
    "required_pace": pl.Float64,
    "required_pace_kind": pl.String,
    "n": pl.Int32,
    "n_indicators": pl.Int32,
    "status": pl.String,
    "reason": pl.String,
    "label": pl.String,
}
NUMBERS = [c for c, t in OUTLOOK_SCHEMA.items() if t == pl.Float64] + ["projected_band"]


@dataclass(frozen=True)
class Projection:
    """A projected year-end realisation and its 95% interval (None: not computable)."""

    point: float
    low: float | None = None
    high: float | None = None
    method: str = ""
    note: str | None = None  # why the interval is missing


def project_sum(quarters: list[float]) -> Projection:
    """jumlah: the realised sum plus the mean quarter for each remaining quarter."""
    q, m = len(quarters), 4 - len(quarters)
    x = np.asarray(quarters, dtype=float)
    done, point = float(x.sum()), float(x.sum() + m * x.mean())
    if q < 2:
        return Projection(point, method="rata_rata_triwulan", note=_needs(2))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, q - 1) * x.std(ddof=1) * math.sqrt(m * (1 + m / q))
    low = point - half
    if (x >= 0).all():
        low = max(low, done)
    return Projection(point, low, point + half, "rata_rata_triwulan")


def project_last(quarters: list[float]) -> Projection:
    """terakhir: the OLS line through the quarterly values at quarter 4."""
    q = len(quarters)
    y = np.asarray(quarters, dtype=float)
    if q == 1:
        return Projection(float(y[0]), method="nilai_terakhir", note=_needs(3))
    i = np.arange(1, q + 1, dtype=float)
    slope, intercept = np.polyfit(i, y, 1)
    point = float(intercept + slope * 4)
    if q < 3:
        return Projection(point, method="garis_ols", note=_needs(3))
    residuals = y - (intercept + slope * i)
    s = math.sqrt(float(residuals @ residuals) / (q - 2))
    sxx = float(((i - i.mean()) ** 2).sum())
    half = (
        stats.t.ppf(0.5 + CONFIDENCE / 2, q - 2)
        * s
        * math.sqrt(1 + 1 / q + (4 - i.mean()) ** 2 / sxx)
    )
    return Projection(point, point - half, point + half, "garis_ols")


def _needs(quarters: int) -> str:
    return f"Interval 95% belum dapat dihitung: perlu minimal {quarters} triwulan data"


def capaian_interval(p: Projection, target: float, arah: str) -> tuple[float | None, ...]:
    """(capaian, low, high) of a projection; the ends swap for turun."""
    point = capaian(p.point, target, arah)
    if p.low is None or p.high is None:
        return point, None, None
    ends = (capaian(p.low, target, arah), capaian(p.high, target, arah))
    return (point, *(ends[::-1] if arah == LOWER else ends))


def required_pace(row: dict, q: int) -> tuple[float | None, str, str | None]:
    """(pace, kind, note) for an indicator row as of quarter q."""
    target, arah = row["annual_target"], row["arah"]
    bound = "maksimal" if arah == LOWER else "minimal"
    if row["jenis_agregasi"] != SUM:
        return target, f"tingkat_tw4_{bound}", None
    left = (target - row["realisasi_to_date"]) / (4 - q)
    note = None
    if arah == LOWER and left < 0:
        note = "Batas target tahunan sudah terlampaui: capaian 100% tidak lagi terjangkau"
    return max(left, 0.0), f"per_triwulan_{bound}", note


def as_of_quarters(indicator_quarter: pl.DataFrame) -> pl.DataFrame:
    """kode_opd, tahun, as_of_triwulan: each agency's latest quarter in the mart's latest
    year, when that year is not over (latest quarter < 4)."""
    if indicator_quarter.is_empty():
        return pl.DataFrame(
            schema={"kode_opd": pl.String, "tahun": pl.Int32, "as_of_triwulan": pl.Int32}
        )
    year = indicator_quarter["tahun"].max()
    return (
        indicator_quarter.filter(pl.col("tahun") == year)
        .group_by("kode_opd", "tahun")
        .agg(pl.col("triwulan").max().alias("as_of_triwulan"))
        .filter(pl.col("as_of_triwulan") < 4)
        .cast({"tahun": pl.Int32, "as_of_triwulan": pl.Int32})
        .sort("kode_opd")
    )


def _base(row: dict, q: int) -> dict:
    return {
        "kode_opd": row["kode_opd"],
        "nama_opd": row.get("nama_opd"),
        "pemda": row.get("pemda"),
        "tahun": row["tahun"],
        "as_of_triwulan": q,
        "label": LABEL,
    }


def _indicator_row(row: dict, q: int, min_group_size: int) -> dict:
    out = {
        **_base(row, q),
        "scope": INDICATOR,
        "kode_indikator": row["kode_indikator"],
        "indikator": row.get("indikator"),
        "measure": CAPAIAN_ANNUAL,
        "n": row["n_holders"],
    }
    n = row["n_holders"] or 0
    if n < min_group_size:
        reason = f"Kurang dari {min_group_size} pegawai pemegang indikator: disembunyikan"
        return {**out, "n": None, "status": SUPPRESSED, "reason": reason}
    quarters = [row[f"realisasi_tw{k}"] for k in range(1, q + 1)]
    missing = [k for k, v in enumerate(quarters, 1) if v is None]
    target = row["annual_target"]
    if missing:
        tw = ", ".join(f"TW {k}" for k in missing)
        return {**out, "status": NOT_ASSESSABLE, "reason": f"Realisasi {tw} tidak ada"}
    if target is None or target == 0 or row["arah"] not in (HIGHER, LOWER):
        reason = "Target tahunan tidak ada (atau 0): capaian tidak dapat diproyeksikan"
        return {**out, "status": NOT_ASSESSABLE, "reason": reason}
    p = project_sum(quarters) if row["jenis_agregasi"] == SUM else project_last(quarters)
    point, low, high = capaian_interval(p, target, row["arah"])
    pace, kind, pace_note = required_pace(row, q)
    notes = [t for t in (p.note, pace_note) if t]
    return {
        **out,
        "method": p.method,
        "value_to_date": row["capaian_annual"],
        "projected": point,
        "projected_low": low,
        "projected_high": high,
        "projected_band": band(point),
        "target": 1.0,
        "annual_target": target,
        "projected_realisasi": p.point,
        "projected_realisasi_low": p.low,
        "projected_realisasi_high": p.high,
        "required_pace": pace,
        "required_pace_kind": kind,
        "status": PROJECTED,
        "reason": "; ".join(notes) or None,
    }


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _agency_row(base: dict, rows: list[dict], n: int | None, min_group_size: int) -> dict:
    """The agency's mean over its projected (hence published) indicator rows."""
    out = {**base, "scope": AGENCY, "measure": CAPAIAN_ANNUAL, "n": n}
    out["method"] = "rata_rata_indikator"
    if not n:
        reason = "Jumlah pegawai dengan indikator tidak diketahui (mart_agency_quarter)"
        return {**out, "status": NOT_ASSESSABLE, "reason": reason}
    if n < min_group_size:
        reason = f"Kurang dari {min_group_size} pegawai dengan indikator: disembunyikan"
        return {**out, "n": None, "status": SUPPRESSED, "reason": reason}
    used = [r for r in rows if r["status"] == PROJECTED and r["projected"] is not None]
    if not used:
        reason = "Tidak ada indikator yang dapat diproyeksikan"
        return {**out, "status": NOT_ASSESSABLE, "reason": reason, "n_indicators": 0}
    whole = all(r["projected_low"] is not None for r in used)
    point = _mean([r["projected"] for r in used])
    return {
        **out,
        "value_to_date": _mean([r["value_to_date"] for r in used]),
        "projected": point,
        "projected_low": _mean([r["projected_low"] for r in used]) if whole else None,
        "projected_high": _mean([r["projected_high"] for r in used]) if whole else None,
        "projected_band": band(point),
        "target": 1.0,
        "n_indicators": len(used),
        "status": PROJECTED,
        "reason": None
        if whole
        else "Interval 95% hanya bila semua indikator yang dirata-rata memiliki interval",
    }


def indicator_outlook(
    indicator_quarter: pl.DataFrame, agency_quarter: pl.DataFrame, min_group_size: int
) -> list[dict]:
    """Indicator rows and agency capaian rows as dicts (OUTLOOK_SCHEMA keys)."""
    as_of = as_of_quarters(indicator_quarter)
    current = indicator_quarter.join(
        as_of,
        left_on=["kode_opd", "tahun", "triwulan"],
        right_on=["kode_opd", "tahun", "as_of_triwulan"],
    ).sort("kode_opd", "kode_indikator")
    sizes = {
        (k, t, q): n
        for k, t, q, n in agency_quarter.select(
            "kode_opd", "tahun", "triwulan", "n_with_indicators"
        ).iter_rows()
    }
    out: list[dict] = []
    for (kode,), part in current.group_by("kode_opd", maintain_order=True):
        first = part.row(0, named=True)
        q = first["triwulan"]
        rows = [_indicator_row(r, q, min_group_size) for r in part.iter_rows(named=True)]
        n = sizes.get((kode, first["tahun"], q))
        out.append(_agency_row(_base(first, q), rows, n, min_group_size))
        out += rows
    return out


def training_outlook(
    as_of: pl.DataFrame,
    agencies: pl.DataFrame,
    employees: pl.DataFrame,
    training: pl.DataFrame,
    min_group_size: int,
) -> list[dict]:
    """share_20jp rows per agency as of its quarter: `agencies` (kode_opd, nama_opd, pemda),
    `employees` int_employee_agency_year, `training` int_training_employee_year."""
    names = {r["kode_opd"]: r for r in agencies.iter_rows(named=True)}
    out = []
    for kode, tahun, q in as_of.iter_rows():
        jp = (
            employees.filter((pl.col("kode_opd") == kode) & (pl.col("tahun") == tahun))
            .join(training, on=["employee_key", "tahun"], how="left")
            .select(pl.col(f"jp_ytd_q{q}").fill_null(0.0).cast(pl.Float64))
            .to_series()
        )
        base = {
            **_base({"kode_opd": kode, "tahun": tahun, **names.get(kode, {})}, q),
            "scope": AGENCY,
            "measure": SHARE_20JP,
            "method": "laju_jp",
            "n": jp.len(),
        }
        no_training = training.filter(pl.col("tahun") == tahun).is_empty()
        if no_training and jp.len() >= min_group_size:
            # no training export for the year at all: missing input, not "nobody trained"
            reason = "Tidak ada data pelatihan untuk tahun ini: laju JP tidak dapat dinilai"
            out.append({**base, "status": NOT_ASSESSABLE, "reason": reason})
            continue
        out.append(_share_row(base, jp.to_list(), q, min_group_size))
    return out


def _share_row(base: dict, jp: list[float], q: int, min_group_size: int) -> dict:
    n = len(jp)
    if n == 0:
        return {**base, "status": NOT_ASSESSABLE, "reason": "Tidak ada pegawai pada tahun ini"}
    if n < min_group_size:
        reason = f"Kurang dari {min_group_size} pegawai: disembunyikan"
        return {**base, "n": None, "status": SUPPRESSED, "reason": reason}
    reached = sum(v * 4 / q >= JP_RIGHT for v in jp)
    low, high = proportion_confint(reached, n, alpha=1 - CONFIDENCE, method="wilson")
    below = [JP_RIGHT - v for v in jp if v < JP_RIGHT]
    pace: float | None = sum(below) / len(below) / (4 - q) if below else 0.0
    reason = None
    if 0 < len(below) < min_group_size:
        pace = None
        reason = (
            "Laju yang dibutuhkan disembunyikan: kurang dari"
            f" {min_group_size} pegawai di bawah 20 JP"
        )
    return {
        **base,
        "value_to_date": sum(v >= JP_RIGHT for v in jp) / n,
        "projected": reached / n,
        "projected_low": float(low),
        "projected_high": float(high),
        "target": 1.0,
        "required_pace": pace,
        "required_pace_kind": "jp_per_pegawai_per_triwulan",
        "status": PROJECTED,
        "reason": reason,
    }


def build_outlook(
    indicator_quarter: pl.DataFrame,
    agency_quarter: pl.DataFrame,
    employees: pl.DataFrame,
    training: pl.DataFrame,
    min_group_size: int,
) -> pl.DataFrame:
    """analysis.year_end_outlook (OUTLOOK_SCHEMA)."""
    rows = indicator_outlook(indicator_quarter, agency_quarter, min_group_size)
    agencies = indicator_quarter.select("kode_opd", "nama_opd", "pemda").unique("kode_opd")
    rows += training_outlook(
        as_of_quarters(indicator_quarter), agencies, employees, training, min_group_size
    )
    frame = pl.DataFrame(
        [{c: r.get(c) for c in OUTLOOK_SCHEMA} for r in rows], schema=OUTLOOK_SCHEMA, orient="row"
    )
    suppressed = pl.col("status") == SUPPRESSED
    frame = frame.with_columns(
        [pl.when(suppressed).then(None).otherwise(pl.col(c)).alias(c) for c in [*NUMBERS, "n"]]
    )
    return frame.sort(
        "kode_opd", pl.col("scope") != AGENCY, "measure", "kode_indikator", nulls_last=False
    )


def small_groups_published(outlook: pl.DataFrame, min_group_size: int) -> int:
    """Rows publishing a number of a group under min_group_size, or of a suppressed row."""
    small = pl.col("n").is_not_null() & (pl.col("n") > 0) & (pl.col("n") < min_group_size)
    hidden = (pl.col("status") == SUPPRESSED) & pl.any_horizontal(
        [pl.col(c).is_not_null() for c in [*NUMBERS, "n"]]
    )
    return outlook.filter(small | hidden).height
