"""The planners' quarterly evaluation (marts.mart_agency_indicator_quarter) on the small generated
sample, against a recomputation in plain Python from the staged assessment rows and the
direction and aggregation truth.json gives each indicator (so the declarations - export
columns, reference, aspek, none - are checked to resolve as the generator meant)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.conftest import PipelineRun

QUARTER = {"TW I": 1, "TW II": 2, "TW III": 3, "TW IV": 4}
COMPARED = [
    "n_holders", "annual_target", "realisasi_tw1", "realisasi_tw2", "realisasi_tw3",
    "realisasi_tw4", "realisasi_to_date", "target_to_date", "capaian_annual", "capaian_to_date",
]  # fmt: skip


def capaian(r: float | None, t: float | None, arah: str) -> float | None:
    if r is None or not t:
        return None
    return max((2 * t - r) / t, 0.0) if arah == "turun" else r / t


def pooled(values: list[float], kind: str) -> float:
    return sum(values) if kind == "jumlah" else sum(values) / len(values)


def oracle(run: PipelineRun) -> dict[tuple, dict]:
    rules = run.truth["indicators"]
    rows = run.query(
        "select employee_key, kode_opd, tahun, periode, kode_indikator, target, realisasi"
        " from staging.stg_assessments where periode in ('TW I','TW II','TW III','TW IV','TAHUNAN')"
    ).iter_rows(named=True)
    quarters: dict[tuple, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    annual: dict[tuple, dict[str, float]] = defaultdict(dict)  # (opd, tahun, kode) -> emp -> T
    per_employee: dict[tuple, dict[int, float]] = defaultdict(dict)
    for r in rows:
        key = (r["kode_opd"], r["tahun"], r["kode_indikator"])
        if r["periode"] == "TAHUNAN":
            annual[key][r["employee_key"]] = r["target"]
        else:
            q = QUARTER[r["periode"]]
            quarters[key][q].append((r["target"], r["realisasi"]))
            per_employee[(*key, r["employee_key"])][q] = r["target"]
    last_q: dict[tuple, int] = defaultdict(int)
    for (opd, tahun, _), by_q in quarters.items():
        last_q[opd, tahun] = max(last_q[opd, tahun], *by_q)
    expected = {}
    for key, by_q in quarters.items():
        kind, arah = rules[key[2]]["jenis_agregasi"], rules[key[2]]["arah"]
        targets = []
        for (opd, tahun, kode, emp), t_by_q in per_employee.items():
            if (opd, tahun, kode) != key:
                continue
            given = annual[key].get(emp)
            if given is None:
                qs = sorted(t_by_q)
                given = 4 * sum(t_by_q.values()) / len(qs) if kind == "jumlah" else t_by_q[qs[-1]]
            targets.append(given)
        annual_target = pooled(targets, kind)
        agency = {q: (pooled([v[1] for v in vs], kind), pooled([v[0] for v in vs], kind), len(vs))
                  for q, vs in by_q.items()}  # fmt: skip
        for q in range(min(by_q), last_q[key[0], key[1]] + 1):
            seen = [k for k in sorted(agency) if k <= q]
            if kind == "jumlah":
                r_to_date = sum(agency[k][0] for k in seen)
                t_to_date = sum(agency[k][1] for k in seen)
            else:
                r_to_date, t_to_date = agency[seen[-1]][0], agency[seen[-1]][1]
            expected[(*key, q)] = {
                "n_holders": min(agency[k][2] for k in seen),
                "annual_target": annual_target,
                **{f"realisasi_tw{k}": agency[k][0] if k in seen else None for k in range(1, 5)},
                "realisasi_to_date": r_to_date,
                "target_to_date": t_to_date,
                "capaian_annual": capaian(r_to_date, annual_target, arah),
                "capaian_to_date": capaian(r_to_date, t_to_date, arah),
            }
    return expected


def test_view_matches_a_recomputation(pipeline_run: PipelineRun) -> None:
    expected = oracle(pipeline_run)
    got = {
        (r["kode_opd"], r["tahun"], r["kode_indikator"], r["triwulan"]): r
        for r in pipeline_run.query("select * from marts.mart_agency_indicator_quarter").iter_rows(
            named=True
        )
    }
    assert len(expected) > 100
    assert sorted(got) == sorted(expected)
    lower = {k for k, v in pipeline_run.truth["indicators"].items() if v["arah"] == "turun"}
    assert {r["kode_indikator"] for r in got.values() if r["arah"] == "turun"} == lower & {
        k[2] for k in got
    }
    for key, row in expected.items():
        for column in COMPARED:
            want = row[column]
            if want is None:
                assert got[key][column] is None, (key, column)
            else:
                assert got[key][column] == pytest.approx(want, rel=1e-9), (key, column)
