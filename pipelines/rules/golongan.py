"""Civil-servant ranks (golongan/ruang, PP 99/2000 as amended) as the dbt seed ``golongan``
lists them: I/a (rank 1) .. IV/e (rank 17). Read here once, at import; dbt joins the same
file to give int_employee_period its golongan_rank.
"""

from __future__ import annotations

from functools import cache

from pipelines.rules.seeds import read_seed

SEED = "golongan"


@cache
def seed_ranks() -> dict[str, int]:
    """golongan -> golongan_rank, lowest rank first; ValueError unless ranks are 1..n."""
    rows = sorted(read_seed(SEED), key=lambda row: int(row["golongan_rank"]))
    ranks = {row["golongan"]: int(row["golongan_rank"]) for row in rows}
    if sorted(ranks.values()) != list(range(1, len(rows) + 1)) or len(ranks) != len(rows):
        raise ValueError(f"{SEED}: golongan must be unique with ranks 1..{len(rows)}")
    return ranks


RANK: dict[str, int] = dict(seed_ranks())
ORDER: tuple[str, ...] = tuple(RANK)  # I/a .. IV/e
