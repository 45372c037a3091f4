"""Which agency gets which organisation predikat, and where the planted effects go.

Kept in one place so the truth file, the generators and the tests agree on the targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.generate.population import Agency

# Organisation predikat other than 'Baik', by (agency kode suffix, pemda position, year pos).
ORG_EXCEPTIONS = {
    ("DINKES", 0, None): "Istimewa",
    ("DISDUKCAPIL", 1, 1): "Butuh Perbaikan",
    ("DINSOS", 1, 0): "Kurang",
}


@dataclass(frozen=True)
class EffectPlan:
    lenient_agency: str | None  # kode_opd whose busiest sub-head rater is lenient
    disparity_agency: str | None  # kode_opd where women score lower on one indicator
    disparity_indicator: int  # 0-based position of the indicator in the agency's catalogue
    disparity_points: float  # achievement percentage points subtracted
    curve_break: tuple[str, int] | None  # (kode_opd, tahun) whose predikat ignore the curve
    trend_unit: tuple[str, str] | None  # (kode_opd, unit_layanan) whose satisfaction declines
    trend_drop: float  # drop of the latent mean answer (1..4 scale) from first to last quarter
    # Count realisations rounded to the nearest unit, which makes an indicator with a small
    # target (1-3 a quarter) easier to meet than its siblings: a real indicator-difficulty
    # effect of the sample, not in truth.json. Off in the effect-free data, where rounding
    # keeps each employee-year's met-target status (realisation.target_realisation).
    easy_counts: bool = True


def effect_plan(agencies: list[Agency], years: tuple[int, ...], effects: bool) -> EffectPlan:
    if not effects:
        return EffectPlan(None, None, 0, 0.0, None, None, 0.0, easy_counts=False)
    by_code = {a.kode_opd: a for a in agencies}
    assert {"PSP-DISDIK", "PSP-DINKES", "MNA-DISDIK", "MNA-DISDUKCAPIL"} <= set(by_code)
    return EffectPlan(
        lenient_agency="PSP-DISDIK",
        disparity_agency="PSP-DINKES",
        disparity_indicator=1,
        disparity_points=15.0,
        curve_break=("MNA-DISDIK", years[-1]),
        trend_unit=("MNA-DISDUKCAPIL", "Layanan KTP-el"),
        trend_drop=1.5,
    )


def org_predikat(agency: Agency, pemda_pos: int, year_pos: int) -> str:
    for (kind, pos, ypos), value in ORG_EXCEPTIONS.items():
        if agency.kind == kind and pemda_pos == pos and ypos in (None, year_pos):
            return value
    return "Baik"
