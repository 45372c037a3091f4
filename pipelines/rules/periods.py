"""Assessment periods (PermenPANRB 6/2022: quarterly, monthly and the annual evaluation) as
the dbt seed ``periods`` defines them; see docs/domain.md (## Quarters).

Each canonical periode has its kind (quarterly, monthly, annual), the quarter it belongs to
(``triwulan``, NULL for TAHUNAN), the month it ends in and its place among the year's
periods. The seed is read here once, at import; dbt joins the same file as ``ref('periods')``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipelines.rules.seeds import read_seed

SEED = "periods"
KINDS = ("quarterly", "annual", "monthly")


@dataclass(frozen=True)
class Period:
    periode: str
    triwulan: int | None  # quarter of the year; None for the annual period
    kind: str  # quarterly, annual or monthly
    end_month: int
    sort_order: int

    @property
    def quarter(self) -> int:
        """The quarter the period's end falls in (TAHUNAN: 4, it closes the year)."""
        return (self.end_month - 1) // 3 + 1


@cache
def seed_periods() -> tuple[Period, ...]:
    """The seed's periods by sort_order; ValueError on an unknown kind or a missing annual."""
    periods = []
    for row in read_seed(SEED):
        if row["kind"] not in KINDS:
            raise ValueError(f"{SEED}: unknown kind in {row}")
        triwulan = int(row["triwulan"]) if row["triwulan"] else None
        end_month, sort_order = int(row["end_month"]), int(row["sort_order"])
        periods.append(Period(row["periode"], triwulan, row["kind"], end_month, sort_order))
    if sum(p.kind == "annual" for p in periods) != 1:
        raise ValueError(f"{SEED}: exactly one annual period expected")
    return tuple(sorted(periods, key=lambda p: p.sort_order))


def _named(kind: str) -> tuple[str, ...]:
    return tuple(p.periode for p in seed_periods() if p.kind == kind)


BY_NAME: dict[str, Period] = {p.periode: p for p in seed_periods()}
QUARTERLY: tuple[str, ...] = _named("quarterly")  # TW I .. TW IV
(ANNUAL,) = _named("annual")  # TAHUNAN
MONTHLY: tuple[str, ...] = _named("monthly")  # BULAN 1 .. BULAN 12
# Every canonical periode, in the order validation lists them: the quarterly and annual
# periods exports normally carry, then the months.
ALL: tuple[str, ...] = (*QUARTERLY, ANNUAL, *MONTHLY)
# periode -> the quarter its rows are placed in (the quarter its end month falls in).
QUARTER_OF: dict[str, int] = {p.periode: p.quarter for p in seed_periods()}
