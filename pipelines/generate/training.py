"""Training attendances (competency development, PP 11/2017 art. 203: 20 JP a year).

Course counts per employee are tuned so that roughly half the employees reach 20 JP a year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pipelines.exports import TRAINING_COLUMNS
from pipelines.generate import catalog, defects, variants
from pipelines.generate.population import Agency
from pipelines.generate.rng import stream
from pipelines.generate.truth import Truth
from pipelines.generate.writers import FileSet, render, take

COLUMNS = TRAINING_COLUMNS
NUMERIC = {"jp"}
DATES = {"tanggal_mulai", "tanggal_selesai"}
BLOCK_EMPLOYEES = 20_000
COURSES_PER_YEAR = (0.16, 0.30, 0.28, 0.16, 0.10)  # P(0..4 courses)


class TrainingWriter:
    def __init__(self, data_dir, seed: int, errors: bool, truth: Truth) -> None:
        self.seed, self.errors, self.truth = seed, errors, truth
        self.files = FileSet(data_dir, "training", COLUMNS, NUMERIC, DATES)

    def agency_year(
        self, agency: Agency, pemda_pos: int, emp: pl.DataFrame, year: int, year_pos: int
    ) -> None:
        n = emp.height
        kind, xp, xy, cap = variants.XLSX_TARGET["training"]
        segments = []
        start = 0
        if (agency.kind, pemda_pos, year_pos) == (kind, xp, xy):
            start = min(n, cap)
            segments.append(
                (
                    0,
                    start,
                    variants.xlsx_file("training", agency.kode_opd, year),
                    variants.XLSX_VARIANTS["training"],
                )
            )
        bulk = variants.bulk_file("training", agency.pemda_code, pemda_pos, year, year_pos)
        bulk_v = variants.bulk_variant("training", pemda_pos, year_pos)
        segments += [
            (lo, min(n, lo + BLOCK_EMPLOYEES), bulk, bulk_v)
            for lo in range(start, n, BLOCK_EMPLOYEES)
        ]
        for lo, hi, name, variant in segments:
            self._segment(agency, emp, year, lo, hi, name, variant)

    def _segment(self, agency, emp, year, lo, hi, name, variant) -> None:
        rng = stream(self.seed, "training", agency.index, year, lo)
        m = hi - lo
        k = rng.choice(len(COURSES_PER_YEAR), m, p=COURSES_PER_YEAR)
        e_idx = np.repeat(np.arange(lo, hi), k)
        n = len(e_idx)
        course = rng.integers(0, len(catalog.COURSES), n)
        jp_choices = [np.array(c[3], dtype=float) for c in catalog.COURSES]
        jp_pick = rng.integers(0, 3, n)
        jp = np.array(
            [[ch[min(j, len(ch) - 1)] for j in range(3)] for ch in jp_choices], dtype=float
        )[course, jp_pick]
        klasikal = np.array([c[1] == "klasikal" for c in catalog.COURSES])[course]
        duration = np.where(klasikal, np.ceil(jp / 8), rng.integers(1, 15, n)).astype(np.int64)
        year_days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
        first = rng.integers(0, year_days - duration + 1)
        mulai = np.datetime64(dt.date(year, 1, 1)) + first
        selesai = mulai + (duration - 1)
        bad = {kd: np.empty(0, dtype=np.int64) for kd in defects.TRAINING_KINDS}
        if self.errors:
            kinds = defects.TRAINING_KINDS
            if variant.fmt == "xlsx" or variant.date_style == "serial":
                kinds = tuple(kd for kd in kinds if kd != "impossible_date")
            bad.update(defects.pick(rng, np.ones(n, dtype=bool), defects.RATES["training"], kinds))
        idx = bad["end_before_start"]
        selesai[idx] = mulai[idx] - rng.integers(1, 6, len(idx))
        idx = bad["nonpositive_jp"]
        jp[idx] = np.where(np.arange(len(idx)) % 2, 0.0, -4.0)
        df = pl.DataFrame(
            {
                "nip": emp["nip"].gather(pl.Series(e_idx)),
                "nama_pelatihan": take([c[0] for c in catalog.COURSES], course),
                "jenis": take(["nonklasikal", "klasikal"], klasikal.astype(np.int64)),
                "penyelenggara": take([c[2] for c in catalog.COURSES], course),
                "tanggal_mulai": pl.Series(mulai).cast(pl.Date),
                "tanggal_selesai": pl.Series(selesai).cast(pl.Date),
                "jp": jp,
                "sertifikat": take(["N", "Y"], (rng.random(n) < 0.85).astype(np.int64)),
            }
        )
        out = render(df, variant)
        idx = bad["impossible_date"]
        if len(idx):
            out = defects.scatter(
                out,
                "tanggal_mulai",
                idx,
                defects.impossible_date(pl.repeat(year, len(idx), eager=True), variant.date_style),
            )
        idx = bad["nip_scientific"]
        out = defects.scatter(out, "nip", idx, defects.nip_scientific(out["nip"].gather(idx)))
        sink = self.files.sink(name, variant)
        sink.write(out, numeric_nip_rows=set(bad["nip_scientific"].tolist()))
        for kd, idx in bad.items():
            self.truth.add_bad("training", kd, len(idx))
            sink.rejected += len(idx)

    def close(self) -> None:
        self.files.close(self.truth)
