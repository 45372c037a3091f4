"""analysis.difficulty: paired share-meeting-target of one indicator against the others."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pipelines.analysis import findings
from pipelines.analysis.difficulty import indicator_difficulty, paired_differences

# employee -> {indicator: achievement}; all Pelaksana of OPD A in 2024
HAND = {
    "e1": {"K1": 1.1, "K2": 0.9, "K3": 1.0},
    "e2": {"K1": 1.0, "K2": 0.8, "K3": 0.7},
    "e3": {"K1": 0.95, "K2": 1.2, "K3": 1.0},
    "e4": {"K1": 1.05, "K2": 1.01},
    "e5": {"K1": 1.2, "K2": 0.5, "K3": 1.3},
    "e6": {"K1": 1.0, "K3": 0.99},
    "e7": {"K1": 1.4},  # no other indicator: holds K1, no paired difference
}


def long(
    table: dict[str, dict[str, float]], jabatan: str = "Pelaksana", opd: str = "A"
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "tahun": 2024,
                "kode_opd": opd,
                "kode_indikator": k,
                "employee_key": e,
                "achievement": a,
                "jenis_jabatan": jabatan,
            }
            for e, held in table.items()
            for k, a in held.items()
        ]
    )


def by_subject(result: pl.DataFrame) -> dict[str, dict]:
    return {r["subject"]: r for r in result.iter_rows(named=True)}


def test_hand_computed_case() -> None:
    single = long({f"s{i}": {"X1": 1.0 + i / 10} for i in range(6)}, jabatan="JPT")
    few = long({"f1": {"Y1": 1.0, "Y2": 0.5}, "f2": {"Y1": 0.2, "Y2": 1.1}}, jabatan="Pengawas")
    result = indicator_difficulty(pl.concat([long(HAND), single, few]))
    rows = by_subject(result)
    # met: e1 1,0,1  e2 1,0,0  e3 0,1,1  e4 1,1,-  e5 1,0,1  e6 1,-,0  e7 1
    expected = {
        "K1": [1 - 1 / 2, 1 - 0, 0 - 1, 1 - 1, 1 - 1 / 2, 1 - 0],
        "K2": [0 - 1, 0 - 1 / 2, 1 - 1 / 2, 1 - 1, 0 - 1],
        "K3": [1 - 1 / 2, 0 - 1 / 2, 1 - 1 / 2, 1 - 1 / 2, 0 - 1],
    }
    for indicator, d in expected.items():
        row = rows[indicator]
        oracle = stats.ttest_1samp(d, 0.0)
        interval = oracle.confidence_interval(0.95)
        assert row["effect"] == pytest.approx(np.mean(d))
        assert row["p_value"] == pytest.approx(oracle.pvalue)
        assert (row["effect_ci_low"], row["effect_ci_high"]) == pytest.approx(
            (interval.low, interval.high)
        )
        assert row["n"] == len(d) and row["n_reference"] is None
        assert row["effect_measure"] == "share_points" and row["dimension"] is None
        assert row["reference"] == "indikator lain jabatan Pelaksana"
        assert (row["family"], row["outcome"], row["kode_opd"]) == (
            "indicator",
            "share_meeting_target",
            "A",
        )
    assert rows["K1"]["effect"] == pytest.approx(1 / 3)
    assert rows["K2"]["effect"] == pytest.approx(-0.4)
    assert rows["X1"]["verdict"] == findings.NOT_ASSESSABLE
    assert rows["X1"]["reason"] == "Jabatan hanya memiliki satu indikator di instansi ini"
    for small in ("Y1", "Y2"):
        assert rows[small]["verdict"] == findings.SUPPRESSED
        assert rows[small]["n"] is None and rows[small]["effect"] is None
    judged = findings.judge(result)
    assert judged.height == result.height
    assert (
        judged.filter(pl.col("p_value").is_not_null())["verdict"]
        .is_in([findings.FINDING, findings.NO_FINDING])
        .all()
    )


def test_paired_differences_ignore_duplicates_and_nulls() -> None:
    data = long(HAND)
    noisy = pl.concat(
        [
            data,
            data.head(1),  # a repeated row is averaged into the same employee-indicator
            data.head(1).with_columns(achievement=pl.lit(None, pl.Float64)),
            data.head(1).with_columns(jenis_jabatan=pl.lit(None, pl.String)),
        ]
    )
    assert paired_differences(noisy).sort(pl.all()).equals(paired_differences(data).sort(pl.all()))
    with pytest.raises(ValueError, match="jenis_jabatan"):
        indicator_difficulty(data.drop("jenis_jabatan"))
    assert indicator_difficulty(data.clear()).height == 0


def test_no_spread_uses_sign_test() -> None:
    everyone_meets = {f"e{i}": {"K1": 1.2, "K2": 1.1} for i in range(8)}
    rows = by_subject(indicator_difficulty(long(everyone_meets)))
    assert rows["K1"]["effect"] == 0 and rows["K1"]["p_value"] == 1.0
    one_sided = {f"e{i}": {"K1": 1.2, "K2": 0.4} for i in range(10)}
    rows = by_subject(findings.judge(indicator_difficulty(long(one_sided))))
    assert rows["K1"]["effect"] == 1.0 and rows["K2"]["effect"] == -1.0
    assert rows["K1"]["p_value"] == pytest.approx(2 * 0.5**10)
    assert rows["K1"]["effect_ci_low"] is None
    assert rows["K1"]["verdict"] == rows["K2"]["verdict"] == findings.FINDING


def simulate(
    seed: int, easy: str | None = None, employees: int = 15, indicators: int = 4
) -> pl.DataFrame:
    """Two agencies x two jabatan; everyone holds most indicators of their jabatan;
    achievement = person effect + noise around the target, ``easy`` lifted by 0.25."""
    rng = np.random.default_rng(seed)
    records = []
    for opd in ("A", "B"):
        for jabatan in ("Pelaksana", "Fungsional"):
            for e in range(employees):
                person = rng.normal(0, 0.05)
                for k in range(indicators):
                    if rng.random() < 0.1:
                        continue  # not everyone holds every indicator
                    code = f"{jabatan[:3]}{k}"
                    lift = 0.25 if code == easy and opd == "A" else 0.0
                    records.append(
                        {
                            "tahun": 2024,
                            "kode_opd": opd,
                            "kode_indikator": code,
                            "employee_key": f"{opd}-{jabatan}-{e}",
                            "achievement": 1.0 + person + lift + rng.normal(0, 0.1),
                            "jenis_jabatan": jabatan,
                        }
                    )
    return pl.DataFrame(records)


def test_easier_indicator_is_flagged() -> None:
    """Pel2 of agency A lifted by 0.25: met by ~95% against ~50%. The others of that
    jabatan look slightly harder in turn (the easy one is among their 'others'), by about
    a fifth of its lift with six indicators: inside the practical band."""
    simulated = simulate(0, easy="Pel2", employees=40, indicators=6)
    judged = findings.judge(indicator_difficulty(simulated))
    flagged = judged.filter(pl.col("verdict") == findings.FINDING)
    assert flagged.select("kode_opd", "subject").rows() == [("A", "Pel2")]
    easy = flagged.row(0, named=True)
    assert easy["effect"] > 0.3 and easy["reason"].startswith("Temuan")
    assert set(judged["verdict"]) == {findings.FINDING, findings.NO_FINDING}


def test_null_simulation_rarely_finds() -> None:
    with_finding, p_values = 0, []
    for seed in range(200):
        judged = findings.judge(indicator_difficulty(simulate(seed)))
        with_finding += int((judged["verdict"] == findings.FINDING).any())
        p_values += judged["p_value"].drop_nulls().to_list()
    assert with_finding <= 10  # <= 5% of 200
    assert np.mean(np.array(p_values) < 0.05) <= 0.07
