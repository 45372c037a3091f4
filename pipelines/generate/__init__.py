"""Synthetic kinerja exports with known answers: generate_dataset() writes raw files,
reference files and truth.json under a data directory.

Output is a pure function of the arguments (same arguments -> byte-identical files). Rows are
generated and written per agency-year block, so memory stays bounded from 100 to 1,000,000
employees.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.generate import indicators
from pipelines.generate.assessments import AssessmentWriter
from pipelines.generate.plan import effect_plan, org_predikat
from pipelines.generate.population import build_agencies, build_employees
from pipelines.generate.siasn import SiasnWriter
from pipelines.generate.surveys import SurveyWriter, service_population
from pipelines.generate.training import TrainingWriter
from pipelines.generate.truth import Truth

__all__ = ["generate_dataset"]


def generate_dataset(
    data_dir: Path,
    employees: int = 1500,
    seed: int = 7,
    years: tuple[int, ...] = (2023, 2024, 2025),
    errors: bool = True,
    effects: bool = True,
    siasn: bool = True,
) -> dict[str, Any]:
    """Write raw/, reference/ and truth.json under data_dir; return the truth dict.

    Indicators: one pemda's assessment files carry aspek/arah/jenis_agregasi, and
    reference/indikator.csv declares most of the rest (pipelines.generate.indicators; truth
    section 'indicators').

    Existing raw/<source>/ and reference/ folders are replaced so no stale file survives.
    siasn adds BKN SIASN records under raw/siasn/, reference/pegawai.csv and truth.json's
    'siasn' section (pipelines.generate.siasn); every other file is the same either way.
    """
    data_dir = Path(data_dir)
    years = tuple(sorted(int(y) for y in years))
    if not years:
        raise ValueError("years must not be empty")
    for sub in ("raw/assessments", "raw/surveys", "raw/training", "reference"):
        shutil.rmtree(data_dir / sub, ignore_errors=True)
        (data_dir / sub).mkdir(parents=True)
    shutil.rmtree(data_dir / "raw" / "siasn", ignore_errors=True)

    agencies = build_agencies(employees)
    plan = effect_plan(agencies, years, effects)
    truth = Truth(
        {
            "seed": seed,
            "employees": employees,
            "years": list(years),
            "errors": errors,
            "effects": effects,
        }
    )
    pemda_pos = {code: i for i, code in enumerate(dict.fromkeys(a.pemda_code for a in agencies))}
    org = {
        (a.kode_opd, y): org_predikat(a, pemda_pos[a.pemda_code], yp)
        for a in agencies
        for yp, y in enumerate(years)
    }

    assessments = AssessmentWriter(data_dir, seed, errors, plan, truth)
    training = TrainingWriter(data_dir, seed, errors, truth)
    surveys = SurveyWriter(data_dir, seed, errors, plan, truth)
    siasn_writer = SiasnWriter(data_dir, seed, errors, plan, truth, years) if siasn else None
    issued: set[int] = set()
    for agency in agencies:
        emp = build_employees(seed, agency, issued)
        pp = pemda_pos[agency.pemda_code]
        for yp, year in enumerate(years):
            assessments.agency_year(agency, pp, emp, year, yp, org[agency.kode_opd, year])
            training.agency_year(agency, pp, emp, year, yp)
            surveys.agency_year(agency, pp, year, yp, len(years))
        if siasn_writer is not None:
            siasn_writer.agency(agency, emp, {y: org[agency.kode_opd, y] for y in years})
        del emp
    assessments.close()
    training.close()
    surveys.close()
    if siasn_writer is not None:
        siasn_writer.close()

    ref = data_dir / "reference"
    agencies_df = pl.DataFrame(
        {
            "kode_opd": [a.kode_opd for a in agencies],
            "nama_opd": [a.nama_opd for a in agencies],
            "pemda": [a.pemda for a in agencies],
        }
    )
    agencies_df.write_csv(ref / "agencies.csv")
    pl.DataFrame(
        [(k, y, v) for (k, y), v in org.items()],
        schema=["kode_opd", "tahun", "predikat"],
        orient="row",
    ).write_csv(ref / "predikat_organisasi.csv")
    population = service_population(seed, agencies, years)
    population.write_csv(ref / "service_population.csv")
    declared = indicators.reference_frame(agencies)
    declared.write_csv(ref / "indikator.csv")
    truth.sections["indicators"] = indicators.truth_section(agencies)
    truth.reference = {
        "agencies": agencies_df.height,
        "predikat_organisasi": len(org),
        "service_population": population.height,
        "indikator": declared.height,
        "employees_per_agency": {a.kode_opd: a.n_employees for a in agencies},
    }
    return truth.write(data_dir / "truth.json")
