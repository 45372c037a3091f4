"""The distribution curve (SE MenPANRB 3/2023): the share of each employee predikat an agency
may give, by its organisation predikat, as the dbt seed ``distribution_curve_rules`` holds
the bounds; see docs/domain.md (## Distribution curve).

dbt judges the warehouse with this seed (mart_distribution_curve); Python reads it here, once,
for the data generator, which must write compliant predikat. A rule compares the share of
employees in its predikat group (one predikat, or several joined by '+') with its bound.
Here the comparison is exact (count against bound x n, in integers), which the dbt macro's
1e-9 tolerance on float shares approximates.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from pipelines.rules import predikat
from pipelines.rules.seeds import read_seed

SEED = "distribution_curve_rules"
GROUP_SEPARATOR = "+"
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Rule:
    predikat_organisasi: str
    rule_id: str
    group: tuple[str, ...]  # employee predikat counted together
    operator: str
    bound: Fraction  # a share, exactly as the seed writes it

    def passed(self, count: int, n: int) -> bool:
        """Whether ``count`` of ``n`` employees (n > 0) satisfies the rule, exactly."""
        compare = _OPERATORS[self.operator]
        return compare(count * self.bound.denominator, self.bound.numerator * n)


@cache
def seed_rules() -> dict[str, tuple[Rule, ...]]:
    """Organisation predikat -> its rules in seed order; ValueError on an unknown value."""
    rules: dict[str, list[Rule]] = {p: [] for p in predikat.ORGANISATION_PREDIKATS}
    for row in read_seed(SEED):
        group = tuple(p.strip() for p in row["predikat_group"].split(GROUP_SEPARATOR))
        org = row["predikat_organisasi"]
        if org not in rules or row["operator"] not in _OPERATORS:
            raise ValueError(f"{SEED}: unknown organisation predikat or operator in {row}")
        if not set(group) <= set(predikat.ORDER):
            raise ValueError(f"{SEED}: unknown employee predikat in {row}")
        bound = Fraction(row["bound"])
        rules[org].append(Rule(org, row["rule_id"], group, row["operator"], bound))
    return {org: tuple(r) for org, r in rules.items()}


def complies(counts: Mapping[str, int], org: str) -> bool:
    """Whether employee predikat counts satisfy every rule of organisation predikat ``org``
    (False without employees); ValueError for an organisation predikat the seed lacks."""
    n = sum(counts.values())
    if n == 0:
        return False
    rules = seed_rules().get(org)
    if rules is None:
        raise ValueError(f"unknown organisation predikat {org!r}")
    return all(rule.passed(sum(counts.get(p, 0) for p in rule.group), n) for rule in rules)
