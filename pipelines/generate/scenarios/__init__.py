"""Three fairness-audit scenarios with known answers, as frames and as export files.

Evaluators check the fairness audit against data where they know what is planted:

- ``quarterly_gap``: quarterly periods only (no TAHUNAN), women in one agency get Sangat
  Baik far less often than men at equal achievement;
- ``lenient_rater``: one rater raises every ratee one predikat category in every period;
- ``null_ceiling``: nothing planted, about half of the employees at Sangat Baik.

``build_scenario`` returns a scenario as in-memory frames shaped like the warehouse's
intermediate tables (fast unit tests of the analysis code); ``write_scenario`` writes the
same people and ratings as assessment exports plus reference files, so that
``KINERJA_DATA_DIR=<dir> make run`` runs the whole pipeline on them. Both start from the
same typed export rows (``Scenario.rows``): the frames are derived from those rows the way
dbt derives its tables, and their keys come from the pipeline's own keyed pseudonym
(``pipelines.rules.pseudonym``), so frames, files and warehouse describe the same people.
``write_scenario`` uses the data dir's pseudonym key (KINERJA_PSEUDONYM_KEY, else
``<data_dir>/.pseudonym_key``), which is what the pipeline will use on that directory: the
keys in its truth are the keys the warehouse computes, and
``build_scenario(name, seed, key=load_key(data_dir))`` gives the frames the warehouse builds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.exports import ASSESSMENT_COLUMNS
from pipelines.generate.indicators import declared_indicators
from pipelines.generate.scenarios.common import (
    DEFAULT_KEY,
    EMPLOYEE_PERIOD_SCHEMA,
    INDICATOR_YEAR_SCHEMA,
    YEARS,
    Scenario,
    make_agency,
)
from pipelines.generate.scenarios.lenient_rater import lenient_rater
from pipelines.generate.scenarios.null_ceiling import null_ceiling
from pipelines.generate.scenarios.quarterly_gap import quarterly_gap
from pipelines.generate.surveys import service_population
from pipelines.generate.variants import PLAIN
from pipelines.generate.writers import open_sink, render
from pipelines.rules.pseudonym import load_key, pseudonym

__all__ = [
    "DEFAULT_KEY",
    "EMPLOYEE_PERIOD_SCHEMA",
    "INDICATOR_YEAR_SCHEMA",
    "SCENARIOS",
    "Scenario",
    "build_scenario",
    "rater_key",
    "write_scenario",
]

SCENARIOS: dict[str, Callable[[int, bytes], Scenario]] = {
    "quarterly_gap": quarterly_gap,
    "lenient_rater": lenient_rater,
    "null_ceiling": null_ceiling,
}


# ---------------------------------------------------------------- public API


def build_scenario(name: str, seed: int = 0, key: bytes = DEFAULT_KEY) -> Scenario:
    """The scenario as warehouse-shaped frames. Pass ``key=load_key(data_dir)`` to get the
    keys the pipeline computes on a directory written by ``write_scenario``."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name](seed, key)


def rater_key(nip_penilai: str, data_dir: Path) -> str:
    """The penilai_key the pipeline computes for a rater NIP on data_dir."""
    return pseudonym(nip_penilai, load_key(Path(data_dir)))


def write_scenario(
    name: str, data_dir: Path, seed: int = 0, key: bytes | None = None
) -> dict[str, Any]:
    """Write the scenario's assessment exports and reference files under data_dir (plus
    truth.json) and return the truth, keyed with the pseudonyms the pipeline will compute.

    raw/assessments, raw/surveys, raw/training and reference/ are replaced, so no file of
    an earlier sample survives; surveys and training stay empty, and
    reference/service_population.csv is the sample generator's (the pipeline needs it).
    ``key``: the pseudonym key the pipeline will use (KINERJA_PSEUDONYM_KEY); default the
    data dir's key file.
    """
    data_dir = Path(data_dir)
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    for sub in ("raw/assessments", "raw/surveys", "raw/training", "reference"):
        shutil.rmtree(data_dir / sub, ignore_errors=True)
        (data_dir / sub).mkdir(parents=True)
    scenario = build_scenario(name, seed, key=key or load_key(data_dir))

    files = []
    rows = scenario.rows.with_columns(
        pl.col("kode_opd").str.split("-").list.first().str.to_lowercase().alias("_pemda")
    )
    for (pemda, year), part in rows.group_by("_pemda", "tahun", maintain_order=True):
        path = data_dir / "raw" / "assessments" / f"assessments_{pemda}_{year}.csv"
        sink = open_sink(path, PLAIN, ASSESSMENT_COLUMNS, set(), set())
        sink.write(render(part.select(ASSESSMENT_COLUMNS), PLAIN))
        sink.close()
        files.append({"path": path.relative_to(data_dir).as_posix(), "rows": sink.rows})

    ref = data_dir / "reference"
    scenario.agencies.write_csv(ref / "agencies.csv")
    scenario.predikat_organisasi.rename({"predikat_organisasi": "predikat"}).write_csv(
        ref / "predikat_organisasi.csv"
    )
    # No surveys, but the pipeline requires the file (and rejects a header without rows).
    agencies = [
        make_agency(i, *code.split("-", 1), 0)
        for i, code in enumerate(scenario.agencies["kode_opd"])
    ]
    service_population(seed, agencies, YEARS).write_csv(ref / "service_population.csv")
    # Every indicator declared, so the warehouse's capaian is the frames' (frames._capaian).
    declared_indicators(agencies).write_csv(ref / "indikator.csv")
    truth = {
        **scenario.truth,
        "pseudonym_key": "KINERJA_PSEUDONYM_KEY if set when written, else "
        "<data_dir>/.pseudonym_key: run the pipeline with the same key",
        "files": sorted(files, key=lambda f: f["path"]),
    }
    (data_dir / "truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return truth
