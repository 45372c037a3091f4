"""Targets and realisations of the generated assessment exports, from each employee's latent
achievement: the one place where whole units are rounded, and so where rounding could plant
an effect the analyses would (rightly) find."""

from __future__ import annotations

import numpy as np

from pipelines.generate import catalog
from pipelines.rules import indicator


def target_realisation(
    rng: np.random.Generator, kind: str, ach: np.ndarray, keep_met: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Targets and realisations (employee, period, indicator) from the latent achievement in
    percent. A quarter's target is the annual one for an indicator whose year is its latest
    value (terakhir: a percentage, a time, a cost), a quarter of it rounded up for a count
    (jumlah). A lower-is-better realisation is T x (2 - ach/100), floored at 0, so that
    capaian (2T - R)/T = ach/100. Counts and rupiah are whole; others have two decimals.

    Whole units rounded to the nearest make a small target easier to meet: with a quarterly
    target of 1 report, 0.5 to 1.4 of it rounds to 1 = met, so an indicator whose year is
    four such quarters and an annual 4 is met by two thirds of employees against about a
    fifth on the indicators with large targets (an indicator-difficulty effect planted by
    rounding alone). With ``keep_met`` (the effect-free data) whole units still round to
    the nearest, except that an employee-year whose rounded capaian would fall on the other
    side of the target than its exact one has periods rounded the other way (down when it
    would meet, up when it would not), one at a time, until it agrees: every realisation
    stays within one unit of the exact one, and whether an employee-year meets the target is
    the exact achievement's (whole_keeping_met), the same law on every indicator."""
    rows = catalog.INDICATORS[kind]
    n = ach.shape[0]
    annual = np.stack(
        [np.array(i.targets, dtype=float)[rng.integers(0, len(i.targets), n)] for i in rows],
        axis=1,
    )  # (n, indicator)
    last = np.array([i.jenis_agregasi == indicator.LAST for i in rows])
    lower = np.array([i.arah == indicator.LOWER for i in rows])
    whole = np.array([i.satuan == "rupiah" or i.jenis_agregasi == indicator.SUM for i in rows])
    quarterly = np.where(last, annual, np.ceil(annual / 4))
    target = np.where((np.arange(5) < 4)[None, :, None], quarterly[:, None, :], annual[:, None, :])
    exact = np.where(lower, np.maximum(target * (2 - ach / 100), 0), target * ach / 100)
    rounded = np.where(whole, np.round(exact, 0), np.round(exact, 2))
    if keep_met:
        units = whole_keeping_met(target, ach / 100)  # capaian x target, whole
        kept = np.where(lower, np.maximum(2 * target - units, 0), units)
        rounded = np.where(whole, kept, rounded)
    return target, rounded


def whole_keeping_met(target: np.ndarray, capaian: np.ndarray) -> np.ndarray:
    """Whole achieved units (employee, period, indicator) near target x capaian whose mean
    capaian over the periods is >= 1 exactly when the exact capaian's mean is: nearest
    units, then, where the two disagree, the period rounded up (down) by the largest share
    of its target is rounded down (up) instead, until they agree. All periods down gives
    at most the exact mean, all up at least, so at most one pass per period."""
    exact = target * capaian
    units = np.round(exact)
    met = capaian.mean(axis=1) >= 1  # (employee, indicator)
    floor, ceil = np.floor(exact), np.ceil(exact)
    for _ in range(capaian.shape[1]):
        mean = (units / target).mean(axis=1)
        down = (mean >= 1 - indicator.MET_TOLERANCE) & ~met
        up = (mean < 1 - indicator.MET_TOLERANCE) & met
        if not (down.any() or up.any()):
            break
        for wrong, bound, sign in ((down, floor, 1.0), (up, ceil, -1.0)):
            room = sign * (units - bound) / target  # what rounding the other way moves
            pick = np.argmax(room, axis=1)[:, None, :]  # (employee, 1, indicator)
            at = np.zeros(units.shape, dtype=bool)
            np.put_along_axis(at, pick, True, axis=1)
            units = np.where(at & wrong[:, None, :], bound, units)
    return units
