"""Assessment export rows: employee x period x indicator, written per agency-year block.

Realisasi follow a latent achievement (percent): R = T x ach/100 for an indicator where
higher is better, R = T x (2 - ach/100) for a time or cost (arah turun), so that the
direction-aware capaian (rules.indicator.capaian) is ach/100 either way. One pemda's files
also carry each indicator's aspek, arah and jenis_agregasi (pipelines.generate.indicators).

Predikat are exact quotas per agency-period (curve-compliant unless an effect says
otherwise); ratings are drawn from the matrix cells that give that predikat, so every row
agrees with the matrix except the planted predikat_mismatch employee-periods.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.exports import ASSESSMENT_COLUMNS
from pipelines.generate import catalog, defects, indicators, variants
from pipelines.generate.curve import BROKEN_SHARES, PREDIKAT, assign_by_rank, compliant_quota
from pipelines.generate.curve import quota as plain_quota
from pipelines.generate.plan import EffectPlan
from pipelines.generate.population import Agency
from pipelines.generate.realisation import target_realisation
from pipelines.generate.rng import stream
from pipelines.generate.truth import Truth
from pipelines.generate.writers import PERIODE_LABELS, RATING_LABELS, FileSet, render, take
from pipelines.rules import predikat

COLUMNS = ASSESSMENT_COLUMNS
NUMERIC = {"tahun", "target", "realisasi", "nilai_mandiri", "nilai_atasan"}
N_PERIODS, N_INDICATORS = 5, 5
ROWS_PER_EP = N_INDICATORS
BLOCK_EMPLOYEES = 4000
MISMATCH_RATE, CONFLICT_RATE = 0.002, 0.001

# Matrix cells as (hasil, perilaku) codes into RATING_LABELS (0=DI ATAS, 1=SESUAI, 2=DI BAWAH)
# with how often each is drawn among the cells that give its predikat: the generator's
# choice; which predikat a cell gives is the seed's (pipelines.rules.predikat.MATRIX).
CELL_WEIGHTS = {
    (0, 0): 1.0,
    (0, 1): 0.3,
    (1, 1): 0.5,
    (1, 0): 0.2,
    (2, 1): 0.8,
    (2, 0): 0.2,
    (0, 2): 0.2,
    (1, 2): 0.8,
    (2, 2): 1.0,
}
# A planted predikat_mismatch row gets the first of these cells whose predikat differs from
# the exported one: (DI ATAS, DI BAWAH), else (DI ATAS, DI ATAS).
MISMATCH_CANDIDATES = ((0, 2), (0, 0))


def _cell_predikat() -> dict[tuple[int, int], int]:
    """(hasil, perilaku) codes -> predikat code, from the seed's matrix."""
    code = {label: i for i, label in enumerate(RATING_LABELS)}
    cells = {(code[h], code[b]): PREDIKAT.index(p) for (h, b), p in predikat.MATRIX.items()}
    if set(cells) != set(CELL_WEIGHTS):
        raise ValueError("CELL_WEIGHTS must weigh every cell of the predikat matrix")
    return cells


CELL_PREDIKAT = _cell_predikat()
# Predikat code -> its matrix cells with their weights.
CELLS = {
    p: tuple((cell, w) for cell, w in CELL_WEIGHTS.items() if CELL_PREDIKAT[cell] == p)
    for p in range(len(PREDIKAT))
}
# Predikat code -> (hasil, perilaku) codes of a cell the matrix maps to another predikat.
MISMATCH_CELL = np.array(
    [next(c for c in MISMATCH_CANDIDATES if CELL_PREDIKAT[c] != p) for p in range(len(PREDIKAT))],
    dtype=np.int8,
)
SCORE_RANGE = np.array([[100, 120], [85, 100], [70, 85], [60, 80], [40, 60]], dtype=float)


def lenient_rater(emp: pl.DataFrame) -> int:
    """The non-head rater with the most reports (ties: first in tree order)."""
    parent = emp["rater_idx"].to_numpy()
    counts = np.bincount(parent[parent > 0], minlength=emp.height)
    return int(np.argmax(counts))


