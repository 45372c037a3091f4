"""BASELINE — NOT PART OF THE PRODUCT. Never imported by pipelines/.

The peer the benchmark compares against: what an analyst at a local government would write
in plain pandas to get a quarterly table per agency out of the same exports. Read every
file with pandas.read_csv / read_excel (trying encodings until one works), tidy the headers,
strip text, read decimal commas, map the period spellings, drop rows with an unusable NIP,
year, period or number, keep the later file for re-submitted employee-periods, then group by
agency and quarter: employees assessed, predikat shares, mean achievement, IKM from the
surveys and training hours.

It is written the ordinary way (vectorised pandas, no row loops), not to be slow; it does
much less than the product (no quarantine reasons, no lineage, no pseudonyms, no tests).

Usage: ``python bench/baseline_pandas.py DATA_DIR OUT_JSON`` (run by bench/run.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

QUARTERS = {
    "TW I": 1,
    "TW II": 2,
    "TW III": 3,
    "TW IV": 4,
    "TRIWULAN I": 1,
    "TRIWULAN II": 2,
    "TRIWULAN III": 3,
    "TRIWULAN IV": 4,
    "TW 1": 1,
    "TW 2": 2,
    "TW 3": 3,
    "TW 4": 4,
    "TW I-AKHIR": 1,
    "TW II-AKHIR": 2,
    "TW III-AKHIR": 3,
    "TW IV-AKHIR": 4,
}


def read_any(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".xlsx":
        df = pd.read_excel(path, dtype=str)
    else:
        df = None
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                df = pd.read_csv(path, dtype=str, encoding=encoding)
                if df.shape[1] == 1:  # a semicolon export
                    df = pd.read_csv(path, sep=";", dtype=str, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
        if df is None:
            raise ValueError(f"cannot read {path}")
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    df = df.loc[:, ~df.columns.str.startswith("unnamed")]
    df = df.dropna(how="all")
    for column in df.columns:
        df[column] = df[column].str.strip()
    df["file"] = path.name
    return df


def to_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace(",", ".", regex=False), errors="coerce")


def to_date(series: pd.Series) -> pd.Series:
    iso = pd.to_datetime(series, format="%Y-%m-%d", errors="coerce")
    dmy = pd.to_datetime(series, format="%d/%m/%Y", errors="coerce")
    serial = pd.to_numeric(series, errors="coerce")
    excel = pd.to_datetime("1899-12-30") + pd.to_timedelta(serial, unit="D")
    return iso.fillna(dmy).fillna(excel)


def load(data_dir: Path, source: str) -> pd.DataFrame:
    files = sorted((data_dir / "raw" / source).glob("*.*"))
    return pd.concat([read_any(f) for f in files], ignore_index=True)


def quarter_mart(data_dir: Path) -> tuple[pd.DataFrame, int]:
    a = load(data_dir, "assessments")
    s = load(data_dir, "surveys")
    t = load(data_dir, "training")
    rows = len(a) + len(s) + len(t)

    # assessments: clean, keep the quarters, later file wins per employee-period
    a["nip"] = a["nip"].str.replace(" ", "", regex=False)
    a = a[a["nip"].str.fullmatch(r"\d{18}", na=False)]
    a["tahun"] = pd.to_numeric(a["tahun"], errors="coerce")
    a["triwulan"] = a["periode"].str.upper().str.replace(r"\s+", " ", regex=True).map(QUARTERS)
    a["target"] = to_number(a["target"])
    a["realisasi"] = to_number(a["realisasi"])
    a = a.dropna(subset=["tahun", "triwulan", "target", "realisasi", "kode_opd", "predikat"])
    a = a[a["target"] > 0]
    a["file_order"] = a["file"].astype("category").cat.codes  # categories sort by name
    latest = a.groupby(["nip", "tahun", "triwulan"])["file_order"].transform("max")
    a = a[a["file_order"] == latest]
    a["predikat"] = a["predikat"].str.title()
    a["achievement"] = a["realisasi"] / a["target"]
    per_employee = a.groupby(["kode_opd", "tahun", "triwulan", "nip"], as_index=False).agg(
        predikat=("predikat", "first"), achievement=("achievement", "mean")
    )
    mart = per_employee.groupby(["kode_opd", "tahun", "triwulan"]).agg(
        n_assessed=("nip", "nunique"),
        mean_achievement=("achievement", "mean"),
        share_sangat_baik=("predikat", lambda p: (p == "Sangat Baik").mean()),
    )

    # surveys: IKM = mean of the 9 element means x 25
    s["tanggal"] = to_date(s["tanggal"])
    s = s.dropna(subset=["tanggal", "kode_opd"])
    elements = [f"u{i}" for i in range(1, 10)]
    for e in elements:
        s[e] = pd.to_numeric(s[e], errors="coerce").where(lambda v: v.between(1, 4))
    s["tahun"] = s["tanggal"].dt.year
    s["triwulan"] = s["tanggal"].dt.quarter
    nrr = s.groupby(["kode_opd", "tahun", "triwulan"])[elements].mean()
    mart = mart.join((nrr.mean(axis=1) * 25).round(2).rename("ikm"), how="left").join(
        s.groupby(["kode_opd", "tahun", "triwulan"]).size().rename("n_responden"), how="left"
    )

    # training: JP started in the quarter, per agency (via the employee's agency)
    t["tanggal_mulai"] = to_date(t["tanggal_mulai"])
    t["jp"] = to_number(t["jp"])
    t = t.dropna(subset=["tanggal_mulai", "jp"])
    agency = a.drop_duplicates("nip")[["nip", "kode_opd"]]
    t = t.merge(agency, on="nip", how="inner")
    t["tahun"] = t["tanggal_mulai"].dt.year
    t["triwulan"] = t["tanggal_mulai"].dt.quarter
    mart = mart.join(
        t.groupby(["kode_opd", "tahun", "triwulan"])["jp"].sum().rename("jp_total"), how="left"
    )
    return mart.reset_index(), rows


def main(data_dir: Path, out: Path) -> dict:
    started = time.perf_counter()
    mart, rows = quarter_mart(data_dir)
    mart.to_csv(out.with_suffix(".csv"), index=False)
    wall = time.perf_counter() - started
    result = {"wall_s": wall, "rows": rows, "mart_rows": len(mart)}
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), indent=2))
