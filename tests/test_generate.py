"""Generator tests: determinism, variants on disk, and truth.json against an independent recount.

The recount re-implements the contract's quarantine rules here, deliberately without importing
the generator's or the ingestion's code, so a wrong count on either side shows up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import time
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from pipelines.generate import generate_dataset

RATINGS = {"DI ATAS EKSPEKTASI": 0, "SESUAI EKSPEKTASI": 1, "DI BAWAH EKSPEKTASI": 2}
MATRIX = {  # (hasil, perilaku) -> predikat, PermenPANRB 6/2022 (docs/domain.md, Rating matrix)
    (0, 2): "Kurang/Misconduct", (0, 1): "Baik", (0, 0): "Sangat Baik",
    (1, 2): "Kurang/Misconduct", (1, 1): "Baik", (1, 0): "Baik",
    (2, 2): "Sangat Kurang", (2, 1): "Butuh Perbaikan", (2, 0): "Butuh Perbaikan",
}  # fmt: skip
PREDIKAT = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang")
PERIODE = {
    "tw i": "TW I", "tw ii": "TW II", "tw iii": "TW III", "tw iv": "TW IV", "tahunan": "TAHUNAN",
    "triwulan i": "TW I", "triwulan ii": "TW II", "triwulan iii": "TW III",
    "triwulan iv": "TW IV", "tw iv-akhir": "TW IV", "tw 1": "TW I", "tw 2": "TW II",
    "tw 3": "TW III", "tw 4": "TW IV",
}  # fmt: skip
SMALL = 300


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("gen")
    truth = generate_dataset(root, employees=SMALL, seed=11)
    return root, truth


@pytest.fixture(scope="module")
def clean_effects_off(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("gen_off")
    return root, generate_dataset(root, employees=200, seed=5, effects=False)


# ---------------------------------------------------------------- independent file reading
def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def read_any(path: Path) -> pl.DataFrame:
    """All cells as text, header names cleaned, trailing empty columns and rows removed."""
    if path.suffix == ".xlsx":
        sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string")
        df = sheet.to_polars()
        # Date cells come back null as text: re-read those columns with their own type.
        typed = fastexcel.read_excel(path).load_sheet(0).to_polars()
        for c in df.columns:
            if typed[c].dtype in (pl.Datetime, pl.Date):
                df = df.with_columns(typed[c].dt.strftime("%Y-%m-%d").alias(c))
    else:
        text = decode(path.read_bytes())
        header = text.split("\n", 1)[0]
        sep = ";" if header.count(";") > header.count(",") else ","
        df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False)
    df = df.rename({c: c.strip().lower() for c in df.columns})
    df = df.select([c for c in df.columns if c and not c.startswith("_duplicated")])
    df = df.select([c for c in df.columns if not re.fullmatch(r"column_\d+", c)])
    return df.filter(~pl.all_horizontal(pl.all().is_null()))


def files_of(root: Path, source: str) -> list[Path]:
    return sorted((root / "raw" / source).iterdir())


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    if re.fullmatch(r"\d{5}(\.0)?", value):
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(value)))
    return None


def number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        return None


def nip_ok(nip: str | None) -> bool:
    """Perka BKN 22/2007 layout, plus the PPPK layout (appointment month '21')."""
    if nip is None or not re.fullmatch(r"\d{18}", nip):
        return False
    try:
        birth = dt.datetime.strptime(nip[:8], "%Y%m%d").date()
    except ValueError:
        return False
    year, month = int(nip[8:12]), int(nip[12:14])
    if month != 21 and not 1 <= month <= 12:
        return False
    if month != 21 and (year, month) < (birth.year + 18, birth.month):
        return False
    return nip[14] in "12" and nip[15:] != "000"


# ---------------------------------------------------------------- tests
def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    def digests(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    generate_dataset(tmp_path / "a", employees=120, seed=3)
    generate_dataset(tmp_path / "b", employees=120, seed=3)
    generate_dataset(tmp_path / "c", employees=120, seed=4)
    a, b, c = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert a == b
    own = {k for k in a if not k.startswith("raw/siasn/") and k != "reference/pegawai.csv"}
    assert len(own) == 27  # 22 raw files, 4 reference files, truth.json (SIASN: its own test)
    assert (
        a["raw/assessments/assessments_mna_2023.csv"]
        != c["raw/assessments/assessments_mna_2023.csv"]
    )


def test_every_variant_is_on_disk(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    raws = {p.name: p.read_bytes() for p in (root / "raw").rglob("*.csv")}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raws.values())
    cp1252 = []
    for name, b in raws.items():
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            cp1252.append(name)
            text = b.decode("cp1252")
            assert text.splitlines()[0].count(";") > 5
    assert {"assessments_mna_2024.csv", "assessments_psp_2025.csv"} <= set(cp1252)
    assert any(ch in raws["assessments_mna_2024.csv"].decode("cp1252") for ch in "’é")
    assert re.search(r";\d+,\d+;", raws["assessments_mna_2024.csv"].decode("cp1252"))
    first = {n: b.decode("cp1252").splitlines()[1] for n, b in raws.items()}
    assert re.search(r"\b\d\d/\d\d/20\d\d\b", first["surveys_mna_2023.csv"])
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", first["training_psp_2023.csv"])
    assert re.search(r",4[5-6]\d\d\d,", first["surveys_mna_2025.csv"])  # Excel serial
    assert raws["assessments_psp_2023.csv"].startswith(b" NIP ,Nama  ,")
    tail = raws["assessments_psp_2024.csv"].decode().splitlines()
    # PSP files carry aspek, arah, jenis_agregasi: 24 columns, then the two empty ones.
    assert tail[-1] == "," * 25 and tail[0].endswith(",,")
    xlsx = sorted((root / "raw").rglob("*.xlsx"))
    assert [p.name for p in xlsx] == [
        "assessments_psp_bkpsdm_2024.xlsx",
        "surveys_psp_disdukcapil_2023.xlsx",
        "training_psp_dinkes_2024.xlsx",
    ]
    training = fastexcel.read_excel(xlsx[2]).load_sheet(0).to_polars()
    assert training["tanggal_mulai"].dtype in (pl.Datetime("ms"), pl.Datetime("us"), pl.Date)
    surveys = fastexcel.read_excel(xlsx[1]).load_sheet(0).to_polars()
    assert surveys["tanggal"].dtype == pl.Float64 and surveys["tanggal"].min() > 44_000


def test_rows_per_file_match_truth(dataset: tuple[Path, dict]) -> None:
    root, truth = dataset
    for entry in truth["files"]:
        assert read_any(root / entry["path"]).height == entry["rows"], entry["path"]
    for source, counts in truth["sources"].items():
        rows = sum(f["rows"] for f in truth["files"] if f["source"] == source)
        assert counts["rows_written"] == rows
        assert counts["rejected_rows"] == sum(counts["bad_rows"].values())
        assert counts["loaded_rows"] == rows - counts["rejected_rows"]
    assert truth["sources"]["assessments"]["rows_written"] == SMALL * 3 * 5 * 5 + 100


def _agencies(root: Path) -> set[str]:
    return set(pl.read_csv(root / "reference" / "agencies.csv")["kode_opd"])


def assessment_rows(root: Path) -> pl.DataFrame:
    frames = []
    for path in files_of(root, "assessments"):
        df = read_any(path).with_columns(
            pl.lit(path.name).alias("file"), pl.int_range(pl.len()).alias("row")
        )
        frames.append(df)
    return pl.concat(frames, how="diagonal")  # only PSP files have aspek, arah, jenis_agregasi


def assessment_rejected(df: pl.DataFrame, agencies: set[str]) -> pl.Series:
    required = ["nip", "kode_opd", "tahun", "periode", "kode_indikator", "target", "realisasi",
                "rating_hasil_kerja", "rating_perilaku", "predikat"]  # fmt: skip
    bad = []
    for r in df.iter_rows(named=True):
        realisasi = number(r["realisasi"])
        bad.append(
            any(r[c] is None or r[c].strip() == "" for c in required)
            or not nip_ok(r["nip"])
            or r["kode_opd"] not in agencies
            or r["rating_hasil_kerja"].upper() not in RATINGS
            or r["rating_perilaku"].upper() not in RATINGS
            or r["predikat"] not in PREDIKAT
            or realisasi is None
            or realisasi < 0
            or (number(r["target"]) or 0) <= 0
        )
    return pl.Series(bad)


def test_assessment_truth_matches_recount(dataset: tuple[Path, dict]) -> None:
    root, truth = dataset
    t = truth["sources"]["assessments"]
    df = assessment_rows(root)
    rejected = assessment_rejected(df, _agencies(root))
    assert int(rejected.sum()) == t["rejected_rows"]
    for f in truth["files"]:
        if f["source"] == "assessments":
            name = f["path"].rsplit("/", 1)[1]
            assert int(rejected.filter(df["file"] == name).sum()) == f["rejected_rows"]
    sci = df["nip"].str.contains(r"E\+17$") | df["nip"].str.contains(r"0{12}$")
    assert int(sci.sum()) == t["bad_rows"]["nip_scientific"]
    assert int(df["kode_opd"].str.ends_with("-DISPAR").sum()) == t["bad_rows"]["unknown_agency"]
    assert min(t["bad_rows"].values()) >= 3

    ok = df.filter(~rejected).with_columns(
        pl.col("periode").str.to_lowercase().replace_strict(PERIODE).alias("periode"),
        pl.col("rating_hasil_kerja").str.to_uppercase().replace_strict(RATINGS).alias("h"),
        pl.col("rating_perilaku").str.to_uppercase().replace_strict(RATINGS).alias("b"),
    )
    assert all(nip_ok(n) for n in ok["nip"].unique())
    assert ok["nip"].str.slice(12, 2).eq("21").any(), "some PPPK employees"

    # Re-submission: employee-periods in both the base and the later-sorting revisi file.
    key = ["nip", "tahun", "periode"]
    revisi = ok.filter(pl.col("file").str.contains("_revisi")).select(key).unique()
    base = ok.filter(~pl.col("file").str.contains("_revisi")).join(revisi, on=key)
    assert base.height == t["superseded_rows"] == 100
    assert revisi.height == t["superseded_employee_periods"] == 20

    expected = [MATRIX[(h, b)] for h, b in zip(ok["h"], ok["b"], strict=True)]
    mismatch = ok.filter(pl.Series(expected) != ok["predikat"])
    assert mismatch.height == t["predikat_mismatch_rows"] > 0
    assert mismatch.select(key).unique().height == t["predikat_mismatch_employee_periods"]
    conflicts = ok.group_by(key).agg(
        (pl.col("golongan").n_unique() > 1) | (pl.col("jabatan").n_unique() > 1)
    )
    assert int(conflicts["golongan"].sum()) == t["employee_field_conflict_employee_periods"] > 0


def test_survey_and_training_truth_match_recount(dataset: tuple[Path, dict]) -> None:
    root, truth = dataset
    agencies = _agencies(root)
    rejected = invalid_answers = 0
    for path in files_of(root, "surveys"):
        for r in read_any(path).iter_rows(named=True):
            bad = (
                not r["id_responden"]
                or parse_date(r["tanggal"]) is None
                or r["kode_opd"] not in agencies
                or not r["unit_layanan"]
            )
            rejected += bad
            if not bad:
                answers = [number(r[f"u{i}"]) for i in range(1, 10)]
                invalid_answers += sum(a is not None and not 1 <= a <= 4 for a in answers)
    s = truth["sources"]["surveys"]
    assert rejected == s["rejected_rows"]
    assert invalid_answers == s["survey_invalid_answers"] > 0

    rejected = 0
    jp_per_nip: dict[tuple[str, int], float] = {}
    for path in files_of(root, "training"):
        for r in read_any(path).iter_rows(named=True):
            start, end, jp = (
                parse_date(r["tanggal_mulai"]),
                parse_date(r["tanggal_selesai"]),
                (number(r["jp"])),
            )
            bad = (
                not nip_ok(r["nip"])
                or start is None
                or end is None
                or end < start
                or jp is None
                or jp <= 0
                or not r["nama_pelatihan"]
                or r["jenis"] not in ("klasikal", "nonklasikal")
            )
            rejected += bad
            if not bad:
                assert start.year == end.year
                jp_per_nip[r["nip"], start.year] = jp_per_nip.get((r["nip"], start.year), 0) + jp
    t = truth["sources"]["training"]
    assert rejected == t["rejected_rows"]
    reached = sum(v >= 20 for v in jp_per_nip.values()) / (SMALL * 3)
    assert 0.4 <= reached <= 0.7


def curve_ok(counts: dict[str, int], org: str) -> bool:
    n = sum(counts.values())
    s = {k: counts.get(k, 0) / n for k in PREDIKAT}
    sb, b, bp, km, sk = (s[k] for k in PREDIKAT)
    return {
        "Istimewa": 0.5 < sb <= 0.7,
        "Baik": 0.5 < b <= 0.7 and (bp + km) > 0,
        "Butuh Perbaikan": bp >= 0.6 and sb <= 0.1,
        "Kurang": km >= 0.6 and bp >= 0.1 and sb <= 0.1,
        "Sangat Kurang": sk >= 0.6 and km + bp >= 0.1 and sb == 0,
    }[org]


def agency_year_predikat(root: Path) -> pl.DataFrame:
    df = assessment_rows(root)
    ok = df.filter(~assessment_rejected(df, _agencies(root)))
    return ok.group_by("nip", "kode_opd", "tahun", "periode").agg(pl.col("predikat").first())


def test_without_effects_every_agency_year_meets_its_curve(
    clean_effects_off: tuple[Path, dict],
) -> None:
    root, truth = clean_effects_off
    assert truth["effects"] == []
    eps = agency_year_predikat(root)
    org = pl.read_csv(root / "reference" / "predikat_organisasi.csv", schema_overrides={
        "tahun": pl.String})  # fmt: skip
    assert set(org["predikat"]) >= {"Baik", "Istimewa", "Butuh Perbaikan", "Kurang"}
    checked = 0
    for (kode, tahun, predikat), group in eps.join(org, on=["kode_opd", "tahun"]).group_by(
        "kode_opd", "tahun", "predikat_right"
    ):
        counts = dict(group["predikat"].value_counts().iter_rows())
        assert curve_ok(counts, predikat), (kode, tahun, counts)
        checked += 1
    assert checked == 12 * 3


def test_without_effects_no_indicator_is_easier_to_meet(
    clean_effects_off: tuple[Path, dict],
) -> None:
    """Effect-free data plant no indicator-difficulty effect. Rounded to the nearest whole
    unit, a count with a quarterly target of 1-6 (4-24 reports a year) was met - mean
    capaian over the year's periods >= 1, what analysis.difficulty tests - by 33-71% of
    employee-years against about 22% on every other indicator, and indicator_difficulty
    flagged 96 of 334 rows on `generate --no-effects`. Now every indicator's share meeting
    target follows the same law: the small counts within a few points of the rest."""
    root, truth = clean_effects_off
    df = assessment_rows(root)
    ok = df.filter(~assessment_rejected(df, _agencies(root)) & ~df["file"].str.contains("revisi"))
    lower = [k for k, v in truth["indicators"].items() if v["arah"] == "turun"]
    small = [
        k for k, v in truth["indicators"].items()
        if v["jenis_agregasi"] == "jumlah" and v["satuan"] in ("laporan", "dokumen", "kegiatan")
    ]  # fmt: skip
    values = {c: [number(x) for x in ok[c]] for c in ("target", "realisasi")}
    ratio = pl.Series(values["realisasi"]) / pl.Series(values["target"])
    capaian = ok.select("nip", "tahun", "kode_indikator").with_columns(
        capaian=pl.when(pl.col("kode_indikator").is_in(lower))
        .then((2 - ratio).clip(0))
        .otherwise(ratio)
    )
    met = (
        capaian.group_by("nip", "tahun", "kode_indikator")
        .agg(met=pl.col("capaian").mean() >= 1 - 1e-9)
        .with_columns(small=pl.col("kode_indikator").is_in(small))
    )
    share = dict(met.group_by("small").agg(pl.col("met").mean()).iter_rows())
    assert met.filter(pl.col("small")).height >= 400
    assert 0.1 < share[False] < 0.35
    assert abs(share[True] - share[False]) < 0.06, share


def test_planted_effects_are_visible(dataset: tuple[Path, dict]) -> None:
    root, truth = dataset
    effects = {e["kind"]: e for e in truth["effects"]}
    assert set(effects) == {"lenient_rater", "group_disparity", "curve_break", "satisfaction_trend"}
    df = assessment_rows(root)
    ok = df.filter(~assessment_rejected(df, _agencies(root)))
    rank = pl.col("predikat").replace_strict({p: i for i, p in enumerate(PREDIKAT)})

    lenient = effects["lenient_rater"]
    agency = ok.filter(pl.col("kode_opd") == lenient["kode_opd"]).with_columns(rank.alias("r"))
    ratees = agency.filter(pl.col("nip_penilai") == lenient["nip_penilai"])["r"].mean()
    others = agency.filter(pl.col("nip_penilai") != lenient["nip_penilai"])["r"].mean()
    assert ratees < others - 0.5  # lower rank = better predikat

    gap = effects["group_disparity"]
    ind = ok.filter(
        (pl.col("kode_opd") == gap["kode_opd"])
        & (pl.col("kode_indikator") == gap["kode_indikator"])
    ).with_columns(
        (100 * pl.col("realisasi").str.replace(",", ".").cast(pl.Float64)
         / pl.col("target").str.replace(",", ".").cast(pl.Float64)).alias("ach"),
        pl.col("nip").str.slice(14, 1).alias("g"),
    )  # fmt: skip
    means = dict(ind.group_by("g").agg(pl.col("ach").mean()).iter_rows())
    assert means["1"] - means["2"] > 10

    brk = effects["curve_break"]
    eps = agency_year_predikat(root).filter(
        (pl.col("kode_opd") == brk["kode_opd"]) & (pl.col("tahun") == str(brk["tahun"]))
    )
    assert not curve_ok(dict(eps["predikat"].value_counts().iter_rows()), "Baik")

    trend = effects["satisfaction_trend"]
    elements = [f"u{i}" for i in range(1, 10)]
    frames = [
        read_any(p).select("tanggal", "unit_layanan", *elements) for p in files_of(root, "surveys")
    ]
    unit = pl.concat(frames).filter(pl.col("unit_layanan") == trend["unit_layanan"])
    quarter = [
        d.year * 4 + (d.month - 1) // 3 if d else None for d in map(parse_date, unit["tanggal"])
    ]
    answers = unit.select(pl.col(elements).cast(pl.Float64)).with_columns(
        pl.when(pl.col(e).is_between(1, 4)).then(pl.col(e)) for e in elements
    )
    mean = answers.with_columns(pl.Series("q", quarter), pl.mean_horizontal(elements).alias("m"))
    series = mean.drop_nulls("q").group_by("q").agg(pl.col("m").mean()).sort("q")["m"]
    assert len(series) == 12
    assert series.head(4).mean() - series.tail(4).mean() > 0.4
    assert series[0] - series[-1] > 0.5


def test_employees_2000_runs_quickly(tmp_path: Path) -> None:
    start = time.perf_counter()
    truth = generate_dataset(tmp_path, employees=2000, seed=1)
    assert time.perf_counter() - start < 15
    assert truth["sources"]["assessments"]["rows_written"] == 2000 * 75 + 100
    assert json.loads((tmp_path / "truth.json").read_text()) == truth