class AssessmentWriter:
    def __init__(self, data_dir, seed: int, errors: bool, plan: EffectPlan, truth: Truth) -> None:
        self.seed, self.errors, self.plan, self.truth = seed, errors, plan, truth
        self.files = FileSet(data_dir, "assessments", COLUMNS, NUMERIC, set())
        self.revisi_done = False

    def agency_year(
        self,
        agency: Agency,
        pemda_pos: int,
        emp: pl.DataFrame,
        year: int,
        year_pos: int,
        org: str,
    ) -> None:
        rng = stream(self.seed, "assessments", agency.index, year)
        audit_rng = stream(self.seed, "assessment-audit", agency.index, year)
        n = emp.height
        latent = 0.8 * emp["ability"].to_numpy()[:, None] + 0.6 * rng.standard_normal((n, 5))

        broken = self.plan.curve_break == (agency.kode_opd, year)
        counts = plain_quota(n, BROKEN_SHARES) if broken else compliant_quota(n, org)
        pred = np.stack([assign_by_rank(latent[:, p], counts) for p in range(N_PERIODS)], axis=1)
        if broken:
            self.truth.effects.append(
                {
                    "kind": "curve_break",
                    "kode_opd": agency.kode_opd,
                    "tahun": year,
                    "predikat_organisasi": org,
                    "direction": "higher",
                    "size": float(BROKEN_SHARES[0]),
                    "detail": "Sangat Baik share 75% and no Butuh Perbaikan or Kurang/Misconduct "
                    "in every period",
                }
            )
        if self.plan.lenient_agency == agency.kode_opd:
            rater = lenient_rater(emp)
            ratees = emp["rater_idx"].to_numpy() == rater
            pred[ratees] = np.maximum(pred[ratees] - 1, 0)
            if year_pos == 0:
                self.truth.effects.append(
                    {
                        "kind": "lenient_rater",
                        "kode_opd": agency.kode_opd,
                        "nip_penilai": emp["nip"][rater],
                        "n_ratees": int(ratees.sum()),
                        "direction": "higher",
                        "size": 1,
                        "detail": "every ratee's predikat raised one category in every period",
                    }
                )

        hasil, perilaku = _ratings(rng, pred)
        lo, hi = SCORE_RANGE[pred, 0], SCORE_RANGE[pred, 1]
        atasan = np.round(lo + (hi - lo) * rng.random((n, 5)), 1)
        mandiri = np.round(np.clip(atasan + rng.normal(4, 5, (n, 5)), 0, 120), 1)
        mandiri_missing = rng.random((n, 5)) < 0.03

        ach = 95 + 7 * latent[:, :, None] + 6 * rng.standard_normal((n, 5, N_INDICATORS))
        if self.plan.disparity_agency == agency.kode_opd:
            women = emp["gender"].to_numpy() == 2
            ach[women, :, self.plan.disparity_indicator] -= self.plan.disparity_points
            if year_pos == 0:
                self.truth.effects.append(
                    {
                        "kind": "group_disparity",
                        "kode_opd": agency.kode_opd,
                        "kode_indikator": _kode(agency, self.plan.disparity_indicator),
                        "group": "gender",
                        "disadvantaged": "P (NIP gender digit 2)",
                        "metric": "achievement_pct = 100 * realisasi / target",
                        "direction": "lower",
                        "size": self.plan.disparity_points,
                        "years": "all",
                    }
                )
        ach = np.clip(ach, 0, 140)
        target, realisasi = target_realisation(
            rng, agency.kind, ach, keep_met=not self.plan.easy_counts
        )

        mismatch = np.zeros((n, 5), dtype=bool)
        conflict = np.zeros((n, 5), dtype=bool)
        if self.errors:
            mismatch = audit_rng.random((n, 5)) < MISMATCH_RATE
            conflict = (audit_rng.random((n, 5)) < CONFLICT_RATE) & ~mismatch

        ep = {
            "pred": pred,
            "hasil": hasil,
            "perilaku": perilaku,
            "atasan": atasan,
            "mandiri": np.where(mandiri_missing, np.nan, mandiri),
            "target": target,
            "realisasi": realisasi,
            "mismatch": mismatch,
            "conflict": conflict,
        }
        for lo_e, hi_e, name, variant in self._segments(agency, pemda_pos, n, year, year_pos):
            self._segment(agency, emp, year, ep, lo_e, hi_e, name, variant)

    def _segments(self, agency, pemda_pos, n, year, year_pos):
        bulk = variants.bulk_file("assessments", agency.pemda_code, pemda_pos, year, year_pos)
        bulk_v = variants.bulk_variant("assessments", pemda_pos, year_pos)
        kind, xp, xy, cap = variants.XLSX_TARGET["assessments"]
        start = 0
        if (agency.kind, pemda_pos, year_pos) == (kind, xp, xy):
            start = min(n, cap)
            yield (
                0,
                start,
                variants.xlsx_file("assessments", agency.kode_opd, year),
                (variants.XLSX_VARIANTS["assessments"]),
            )
        for lo in range(start, n, BLOCK_EMPLOYEES):
            yield lo, min(n, lo + BLOCK_EMPLOYEES), bulk, bulk_v

    def _segment(self, agency, emp, year, ep, lo, hi, name, variant) -> None:
        rng = stream(self.seed, "assessment-rows", agency.index, year, lo)
        m = hi - lo
        e_idx = np.repeat(np.arange(lo, hi), N_PERIODS * N_INDICATORS)
        p_idx = np.tile(np.repeat(np.arange(N_PERIODS), N_INDICATORS), m)
        k_idx = np.tile(np.arange(N_INDICATORS), m * N_PERIODS)
        ep_rows = (e_idx - lo) * N_PERIODS + p_idx  # employee-period id within the segment
        mismatch = ep["mismatch"][e_idx, p_idx]
        conflict = ep["conflict"][e_idx, p_idx]
        revisi = np.zeros(len(e_idx), dtype=bool)
        base = variants.bulk_file("assessments", "MNA", 0, year, 0)
        if not self.revisi_done and name == base and variant.fmt == "csv":
            chosen = rng.choice(
                m * N_PERIODS, size=min(variants.REVISI_EPS, m * N_PERIODS), replace=False
            )
            revisi = np.isin(ep_rows, chosen)
            mismatch &= ~revisi
            conflict &= ~revisi
            self.revisi_done = True

        # Mismatch: ratings that the matrix maps to another predikat than the exported one.
        pred = ep["pred"][e_idx, p_idx]
        hasil = np.where(mismatch, MISMATCH_CELL[pred, 0], ep["hasil"][e_idx, p_idx])
        perilaku = np.where(mismatch, MISMATCH_CELL[pred, 1], ep["perilaku"][e_idx, p_idx])
        catalog_rows = catalog.INDICATORS[agency.kind]
        gather = pl.Series(e_idx)
        df = pl.DataFrame(
            {
                "nip": emp["nip"].gather(gather),
                "nama": emp["nama"].gather(gather),
                "kode_opd": take([agency.kode_opd], np.zeros(len(e_idx), dtype=np.int64)),
                "nama_opd": take([agency.nama_opd], np.zeros(len(e_idx), dtype=np.int64)),
                "unit_kerja": emp["unit_kerja"].gather(gather),
                "jabatan": emp["jabatan"].gather(gather),
                "jenis_jabatan": emp["jenis_jabatan"].gather(gather),
                "golongan": emp["golongan"].gather(gather),
                "tahun": np.full(len(e_idx), year, dtype=np.int64),
                "periode": take(PERIODE_LABELS[variant.labels], p_idx),
                "kode_indikator": take([_kode(agency, k) for k in range(5)], k_idx),
                "indikator": take([i.indikator for i in catalog_rows], k_idx),
                "target": ep["target"][e_idx, p_idx, k_idx],
                "realisasi": ep["realisasi"][e_idx, p_idx, k_idx],
                "satuan": take([i.satuan for i in catalog_rows], k_idx),
                "nilai_mandiri": pl.Series(ep["mandiri"][e_idx, p_idx]).fill_nan(None),
                "nilai_atasan": ep["atasan"][e_idx, p_idx],
                "rating_hasil_kerja": _rating_text(hasil, variant.labels),
                "rating_perilaku": _rating_text(perilaku, variant.labels),
                "predikat": take(PREDIKAT, pred),
                "nip_penilai": emp["nip_penilai"].gather(gather),
            }
        )
        # Employee field conflict: the last indicator row carries another golongan or jabatan.
        odd_rows = np.flatnonzero(conflict & (k_idx == N_INDICATORS - 1))
        by_golongan = odd_rows[ep_rows[odd_rows] % 2 == 0]
        by_jabatan = odd_rows[ep_rows[odd_rows] % 2 == 1]
        shift = {
            g: catalog.GOLONGAN[i + 1 if i < 16 else 15] for i, g in enumerate(catalog.GOLONGAN)
        }
        df = defects.scatter(
            df, "golongan", by_golongan, df["golongan"].gather(by_golongan).replace_strict(shift)
        )
        df = defects.scatter(df, "jabatan", by_jabatan, "Plt. " + df["jabatan"].gather(by_jabatan))

        columns = indicators.file_columns(agency.pemda_code)
        if indicators.carries_columns(agency.pemda_code):
            spelled = indicators.spelled(agency.kind, year)
            df = df.with_columns(take(v, k_idx).alias(c) for c, v in spelled.items())
        df = df.select(columns)
        sink = self.files.sink(name, variant, columns)
        bad = {k: np.empty(0, dtype=np.int64) for k in defects.ASSESSMENT_KINDS}
        if self.errors:
            eligible = ~(revisi | mismatch | conflict)
            bad = defects.pick(
                rng, eligible, defects.RATES["assessments"], defects.ASSESSMENT_KINDS
            )
        typed = df
        df = render(df, variant)
        df = _plant(df, bad, agency)
        sink.write(df, numeric_nip_rows=set(bad["nip_scientific"].tolist()))
        for kind, idx in bad.items():
            self.truth.add_bad("assessments", kind, len(idx))
            sink.rejected += len(idx)
        self.truth.add("assessments", "predikat_mismatch_rows", int(mismatch.sum()))
        self.truth.add(
            "assessments", "predikat_mismatch_employee_periods", int(mismatch.sum()) // ROWS_PER_EP
        )
        self.truth.add("assessments", "employee_field_conflict_employee_periods", len(odd_rows))
        if revisi.any():
            self._write_revisi(typed.filter(pl.Series(revisi)), name, rng)

    def _write_revisi(self, rows: pl.DataFrame, base: str, rng: np.random.Generator) -> None:
        """Re-submit whole employee-periods with corrected realisasi in a later-sorting file."""
        factor = rng.uniform(1.03, 1.12, rows.height)
        rows = rows.with_columns(
            (pl.col("realisasi") * pl.Series(factor) + 1).round(2).alias("realisasi")
        )
        sink = self.files.sink(variants.revisi_file(base), variants.PLAIN, rows.columns)
        sink.write(render(rows, variants.PLAIN))
        self.truth.add("assessments", "superseded_rows", rows.height)
        self.truth.add("assessments", "superseded_employee_periods", rows.height // ROWS_PER_EP)

    def close(self) -> None:
        self.files.close(self.truth)


def _kode(agency: Agency, k: int) -> str:
    return indicators.kode(agency.kind, k)


def _rating_text(codes: np.ndarray, labels: str) -> pl.Series:
    text = list(RATING_LABELS)
    if labels == "triwulan":
        text = [t.title() for t in RATING_LABELS]
    return take(text, codes)


def _ratings(rng: np.random.Generator, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pick a matrix cell for each employee-period consistent with its predikat."""
    u = rng.random(pred.shape)
    hasil = np.zeros(pred.shape, dtype=np.int8)
    perilaku = np.zeros(pred.shape, dtype=np.int8)
    for code, cells in CELLS.items():
        at = pred == code
        cum = np.cumsum([prob for _, prob in cells])
        pick = np.minimum(np.searchsorted(cum, u[at], side="right"), len(cells) - 1)
        hasil[at] = np.array([h for (h, _), _ in cells])[pick]
        perilaku[at] = np.array([b for (_, b), _ in cells])[pick]
    return hasil, perilaku


def _plant(df: pl.DataFrame, bad: dict[str, np.ndarray], agency: Agency) -> pl.DataFrame:
    """Write each chosen defect into the rendered text of its row."""
    nip = df["nip"]
    df = defects.scatter(
        df, "nip", bad["nip_scientific"], defects.nip_scientific(nip.gather(bad["nip_scientific"]))
    )
    df = defects.scatter(
        df, "nip", bad["nip_truncated"], defects.nip_truncated(nip.gather(bad["nip_truncated"]))
    )
    df = defects.scatter(
        df,
        "nip",
        bad["nip_impossible_date"],
        defects.nip_impossible_date(nip.gather(bad["nip_impossible_date"])),
    )
    idx = bad["unknown_agency"]
    df = defects.scatter(
        df,
        "kode_opd",
        idx,
        pl.repeat(f"{agency.pemda_code}-{defects.UNKNOWN_AGENCY_SUFFIX}", len(idx), eager=True),
    )
    idx = bad["missing_required"]
    df = defects.scatter(df, "kode_indikator", idx[::2], pl.Series([None] * len(idx[::2])))
    df = defects.scatter(df, "predikat", idx[1::2], pl.Series([None] * len(idx[1::2])))
    idx = bad["invalid_rating"]
    df = defects.scatter(
        df, "rating_hasil_kerja", idx, pl.repeat("LUAR BIASA", len(idx), eager=True)
    )
    idx = bad["negative_realisasi"]
    df = defects.scatter(df, "realisasi", idx, "-" + df["target"].gather(idx))
    return df
