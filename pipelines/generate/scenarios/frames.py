"""From drawn people to what a scenario hands out: typed export rows, the frames dbt would
derive from them, the distribution-curve check and the answer key.

The frames are derived from the rows (not drawn beside them) so that the in-memory frames,
the written files and the warehouse built from those files describe the same people.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from pipelines.generate import catalog, indicators
from pipelines.generate.assessments import N_INDICATORS, SCORE_RANGE, _kode, _ratings
from pipelines.generate.curve import PREDIKAT, complies
from pipelines.generate.rng import stream
from pipelines.generate.scenarios.common import (
    ANNUAL,
    EMPLOYEE_PERIOD_SCHEMA,
    INDICATOR_YEAR_SCHEMA,
    PERIOD_INFO,
    YEARS,
    Draw,
    Scenario,
)
from pipelines.generate.writers import RATING_LABELS, take
from pipelines.rules import indicator
from pipelines.rules.pseudonym import pseudonymise


def _rows(rng: np.random.Generator, draw: Draw, periods: tuple[str, ...]) -> pl.DataFrame:
    """Typed assessment export rows (employee x year x period x indicator) of one agency.

    Ratings are a matrix cell that gives the predikat; achievement follows latent
    performance (not the predikat or any group), as in the sample generator."""
    agency, people, pred = draw.agency, draw.people, draw.pred
    n, n_years, n_periods = pred.shape
    k = N_INDICATORS
    hasil, perilaku = _ratings(rng, pred)
    lo, hi = SCORE_RANGE[pred, 0], SCORE_RANGE[pred, 1]
    atasan = np.round(lo + (hi - lo) * rng.random(pred.shape), 1)
    mandiri = np.round(np.clip(atasan + rng.normal(4, 5, pred.shape), 0, 120), 1)
    ach = 0.97 + 0.06 * draw.latent[..., None] + 0.05 * rng.standard_normal((*pred.shape, k))
    ach = np.clip(ach, 0.2, 1.4)
    indicators = catalog.INDICATORS[agency.kind]
    last = np.array([i.jenis_agregasi == indicator.LAST for i in indicators])
    lower = np.array([i.arah == indicator.LOWER for i in indicators])
    annual = np.stack(
        [
            np.array(i.targets, dtype=float)[rng.integers(0, len(i.targets), (n, n_years))]
            for i in indicators
        ],
        axis=-1,
    )  # (n, years, indicator)
    quarterly = np.where(last, annual, np.ceil(annual / 4))
    is_annual = np.array([p == ANNUAL for p in periods])[None, None, :, None]
    target = np.where(is_annual, annual[:, :, None, :], quarterly[:, :, None, :])
    # Not rounded to whole units: with small quarterly targets (3 documents) rounding makes
    # an indicator easier to meet than its siblings, an indicator-difficulty effect the
    # scenarios do not plant. A lower-is-better indicator's realisation makes its capaian
    # (2T - R)/T the achievement (rules.indicator.capaian).
    realisasi = np.round(np.where(lower, target * (2 - ach), target * ach), 2)

    y_idx, e_idx, p_idx, k_idx = (a.ravel() for a in np.indices((n_years, n, n_periods, k)))
    at = (e_idx, y_idx, p_idx)
    gather = pl.Series(e_idx)
    zeros = np.zeros(len(e_idx), dtype=np.int64)
    return pl.DataFrame(
        {
            "nip": people["nip"].gather(gather),
            "nama": people["nama"].gather(gather),
            "kode_opd": take([agency.kode_opd], zeros),
            "nama_opd": take([agency.nama_opd], zeros),
            "unit_kerja": people["unit_kerja"].gather(gather),
            "jabatan": people["jabatan"].gather(gather),
            "jenis_jabatan": people["jenis_jabatan"].gather(gather),
            "golongan": people["golongan"].gather(gather),
            "tahun": np.array(YEARS, dtype=np.int64)[y_idx],
            "periode": take(periods, p_idx),
            "kode_indikator": take([_kode(agency, j) for j in range(k)], k_idx),
            "indikator": take([i.indikator for i in indicators], k_idx),
            "target": target[(*at, k_idx)],
            "realisasi": realisasi[(*at, k_idx)],
            "satuan": take([i.satuan for i in indicators], k_idx),
            "nilai_mandiri": mandiri[at],
            "nilai_atasan": atasan[at],
            "rating_hasil_kerja": take(RATING_LABELS, hasil[at]),
            "rating_perilaku": take(RATING_LABELS, perilaku[at]),
            "predikat": take(PREDIKAT, pred[at]),
            "nip_penilai": people["nip_penilai"].gather(gather),
        }
    )


def _capaian() -> pl.Expr:
    """rules.indicator.capaian of a row: R/T, or (2T - R)/T floored at 0 where lower is
    better (the scenario's reference/indikator.csv declares every indicator)."""
    arah = {
        indicators.kode(kind, k): i.arah
        for kind, rows in catalog.INDICATORS.items()
        for k, i in enumerate(rows)
    }
    code = pl.col("kode_indikator")
    lower = code.replace_strict(arah, default=indicator.HIGHER) == indicator.LOWER
    r, t = pl.col("realisasi"), pl.col("target")
    return pl.when(lower).then(((2 * t - r) / t).clip(lower_bound=0)).otherwise(r / t)


def _employee_period(rows: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """int_employee_period from export rows, the way dbt builds it (first row's employee
    fields, means over the indicator rows, gender and age band from the NIP)."""
    info = pl.DataFrame(
        {
            "periode": list(PERIOD_INFO),
            "triwulan": [v[0] for v in PERIOD_INFO.values()],
            "period_kind": [v[1] for v in PERIOD_INFO.values()],
            "end_month": [v[2] for v in PERIOD_INFO.values()],
        },
        schema_overrides={"triwulan": pl.Int32, "end_month": pl.Int32},
    )
    age = pl.col("tahun") - pl.col("nip").str.slice(0, 4).cast(pl.Int32)
    per = (
        rows.with_columns(
            _capaian().alias("achievement"),
            (pl.col("nilai_mandiri") - pl.col("nilai_atasan")).alias("gap"),
        )
        .group_by("nip", "tahun", "periode", maintain_order=True)
        .agg(
            pl.col(
                "kode_opd",
                "golongan",
                "jenis_jabatan",
                "rating_hasil_kerja",
                "rating_perilaku",
                "predikat",
                "nip_penilai",
            ).first(),
            pl.col("achievement").mean().alias("mean_achievement"),
            pl.col("gap").mean().alias("mean_self_supervisor_gap"),
        )
        .with_columns(pl.col("tahun").cast(pl.Int32))
        .join(info, on="periode", how="left")
    )
    return per.select(
        pseudonymise(per["nip"], key).alias("employee_key"),
        "tahun",
        "periode",
        "triwulan",
        "period_kind",
        pl.date(pl.col("tahun"), pl.col("end_month"), 1).dt.month_end().alias("period_end_date"),
        "kode_opd",
        "golongan",
        "jenis_jabatan",
        pl.col("nip").str.slice(14, 1).replace_strict({"1": "L", "2": "P"}).alias("gender"),
        pl.when(age < 30)
        .then(pl.lit("<30"))
        .when(age < 40)
        .then(pl.lit("30-39"))
        .when(age < 50)
        .then(pl.lit("40-49"))
        .otherwise(pl.lit("50+"))
        .alias("age_band"),
        "rating_hasil_kerja",
        "rating_perilaku",
        "predikat",
        "mean_achievement",
        "mean_self_supervisor_gap",
        pseudonymise(per["nip_penilai"], key).alias("penilai_key"),
    ).cast(EMPLOYEE_PERIOD_SCHEMA)


def _indicator_year(rows: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """int_employee_indicator_year: mean achievement over the periods of the year."""
    per = (
        rows.group_by("tahun", "kode_opd", "kode_indikator", "nip", maintain_order=True)
        .agg(_capaian().mean().alias("achievement"))
        .with_columns(pl.col("tahun").cast(pl.Int32))
    )
    return per.select(
        "tahun",
        "kode_opd",
        "kode_indikator",
        pseudonymise(per["nip"], key).alias("employee_key"),
        "achievement",
    ).cast(INDICATOR_YEAR_SCHEMA)


def _curve(
    draws: list[Draw], periods: tuple[str, ...], org: dict[tuple[str, int], str]
) -> list[dict[str, Any]]:
    """Distribution-curve compliance (docs/domain.md, ## Distribution curve) of the written
    predikat per agency-year: the annual period's (what mart_distribution_curve judges; None
    without TAHUNAN) and which periods break it."""
    out = []
    for d in draws:
        for y, year in enumerate(YEARS):
            value = org[d.agency.kode_opd, year]
            ok = {
                p: bool(complies(np.bincount(d.pred[:, y, j], minlength=len(PREDIKAT)), value))
                for j, p in enumerate(periods)
            }
            out.append(
                {
                    "kode_opd": d.agency.kode_opd,
                    "tahun": year,
                    "predikat_organisasi": value,
                    "complies_annual": ok.get(ANNUAL),
                    "noncompliant_periods": [p for p, good in ok.items() if not good],
                }
            )
    return out


def assemble(
    name: str,
    seed: int,
    key: bytes,
    periods: tuple[str, ...],
    draws: list[Draw],
    org: dict[tuple[str, int], str],
    planted_truth: Callable[[dict[str, pl.DataFrame]], dict[str, Any]],
    description: str | None,
) -> Scenario:
    """Rows from the draws, frames from the rows, truth from the frames; ``description`` is
    the scenario function's docstring, which the truth quotes to say what was planted."""
    rows = pl.concat(
        [_rows(stream(seed, f"scenario-{name}-rows", d.agency.index), d, periods) for d in draws]
    ).sort("tahun", maintain_order=True)
    employee_period = _employee_period(rows, key)
    indicator_year = _indicator_year(rows, key)
    agencies = pl.DataFrame(
        {
            "kode_opd": [d.agency.kode_opd for d in draws],
            "nama_opd": [d.agency.nama_opd for d in draws],
            "pemda": [d.agency.pemda for d in draws],
        }
    )
    predikat_organisasi = pl.DataFrame(
        [(k, y, v) for (k, y), v in org.items()],
        schema={"kode_opd": pl.String, "tahun": pl.Int32, "predikat_organisasi": pl.String},
        orient="row",
    )
    people = pl.concat([d.people for d in draws])
    employees = people.select(
        pseudonymise(people["nip"], key).alias("employee_key"),
        pseudonymise(people["nip_penilai"], key).alias("penilai_key"),
        pl.all().exclude("rater_idx"),
    )
    curve = _curve(draws, periods, org)
    truth: dict[str, Any] = {
        "scenario": name,
        "seed": seed,
        "years": list(YEARS),
        "periods": list(periods),
        "agencies": agencies.height,
        "employees": employees.height,
        "employee_periods": employee_period.height,
        "export_rows": rows.height,
        "description": " ".join((description or "").split()),
        **planted_truth({"employee_period": employee_period}),
        "curve": curve,
        "curve_noncompliant": [
            {k: c[k] for k in ("kode_opd", "tahun", "predikat_organisasi")}
            for c in curve
            if c["complies_annual"] is False
        ],
    }
    return Scenario(
        name=name,
        seed=seed,
        employee_period=employee_period,
        indicator_year=indicator_year,
        predikat_organisasi=predikat_organisasi,
        truth=truth,
        agencies=agencies,
        employees=employees,
        rows=rows,
    )
