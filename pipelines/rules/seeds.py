"""The dbt seeds (``dbt_project/seeds/``): the rule tables, read where Python needs them.

dbt loads each CSV into the warehouse's ``reference`` schema; ``_seeds.yml`` declares their
columns and, for an enumerated column, its accepted values in the order the regulation
lists them (best first). The modules beside this one (``predikat``, ``periods``,
``golongan``, ``distribution_curve``) read their rules from here instead of retyping them,
so a rule is written once, in the seed, for dbt and Python alike. See docs/domain.md.
"""

from __future__ import annotations

import csv
from functools import cache
from typing import Any

import yaml

from pipelines.settings import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
PROPERTIES = SEEDS_DIR / "_seeds.yml"


def read_seed(name: str) -> list[dict[str, str]]:
    """The rows of ``<name>.csv`` as text, in file order (a fresh list on every call)."""
    with (SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@cache
def _properties() -> dict[str, Any]:
    return yaml.safe_load(PROPERTIES.read_text(encoding="utf-8"))


def accepted_values(seed: str, column: str) -> tuple[str, ...]:
    """The values ``_seeds.yml`` accepts in ``seed.column`` (its column_rules test), in the
    order it lists them."""
    for entry in _properties().get("seeds", []):
        if entry.get("name") != seed:
            continue
        for test in entry.get("data_tests") or []:
            if isinstance(test, dict) and "column_rules" in test:
                values = test["column_rules"]["arguments"].get("accepted_values", {})
                if column in values:
                    return tuple(str(v) for v in values[column])
    raise ValueError(f"{PROPERTIES}: no accepted_values declared for {seed}.{column}")
