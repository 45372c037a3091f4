"""The SIASN sample of the generator: deterministic, leaves every other export byte-identical,
agrees with the matrix and with the own-format assessment exports, and with truth.json.

Files are read here independently of the generator's code (keys lower-cased, numbers that
arrive as text converted), the way an ingestion would have to.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from pipelines.generate import generate_dataset

EMPLOYEES, SEED = 300, 7
MATRIX = {  # (hasil, perilaku) codes 1..3 -> kuadran code 1..5, PermenPANRB 6/2022
    (1, 3): 4, (1, 2): 2, (1, 1): 1,
    (2, 3): 4, (2, 2): 2, (2, 1): 2,
    (3, 3): 5, (3, 2): 3, (3, 1): 3,
}  # fmt: skip
KUADRAN = ("SANGAT BAIK", "BAIK", "BUTUH PERBAIKAN", "KURANG/MISCONDUCT", "SANGAT KURANG")
RATING = ("DIATAS", "SESUAI", "DIBAWAH")
PREDIKAT = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang")
PERIODE = {  # own-format periode label (lower case) -> 0..3 quarters, 4 the year
    "tw i": 0, "tw ii": 1, "tw iii": 2, "tw iv": 3, "tahunan": 4,
    "triwulan i": 0, "triwulan ii": 1, "triwulan iii": 2, "triwulan iv": 3,
    "tw iv-akhir": 3, "tw 1": 0, "tw 2": 1, "tw 3": 2, "tw 4": 3,
}  # fmt: skip
SIASN_FILES = re.compile(r"raw/siasn/|reference/pegawai\.csv$")


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("siasn")
    generate_dataset(root / "a", employees=EMPLOYEES, seed=SEED)
    generate_dataset(root / "b", employees=EMPLOYEES, seed=SEED)
    generate_dataset(root / "off", employees=EMPLOYEES, seed=SEED, siasn=False)
    return {k: root / k for k in ("a", "b", "off")}


@pytest.fixture(scope="module")
def truth(runs: dict[str, Path]) -> dict:
    return json.loads((runs["a"] / "truth.json").read_text(encoding="utf-8"))["siasn"]


NUMERIC = {
    "tahun", "hasilkinerjanilai", "perilakukerjanilai", "kuadrankinerjanilai", "periodikid",
    "bulanmulaipenilaian", "bulanselesaipenilaian", "persentase", "kuadrannilai",
}  # fmt: skip


def _normal(record: dict) -> dict:
    """Keys lower-cased; numbers that arrive as text made numbers."""
    out = {k.lower(): v for k, v in record.items()}
    return {k: int(v) if k in NUMERIC and isinstance(v, str) else v for k, v in out.items()}


def read_siasn(root: Path) -> tuple[list[dict], list[dict], list[str]]:
    """(annual records, periodic records, files that are not valid JSON), keys lower-cased."""
    annual, periodic, broken = [], [], []
    for path in sorted((root / "raw" / "siasn").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        try:
            if path.suffix == ".jsonl":
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                body = json.loads(text)
                records = body["data"] if isinstance(body, dict) else body
        except json.JSONDecodeError:
            broken.append(rel)
            continue
        target = annual if path.name.startswith("rw-skp22_") else periodic
        target.extend({**_normal(r), "_file": rel} for r in records)
    return annual, periodic, broken


def roster(root: Path) -> pl.DataFrame:
    return pl.read_csv(root / "reference" / "pegawai.csv", infer_schema=False)


def own_predikat(root: Path) -> dict[tuple[str, int, int], str]:
    """(nip, tahun, period 0..4) -> predikat from every CSV assessment export."""
    frames = []
    for path in sorted((root / "raw" / "assessments").glob("*.csv")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        sep = ";" if text.split("\n", 1)[0].count(";") > 3 else ","
        df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False)
        df = df.rename({c: c.strip().lower() for c in df.columns})
        frames.append(df.select("nip", "tahun", "periode", "predikat"))
    df = pl.concat(frames).drop_nulls()
    out: dict[tuple[str, int, int], set[str]] = {}
    for nip, tahun, periode, pred in df.iter_rows():
        key = (nip, int(tahun), PERIODE[periode.strip().lower()])
        out.setdefault(key, set()).add(pred)
    assert all(len(v) == 1 for v in out.values())
    return {k: next(iter(v)) for k, v in out.items()}


# ---------------------------------------------------------------- tests
def test_same_seed_gives_identical_siasn_files(runs: dict[str, Path]) -> None:
    a, b = digests(runs["a"]), digests(runs["b"])
    assert a == b
    assert any(p.startswith("raw/siasn/") for p in a) and "reference/pegawai.csv" in a


def test_other_exports_are_byte_identical_without_siasn(runs: dict[str, Path]) -> None:
    on, off = digests(runs["a"]), digests(runs["off"])
    assert not any(SIASN_FILES.search(p) for p in off)
    kept = {p: h for p, h in on.items() if not SIASN_FILES.search(p) and p != "truth.json"}
    assert kept == {p: h for p, h in off.items() if p != "truth.json"}
    truth_on = json.loads((runs["a"] / "truth.json").read_text(encoding="utf-8"))
    truth_off = json.loads((runs["off"] / "truth.json").read_text(encoding="utf-8"))
    assert "siasn" not in truth_off
    truth_on.pop("siasn")
    assert truth_on == truth_off


def test_roster_lists_every_employee_of_the_assessment_exports(runs: dict[str, Path]) -> None:
    people = roster(runs["a"])
    assert people.columns == [
        "nip", "pns_id", "kode_opd", "unit_kerja", "jabatan", "jenis_jabatan", "golongan",
    ]  # fmt: skip
    assert people.height == EMPLOYEES == people["nip"].n_unique() == people["pns_id"].n_unique()
    assert people["pns_id"].str.contains(r"^[0-9A-F]{32}$").all()
    # Every employee-period has 5 indicator rows x 5 periods x 3 years; a NIP mangled by a
    # planted defect appears on a single row, so >= 5 rows means a real employee.
    own = pl.concat(
        pl.read_csv(p, infer_schema=False, separator=";" if b";" in p.read_bytes()[:200] else ",",
                    encoding="utf8-lossy").rename(lambda c: c.strip().lower()).select("nip")
        for p in sorted((runs["a"] / "raw" / "assessments").glob("*.csv"))
    )  # fmt: skip
    counts = own["nip"].value_counts()
    real = set(counts.filter(pl.col("count") >= 5)["nip"])
    assert real <= set(people["nip"])
    assert len(real) > 0.95 * EMPLOYEES


def test_siasn_ids_are_internal_ids_from_the_roster(runs: dict[str, Path], truth: dict) -> None:
    annual, periodic, _ = read_siasn(runs["a"])
    ids = dict(roster(runs["a"]).select("pns_id", "nip").iter_rows())
    orphans = [r["id"] for r in annual if r["pnsdinilaiid"] not in ids]
    planted = [p["id"] for p in truth["planted"] if p["kind"] == "unknown_pns_id"]
    assert orphans == planted and len(planted) == 1
    for r in periodic:
        assert ids[r["pnsdinilaiid"]] == r["nip"] != r["pnsdinilaiid"]
    for r in annual:
        nip = re.search(r"rw-skp22_(\d{18})\.json$", r["_file"]).group(1)
        assert r["id"] in orphans or ids[r["pnsdinilaiid"]] == nip


def test_kuadran_follow_the_matrix_except_the_planted(runs: dict[str, Path], truth: dict) -> None:
    annual, periodic, _ = read_siasn(runs["a"])
    off_matrix, unknown = set(), set()
    for r in annual + periodic:
        h, b = r["hasilkinerjanilai"], r["perilakukerjanilai"]
        k = r["kuadrankinerjanilai"]
        if h not in (1, 2, 3) or b not in (1, 2, 3):
            unknown.add(r["id"])
            continue
        assert r["hasilkinerja"].startswith(RATING[h - 1])
        assert r["perilakukerja"].startswith(RATING[b - 1])
        assert r["hasilkinerja"].split()[1] in ("ESPEKTASI", "EKSPEKTASI")
        assert r.get("kuadrannilai", k) == k
        assert r.get("kuadrankinerja", KUADRAN[k - 1]) == KUADRAN[k - 1]
        if MATRIX[h, b] != k:
            off_matrix.add(r["id"])
    planted = Counter(p["kind"] for p in truth["planted"])
    ids = {kind: {p.get("id") for p in truth["planted"] if p["kind"] == kind} for kind in planted}
    assert off_matrix == ids["kuadran_mismatch"] and len(off_matrix) == 5
    assert unknown == ids["unknown_code"] and len(unknown) == 1


def test_record_counts_match_truth(runs: dict[str, Path], truth: dict) -> None:
    annual, periodic, broken = read_siasn(runs["a"])
    malformed = [p for p in truth["planted"] if p["kind"] == "malformed_json"]
    assert broken == [p["file"] for p in malformed] and len(broken) == 1
    lost = malformed[0]["records"]
    assert truth["records_written"] == {"annual": len(annual) + lost, "periodic": len(periodic)}
    assert truth["loaded_records"] == {"annual": len(annual) - 1, "periodic": len(periodic) - 1}
    assert truth["bad_records"] == {
        "annual:malformed_json": lost, "annual:unknown_pns_id": 1, "periodic:unknown_code": 1,
    }  # fmt: skip
    by_periodik = Counter(r["periodikid"] for r in periodic)
    assert truth["periodic_by_periodik"] == {
        "bulanan": by_periodik[1],
        "triwulanan": by_periodik[2],
    }
    nips = {r["nip"] for r in periodic}
    assert len(nips) == truth["employees_covered"]
    assert 0 < truth["employees_monthly"] < truth["employees_covered"] / 10
    assert truth["roster_rows"] == EMPLOYEES
    files = {f["path"]: f["records"] for f in truth["files"]}
    assert set(files) == {
        p.relative_to(runs["a"]).as_posix() for p in (runs["a"] / "raw" / "siasn").rglob("*.*")
    }


def test_ratings_agree_with_the_assessment_exports(runs: dict[str, Path]) -> None:
    annual, periodic, _ = read_siasn(runs["a"])
    own = own_predikat(runs["a"])
    nip_of = dict(roster(runs["a"]).select("pns_id", "nip").iter_rows())
    siasn: dict[tuple[str, int, int], int] = {}
    for r in annual:
        if r["pnsdinilaiid"] in nip_of:
            siasn[nip_of[r["pnsdinilaiid"]], r["tahun"], 4] = r["kuadrankinerjanilai"]
    for r in periodic:
        key = (r["nip"], r["tahun"], (r["bulanmulaipenilaian"] - 1) // 3)
        assert siasn.setdefault(key, r["kuadrankinerjanilai"]) == r["kuadrankinerjanilai"]
    assert len(siasn) > 0
    for key, kuadran in siasn.items():
        assert own[key] == PREDIKAT[kuadran - 1], key
    # Same predikat counts per year-period in both formats, for the employees covered.
    covered = {k[0] for k in siasn}
    quarters = Counter((k[1], k[2], PREDIKAT[v - 1]) for k, v in siasn.items() if k[2] < 4)
    assert quarters == Counter(
        (t, p, v) for (nip, t, p), v in own.items() if nip in covered and p < 4
    )


def test_real_export_variation_is_present(runs: dict[str, Path]) -> None:
    files = [
        p.relative_to(runs["a"]).as_posix() for p in (runs["a"] / "raw" / "siasn").rglob("*.*")
    ]
    assert any(f.endswith(".jsonl") for f in files)
    assert any(re.search(r"rw-kinerjaperiodik_.*\.json$", f) for f in files)
    raw_annual = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (runs["a"] / "raw" / "siasn").rglob("rw-skp22_*.json")
        if p.read_text(encoding="utf-8").rstrip().endswith("}")
    ]
    records = [r for body in raw_annual for r in body["data"]]
    assert all(body["code"] == 1 for body in raw_annual)
    assert any("perilakuKerjaNilai" in r for r in records)
    assert any("PerilakuKerjaNilai" in r for r in records)
    assert any(isinstance(r["tahun"], str) for r in records)
    assert any(isinstance(r["tahun"], int) for r in records)
    assert any("EKSPEKTASI" in r["hasilKinerja"] for r in records if r["hasilKinerja"])
    assert any(
        r["path"] and set(r["path"][0]) == {"dok_id", "dok_nama", "dok_uri"} for r in records
    )
    assert all(r["statusPenilai"] == "ASN" for r in records)
    golongan = {r["penilaiGolonganId"] for r in records} - {None}
    assert golongan and all(re.fullmatch(r"[1-4][1-5]", g) for g in golongan)
