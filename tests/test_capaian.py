"""Capaian (PermenPANRB 8/2021) and its bands (Permendagri 86/2017 criteria): the Python rule
and the dbt macros, rendered as dbt renders them and evaluated in DuckDB, agree with values
computed by hand - both directions, R = 0, T = 0, R > T, every band boundary."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import pytest

from pipelines.rules import indicator

DBT = Path(__file__).resolve().parent.parent / "dbt_project"
MACROS = (DBT / "macros" / "domain.sql").read_text()


def render(call: str) -> str:
    """The SQL a macro call renders to; ref('capaian_bands') reads the seed file itself."""
    seeds = DBT / "seeds"

    def ref(name: str) -> str:
        return f"read_csv('{seeds / f'{name}.csv'}', header = true)"

    return jinja2.Environment().from_string(MACROS + call).render(ref=ref).strip()


# (realisasi, target, arah) -> capaian by hand
CAPAIAN = [
    (80.0, 100.0, "naik", 0.8),
    (120.0, 100.0, "naik", 1.2),  # R > T: over-achievement, not capped
    (0.0, 100.0, "naik", 0.0),
    (2.0, 3.0, "turun", 4 / 3),  # 2 days against 3: (2*3 - 2)/3
    (3.0, 3.0, "turun", 1.0),
    (4.5, 3.0, "turun", 0.5),  # (6 - 4.5)/3
    (0.0, 3.0, "turun", 2.0),  # R = 0 on a lower-is-better indicator: 200%
    (7.0, 3.0, "turun", 0.0),  # (6 - 7)/3 < 0: floored at 0
    (5.0, 0.0, "naik", None),  # T = 0: no capaian
    (5.0, 0.0, "turun", None),
    (None, 10.0, "naik", None),
]


@pytest.mark.parametrize(("realisasi", "target", "arah", "expected"), CAPAIAN)
def test_capaian_by_hand(
    realisasi: float | None, target: float, arah: str, expected: float | None
) -> None:
    python = indicator.capaian(realisasi, target, arah)
    sql = render("{{ capaian('r', 't', 'a') }}")
    with duckdb.connect() as con:
        got = con.execute(
            f"select {sql} from (select ?::double as r, ?::double as t, ?::varchar as a)",
            [realisasi, target, arah],
        ).fetchone()[0]
    if expected is None:
        assert python is None and got is None
    else:
        assert python == pytest.approx(expected, abs=1e-12)
        assert got == pytest.approx(expected, abs=1e-12)


# capaian as a fraction -> band, at and around every boundary
BANDS = [
    (1.35, "Sangat Tinggi"),  # above 100%: still the top band
    (1.0, "Sangat Tinggi"),
    (0.905, "Sangat Tinggi"),  # 90.5%: between whole numbers, above 90
    (0.9000001, "Sangat Tinggi"),
    (0.9, "Tinggi"),  # 90% exactly (0.9 * 100 = 90.00000000000001 in floating point)
    (0.76, "Tinggi"),
    (0.7500001, "Tinggi"),
    (0.75, "Sedang"),
    (0.65, "Rendah"),
    (0.6500001, "Sedang"),
    (0.51, "Rendah"),
    (0.5, "Sangat Rendah"),
    (0.0, "Sangat Rendah"),
    (None, None),
]


@pytest.mark.parametrize(("fraction", "expected"), BANDS)
def test_band_boundaries(fraction: float | None, expected: str | None) -> None:
    assert indicator.band(fraction) == expected
    sql = render("{{ capaian_band('c') }}")
    with duckdb.connect() as con:
        got = con.execute(f"select {sql} from (select ?::double as c)", [fraction]).fetchone()[0]
    assert got == expected


def test_vocabulary_spellings() -> None:
    assert indicator.canonical("arah", " Lebih_Rendah  lebih baik ") == "turun"
    assert indicator.canonical("jenis_agregasi", "Kumulatif") == "jumlah"
    assert indicator.canonical("aspek", "") is None
    with pytest.raises(KeyError):
        indicator.canonical("arah", "keatas")
    assert indicator.arah_of(None, "biaya") == "turun"
    assert indicator.arah_of("naik", "waktu") == "naik"  # a declared arah wins over aspek
    assert indicator.arah_of(None, None) == "naik"
    assert math.isclose(indicator.capaian(2, 3, indicator.LOWER), 4 / 3)
