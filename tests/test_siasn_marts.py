"""SIASN records flow into the same employee-period facts and agency marts as the own assessment
exports: a warehouse built from SIASN records alone and one built from both formats for the same
employees give the same predikat counts per agency-year (hand-computed below); ratings-only
records are not assessable for the indicator measures (NULL, counted in n_with_indicators), and
an employee-period in both formats counts once, as the export, with disagreements audited."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.analysis import audit, findings, sources
from pipelines.cli.summary import source_counts
from pipelines.ingest import assessments
from tests.ingest_support import materialize_sources
from tests.test_dbt_models import assert_built, run_dbt
from tests.test_dbt_models import query as rows

E1, E2, E3, E4, E5 = (
    "198501012010011001",
    "199002022015032002",
    "198703032012011003",
    "198804042013041004",
    "199505052019031005",
)
RATER = "197905052005011005"
ROSTER = f"""nip,pns_id,kode_opd,unit_kerja,jabatan,jenis_jabatan,golongan
{E1},A1,OPD01,Bidang Umum,Analis,Pelaksana,III/a
{E2},A2,OPD01,Sekretariat,Kepala Seksi,Pengawas,III/d
{E3},A3,OPD01,Bidang Umum,Pranata Komputer,Fungsional,III/b
{E4},A4,OPD02,Bidang Lain,Analis,Pelaksana,II/c
{E5},A5,OPD02,Bidang Lain,Analis,Pelaksana,III/a
"""
ATAS, SESUAI, BAWAH = "DI ATAS EKSPEKTASI", "SESUAI EKSPEKTASI", "DI BAWAH EKSPEKTASI"
CODES = {ATAS: 1, SESUAI: 2, BAWAH: 3}
KUADRAN = {
    "Sangat Baik": 1,
    "Baik": 2,
    "Butuh Perbaikan": 3,
    "Kurang/Misconduct": 4,
    "Sangat Kurang": 5,
}
# employee -> (kode_opd, hasil kerja, perilaku, predikat) of the annual 2024 assessment
ANNUAL = {
    E1: ("OPD01", SESUAI, SESUAI, "Baik"),
    E2: ("OPD01", ATAS, ATAS, "Sangat Baik"),
    E3: ("OPD01", BAWAH, SESUAI, "Butuh Perbaikan"),
    E4: ("OPD02", SESUAI, ATAS, "Baik"),
    E5: ("OPD02", BAWAH, BAWAH, "Sangat Kurang"),
}
# Hand-computed from ANNUAL: predikat counts per agency-year (2024, TAHUNAN).
EXPECTED_YEAR = {
    "OPD01": {
        "n_assessed": 3,
        "n_sangat_baik": 1,
        "n_baik": 1,
        "n_butuh_perbaikan": 1,
        "n_kurang_misconduct": 0,
        "n_sangat_kurang": 0,
    },
    "OPD02": {
        "n_assessed": 2,
        "n_sangat_baik": 0,
        "n_baik": 1,
        "n_butuh_perbaikan": 0,
        "n_kurang_misconduct": 0,
        "n_sangat_kurang": 1,
    },
}
COUNTS = list(EXPECTED_YEAR["OPD01"])


def annual_record(nip: str, n: int) -> dict[str, object]:
    _, hasil, perilaku, predikat = ANNUAL[nip]
    return {
        "id": f"skp-{n}",
        "tahun": 2024,
        "nip": nip,
        "hasilKinerjaNilai": CODES[hasil],
        "PerilakuKerjaNilai": CODES[perilaku],
        "KuadranKinerjaNilai": KUADRAN[predikat],
        "nipNrpPenilai": RATER,
        "statusPenilai": "ASN",
    }


def periodic_record() -> dict[str, object]:
    """E1, TW II 2024, Baik (SESUAI / SESUAI)."""
    return {
        "id": "per-1",
        "tahun": "2024",
        "nip": E1,
        "periodikId": "2",
        "bulanMulaiPenilaian": "4",
        "bulanSelesaiPenilaian": "6",
        "hasilKinerjaNilai": "2",
        "perilakuKerjaNilai": "2",
        "kuadranKinerjaNilai": "2",
        "penilaiNipNrp": RATER,
        "statusPenilai": "ASN",
    }


def export_row(nip: str, periode: str, hasil: str, perilaku: str, predikat: str) -> str:
    kode_opd = ANNUAL[nip][0]
    return (
        f"{nip};Pegawai;{kode_opd};Dinas;Bidang;Analis;Pelaksana;III/a;2024;{periode};"
        f"IKI-1;Laporan;100;90;%;90;80;{hasil};{perilaku};{predikat};{RATER}"
    )


def write_folder(
    data_dir: Path,
    siasn: bool,
    export: dict[str, tuple[str, str, str]],
    revision: dict[str, object] | None = None,
) -> None:
    """Reference files, SIASN records (annual for all five + one TW II) when ``siasn``, and an
    own export with one indicator row per employee of ``export`` (nip -> ratings, predikat);
    ``revision``: one annual record re-submitted in a later file."""
    reference = data_dir / "reference"
    reference.mkdir(parents=True)
    (reference / "agencies.csv").write_text(
        "kode_opd,nama_opd,pemda\nOPD01,Dinas Satu,Kota A\nOPD02,Badan Dua,Kota A\n"
    )
    (reference / "predikat_organisasi.csv").write_text(
        "kode_opd,tahun,predikat\nOPD01,2024,Baik\nOPD02,2024,Baik\n"
    )
    (reference / "pegawai.csv").write_text(ROSTER)
    if siasn:
        folder = data_dir / "raw" / "siasn"
        folder.mkdir(parents=True)
        records = [annual_record(nip, n) for n, nip in enumerate(ANNUAL, start=1)]
        (folder / "skp22_2024.json").write_text(json.dumps({"code": 1, "data": records}))
        (folder / "periodik_2024.json").write_text(json.dumps([periodic_record()]))
        if revision:
            (folder / "skp22_2024_revisi.json").write_text(json.dumps([revision]))
    if export:
        folder = data_dir / "raw" / "assessments"
        folder.mkdir(parents=True)
        rows = [export_row(nip, "TAHUNAN", *v) for nip, v in export.items()]
        rows.append(export_row(E1, "TW II", SESUAI, SESUAI, "Baik"))
        (folder / "export_2024.csv").write_text(
            "\n".join([";".join(assessments.COLUMNS), *rows]) + "\n"
        )


def build(tmp: Path, monkeypatch: pytest.MonkeyPatch, **folder: object) -> Path:
    data_dir, warehouse = tmp / "data", tmp / "warehouse.duckdb"
    write_folder(data_dir, **folder)
    monkeypatch.setenv("KINERJA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KINERJA_PSEUDONYM_KEY", "siasn-marts-key")
    monkeypatch.setenv("KINERJA_DBT_DATABASE", str(warehouse))  # restored after the test
    monkeypatch.setenv("KINERJA_DBT_KEEP_OPEN", "False")
    assert materialize_sources(["assessments", "surveys", "training", "siasn"], warehouse).success
    result = run_dbt(["build"], warehouse)
    assert_built(result)
    return warehouse


def year_counts(warehouse: Path) -> dict[str, dict]:
    got = rows(
        warehouse,
        f"select kode_opd, {', '.join(COUNTS)}, n_indicator_rows, n_with_indicators,"
        " mean_achievement from marts.mart_agency_year where tahun = 2024 order by kode_opd",
    )
    return {r.pop("kode_opd"): r for r in got}


@pytest.fixture(scope="module")
def siasn_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        return build(tmp_path_factory.mktemp("siasn_only"), mp, siasn=True, export={})


@pytest.fixture(scope="module")
def both_formats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = {nip: v[1:] for nip, v in ANNUAL.items()}
    with pytest.MonkeyPatch.context() as mp:
        return build(tmp_path_factory.mktemp("both"), mp, siasn=True, export=export)


def test_siasn_only_counts_per_agency_year(siasn_only: Path) -> None:
    got = year_counts(siasn_only)
    assert {k: {c: v[c] for c in COUNTS} for k, v in got.items()} == EXPECTED_YEAR
    for measures in got.values():  # ratings only: not assessable, not zero
        assert measures["n_indicator_rows"] == 0 and measures["n_with_indicators"] == 0
        assert measures["mean_achievement"] is None


def test_siasn_only_employee_periods(siasn_only: Path) -> None:
    got = rows(
        siasn_only,
        "select periode, source, n_indicators, mean_achievement, mean_self_supervisor_gap,"
        " predikat, predikat_expected, predikat_matches, penilai_key is not null as rated,"
        " kode_opd, golongan from intermediate.int_employee_period order by periode, predikat",
    )
    assert len(got) == 6
    assert {r["source"] for r in got} == {"siasn"}
    assert all(r["n_indicators"] == 0 and r["mean_achievement"] is None for r in got)
    assert all(r["mean_self_supervisor_gap"] is None for r in got)
    assert all(r["predikat_matches"] and r["rated"] for r in got)
    quarter = rows(
        siasn_only,
        "select n_assessed, n_baik, n_with_indicators from marts.mart_agency_quarter"
        " where kode_opd = 'OPD01' and tahun = 2024 and triwulan = 2",
    )
    assert quarter == [{"n_assessed": 1, "n_baik": 1, "n_with_indicators": 0}]


def test_both_formats_agree_with_siasn_only(siasn_only: Path, both_formats: Path) -> None:
    got = year_counts(both_formats)
    assert {k: {c: v[c] for c in COUNTS} for k, v in got.items()} == EXPECTED_YEAR
    # each employee-period once, as the export (it carries the indicators)
    assert got["OPD01"]["n_with_indicators"] == 3 and got["OPD02"]["n_with_indicators"] == 2
    assert got["OPD01"]["mean_achievement"] == pytest.approx(0.9)
    sources = rows(
        both_formats,
        "select source, count(*) as n from intermediate.int_employee_period group by all",
    )
    assert sources == [{"source": "export", "n": 6}]
    assert rows(both_formats, "select * from audit.audit_siasn_disagreements") == []


def test_disagreement_counts_the_export_and_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E5's export says Butuh Perbaikan (DI BAWAH / SESUAI), SIASN Sangat Kurang; E4 is in
    SIASN only, re-submitted. The export's predikat counts and the pair is listed once; E4's
    later record counts and the earlier one is listed as superseded."""
    export = {nip: v[1:] for nip, v in ANNUAL.items() if nip != E4}
    export[E5] = (BAWAH, SESUAI, "Butuh Perbaikan")
    # E4's SIASN record re-submitted later: Sangat Baik (DI ATAS / DI ATAS) replaces Baik
    revision = annual_record(E4, 9) | {"hasilKinerjaNilai": 1, "KuadranKinerjaNilai": 1}
    warehouse = build(tmp_path, monkeypatch, siasn=True, export=export, revision=revision)
    opd02 = year_counts(warehouse)["OPD02"]
    assert (opd02["n_assessed"], opd02["n_sangat_baik"], opd02["n_butuh_perbaikan"]) == (2, 1, 1)
    assert opd02["n_baik"] == opd02["n_sangat_kurang"] == 0
    superseded = rows(
        warehouse,
        "select source, kode_opd, periode, kode_indikator, source_file, source_row,"
        " winning_source_file, drop_reason from audit.audit_superseded_submissions",
    )
    assert superseded == [
        {
            "source": "siasn",
            "kode_opd": "OPD02",
            "periode": "TAHUNAN",
            "kode_indikator": None,
            "source_file": "raw/siasn/skp22_2024.json",
            "source_row": 4,
            "winning_source_file": "raw/siasn/skp22_2024_revisi.json",
            "drop_reason": "superseded by a later file for the same employee-period",
        }
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {c.source: c for c in source_counts(con)}
    # the run's summary: 5 annual + 1 periodic + 1 revision read, the earlier record superseded
    assert (counts["siasn"].read, counts["siasn"].superseded, counts["siasn"].loaded) == (7, 1, 6)
    assert counts["assessments"].superseded == 0
    # E4 is ratings-only: the mean is over E5 alone
    assert (opd02["n_with_indicators"], opd02["n_indicator_rows"]) == (1, 1)
    audit = rows(
        warehouse,
        "select kode_opd, tahun, periode, predikat_export, predikat_siasn, predikat_differs,"
        " ratings_differ from audit.audit_siasn_disagreements",
    )
    assert audit == [
        {
            "kode_opd": "OPD02",
            "tahun": 2024,
            "periode": "TAHUNAN",
            "predikat_export": "Butuh Perbaikan",
            "predikat_siasn": "Sangat Kurang",
            "predikat_differs": True,
            "ratings_differ": True,
        }
    ]


def test_indicator_families_say_not_assessable_on_ratings_only_years(siasn_only: Path) -> None:
    """SIASN records alone: the indicator families have nothing to test in 2024 for either
    agency, and say so (one not_assessable row each) rather than staying silent."""
    with duckdb.connect(str(siasn_only), read_only=True) as con:
        inputs = audit.FindingInputs(
            employee_period=con.sql(
                f"select {', '.join(audit.EMPLOYEE_PERIOD_COLUMNS)}"
                " from intermediate.int_employee_period"
            ).pl(),
            indicator_year=con.sql("select * from intermediate.int_employee_indicator_year").pl(),
            predikat_organisasi=con.sql(
                "select kode_opd, tahun, predikat_organisasi from marts.mart_agency_year"
            ).pl(),
        )
    judged = audit.judged(audit.candidates(inputs, min_group_size=1))
    got = judged.filter(pl.col("family").is_in(list(audit.RATINGS_ONLY_FAMILIES)))
    assert sorted(got.select("family", "tahun", "kode_opd", "verdict").rows()) == [
        (family, 2024, opd, findings.NOT_ASSESSABLE)
        for family in sorted(audit.RATINGS_ONLY_FAMILIES)
        for opd in ("OPD01", "OPD02")
    ]
    assert set(got["reason"]) == {sources.RATINGS_ONLY_REASON}


def test_agency_year_with_any_indicator_rows_is_not_ratings_only() -> None:
    period = pl.DataFrame(
        {
            "tahun": [2024, 2024, 2024, 2025],
            "kode_opd": ["A", "A", "B", "A"],
            "n_indicators": [0, 4, 0, None],
        }
    )
    assert sources.ratings_only_agency_years(period).rows() == [(2024, "B"), (2025, "A")]
