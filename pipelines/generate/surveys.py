"""SKM respondents per agency, service unit and quarter (PermenPANRB 14/2017).

The survey volume does not grow with the headcount: a service unit's respondents per quarter
(50..200) depend on its users, not on how many civil servants the region employs.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pipelines.exports import SKM_ELEMENTS, SURVEY_COLUMNS
from pipelines.generate import catalog, defects, variants
from pipelines.generate.plan import EffectPlan
from pipelines.generate.population import Agency
from pipelines.generate.rng import stream
from pipelines.generate.truth import Truth
from pipelines.generate.writers import FileSet, render

ELEMENTS = SKM_ELEMENTS
COLUMNS = SURVEY_COLUMNS
NUMERIC = {"usia", *ELEMENTS}
INVALID_ANSWER_RATE = 0.002
INVALID_ANSWERS = (0, 5, 7)


class SurveyWriter:
    def __init__(self, data_dir, seed: int, errors: bool, plan: EffectPlan, truth: Truth) -> None:
        self.seed, self.errors, self.plan, self.truth = seed, errors, plan, truth
        self.files = FileSet(data_dir, "surveys", COLUMNS, NUMERIC, {"tanggal"})
        self.n_years = 0

    def agency_year(
        self, agency: Agency, pemda_pos: int, year: int, year_pos: int, n_years: int
    ) -> None:
        rng = stream(self.seed, "surveys", agency.index, year)
        frames = []
        for u, unit in enumerate(catalog.SERVICE_UNITS[agency.kind]):
            unit_rng = stream(self.seed, "survey-unit", agency.index, u)
            base_mu = unit_rng.uniform(2.9, 3.5)
            element_mu = unit_rng.normal(0, 0.15, 9)
            for q in range(4):
                n = int(rng.integers(50, 201))
                quarter = year_pos * 4 + q  # 0 .. 4 * n_years - 1
                mu = base_mu + rng.normal(0, 0.05)
                if self.plan.trend_unit == (agency.kode_opd, unit):
                    mu = base_mu - self.plan.trend_drop * quarter / max(4 * n_years - 1, 1)
                start = dt.date(year, 3 * q + 1, 1)
                end = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
                day = rng.integers(0, (end - start).days, n)
                answers = np.clip(
                    np.rint(mu + element_mu[None, :] + rng.normal(0, 0.6, (n, 9))), 1, 4
                ).astype(np.int64)
                frame = {
                    "tanggal": pl.Series(np.datetime64(start) + day).cast(pl.Date),
                    "unit_layanan": np.full(n, unit),
                    "jenis_layanan": np.array(catalog.SERVICE_KINDS)[
                        rng.integers(0, len(catalog.SERVICE_KINDS), n)
                    ],
                    "jenis_kelamin": pl.Series(
                        np.array(["L", "P", ""])[rng.choice(3, n, p=[0.48, 0.5, 0.02])]
                    ).replace("", None),
                    "usia": rng.integers(17, 76, n),
                    "pendidikan": np.array(catalog.SURVEY_EDUCATION)[
                        rng.integers(0, len(catalog.SURVEY_EDUCATION), n)
                    ],
                    "pekerjaan": np.array(catalog.SURVEY_JOBS)[
                        rng.integers(0, len(catalog.SURVEY_JOBS), n)
                    ],
                    **{e: answers[:, i] for i, e in enumerate(ELEMENTS)},
                    "saran": pl.Series(
                        np.array(catalog.SURVEY_REMARKS + ("",) * 12)[
                            rng.integers(0, len(catalog.SURVEY_REMARKS) + 12, n)
                        ]
                    ).replace("", None),
                }
                frames.append(pl.DataFrame(frame))
                if self.plan.trend_unit == (agency.kode_opd, unit) and year_pos == 0 and q == 0:
                    self.truth.effects.append(
                        {
                            "kind": "satisfaction_trend",
                            "kode_opd": agency.kode_opd,
                            "unit_layanan": unit,
                            "direction": "lower",
                            "size": self.plan.trend_drop,
                            "detail": "latent mean answer (1..4) falls linearly by `size` from the "
                            "first to the last quarter; IKM (x25) falls ~25x that",
                        }
                    )
        df = pl.concat(frames).sort("tanggal", maintain_order=True)
        df = df.with_columns(
            (
                pl.lit(f"{agency.kode_opd}-{year}-")
                + (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(5)
            ).alias("id_responden"),
            pl.lit(agency.kode_opd).alias("kode_opd"),
        ).select(COLUMNS)
        name, variant = self._file(agency, pemda_pos, year, year_pos)
        self._write(df, agency, year, name, variant, rng)

    def _file(self, agency, pemda_pos, year, year_pos):
        kind, xp, xy, _ = variants.XLSX_TARGET["surveys"]
        if (agency.kind, pemda_pos, year_pos) == (kind, xp, xy):
            return variants.xlsx_file("surveys", agency.kode_opd, year), variants.XLSX_VARIANTS[
                "surveys"
            ]
        return (
            variants.bulk_file("surveys", agency.pemda_code, pemda_pos, year, year_pos),
            variants.bulk_variant("surveys", pemda_pos, year_pos),
        )

    def _write(self, df, agency, year, name, variant, rng) -> None:
        n = df.height
        bad = {k: np.empty(0, dtype=np.int64) for k in defects.SURVEY_KINDS}
        invalid = np.zeros((n, 9), dtype=bool)
        if self.errors:
            kinds = defects.SURVEY_KINDS
            if variant.fmt == "xlsx" or variant.date_style == "serial":
                kinds = tuple(k for k in kinds if k != "impossible_date")
            bad.update(defects.pick(rng, np.ones(n, dtype=bool), defects.RATES["surveys"], kinds))
            rejected = np.zeros(n, dtype=bool)
            for idx in bad.values():
                rejected[idx] = True
            # Out-of-range answers only in rows that load, so their count is exact.
            invalid = (rng.random((n, 9)) < INVALID_ANSWER_RATE) & ~rejected[:, None]
            values = np.array(INVALID_ANSWERS)[rng.integers(0, 3, (n, 9))]
            df = df.with_columns(
                pl.Series(e, np.where(invalid[:, i], values[:, i], df[e].to_numpy()))
                for i, e in enumerate(ELEMENTS)
            )
        out = render(df, variant)
        idx = bad["impossible_date"]
        if len(idx):
            years = pl.repeat(year, len(idx), eager=True)
            out = defects.scatter(
                out, "tanggal", idx, defects.impossible_date(years, variant.date_style)
            )
        idx = bad["unknown_agency"]
        out = defects.scatter(
            out,
            "kode_opd",
            idx,
            pl.repeat(f"{agency.pemda_code}-{defects.UNKNOWN_AGENCY_SUFFIX}", len(idx), eager=True),
        )
        idx = bad["missing_id"]
        out = defects.scatter(out, "id_responden", idx, pl.Series([None] * len(idx)))
        sink = self.files.sink(name, variant)
        sink.write(out)
        for kind, idx in bad.items():
            self.truth.add_bad("surveys", kind, len(idx))
            sink.rejected += len(idx)
        self.truth.add("surveys", "survey_invalid_answers", int(invalid.sum()))

    def close(self) -> None:
        self.files.close(self.truth)


def service_population(seed: int, agencies: list[Agency], years: tuple[int, ...]) -> pl.DataFrame:
    """Annual service users per unit: drives the Krejcie & Morgan minimum sample."""
    rows = []
    for agency in agencies:
        for u, unit in enumerate(catalog.SERVICE_UNITS[agency.kind]):
            rng = stream(seed, "service-population", agency.index, u)
            base = int(rng.integers(800, 40_000))
            for year in years:
                rows.append((agency.kode_opd, unit, year, int(base * rng.uniform(0.9, 1.15))))
    return pl.DataFrame(
        rows, schema=["kode_opd", "unit_layanan", "tahun", "populasi"], orient="row"
    )
