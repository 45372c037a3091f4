"""BKN SIASN performance records for a subset of the population, plus the employee roster.

SIASN (BKN's Sistem Informasi ASN) returns an employee's annual SKP 2022+ records from
``GET /pns/rw-skp22/{nip}`` and periodic ones from ``GET /pns/rw-kinerjaperiodik/{nip}``.
The sample covers the agencies of the first pemda whose kind is in COVERED_KINDS, for every
generated year, and writes under raw/siasn/<pemda>/:

- ``rw-skp22_<nip>.json``: one API response per employee (``{"code": 1, "data": [...]}``);
- ``rw-kinerjaperiodik_<kode_opd>_<year>.json`` (one JSON array) or ``.jsonl`` (JSON lines),
  alternating per agency-year; quarterly records (periodikId 2) for most employees, monthly
  ones (periodikId 1) for every 20th, each month carrying its quarter's ratings; the
  kuadran code is given twice (kuadranKinerjaNilai and kuadranNilai), as SIASN does.

The ratings are the ones the own-format assessment export carries for the same employee and
period: ``assessment_ratings`` replays the assessment stream's first draws (no new draws),
so both formats give the same predikat counts. Variation seen in real exports: numbers as
strings, lower-case ``perilakuKerjaNilai`` / ``kuadranKinerjaNilai`` keys in some annual
records, 'EKSPEKTASI' instead of BKN's 'ESPEKTASI' in some records, empty document lists.
Planted problems (errors=True): kuadran that disagree with the matrix, one unknown rating
code, one annual record whose pnsDinilaiId is not in the roster, one truncated JSON file.
reference/pegawai.csv lists every generated employee with the pns_id SIASN uses for them.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.generate import catalog
from pipelines.generate.assessments import MISMATCH_CELL, N_PERIODS, _ratings, lenient_rater
from pipelines.generate.curve import BROKEN_SHARES, PREDIKAT, assign_by_rank, compliant_quota
from pipelines.generate.curve import quota as plain_quota
from pipelines.generate.plan import EffectPlan
from pipelines.generate.population import Agency
from pipelines.generate.rng import stream
from pipelines.generate.truth import Truth

COVERED_KINDS = ("DISDUKCAPIL", "BKPSDM")
FIRST_SKP22_YEAR = 2022
ROSTER = "pegawai.csv"
ROSTER_COLUMNS = ("nip", "pns_id", "kode_opd", "unit_kerja", "jabatan", "jenis_jabatan", "golongan")
# Codes are 1-based positions: ratings best first (hasil/perilaku), predikat best first (kuadran).
RATING_TEXT = ("DIATAS ESPEKTASI", "SESUAI ESPEKTASI", "DIBAWAH ESPEKTASI")  # BKN's spelling
KUADRAN_TEXT = tuple(p.upper() for p in PREDIKAT)
PERSENTASE = (150, 100, 75, 50, 25)  # angka kredit conversion per predikat (PermenPANRB 1/2023)
PERIODIK = {1: "Bulanan", 2: "Triwulanan"}
MONTHLY_EVERY = 20  # employee positions 7, 27, 47, ... report monthly
UNKNOWN_CODE = 7
N_ANNUAL_MISMATCH, N_PERIODIC_MISMATCH = 2, 3
COUNTED = ("records_written", "bad_records", "loaded_records", "kuadran_mismatch_records")


def hex_id(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def pns_id(nip: str) -> str:
    """SIASN's internal PNS id for a NIP: 32 upper-case hex digits, derived from the NIP."""
    return hex_id("pns", nip)[:32].upper()


def record_id(*parts: object) -> str:
    h = hex_id("riwayat", *parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def golongan_id(golongan: str | None) -> str | None:
    """'III/d' -> '34' (ruang a..e as 1..5)."""
    if not golongan:
        return None
    roman, ruang = golongan.split("/")
    return f"{('I', 'II', 'III', 'IV').index(roman) + 1}{'abcde'.index(ruang) + 1}"


def assessment_ratings(
    seed: int, plan: EffectPlan, agency: Agency, emp: pl.DataFrame, year: int, org: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predikat, hasil, perilaku) codes per employee x period (4 quarters, then the year),
    as AssessmentWriter.agency_year draws them: the same stream, the same first draws."""
    rng = stream(seed, "assessments", agency.index, year)
    n = emp.height
    latent = 0.8 * emp["ability"].to_numpy()[:, None] + 0.6 * rng.standard_normal((n, 5))
    broken = plan.curve_break == (agency.kode_opd, year)
    counts = plain_quota(n, BROKEN_SHARES) if broken else compliant_quota(n, org)
    pred = np.stack([assign_by_rank(latent[:, p], counts) for p in range(N_PERIODS)], axis=1)
    if plan.lenient_agency == agency.kode_opd:
        ratees = emp["rater_idx"].to_numpy() == lenient_rater(emp)
        pred[ratees] = np.maximum(pred[ratees] - 1, 0)
    hasil, perilaku = _ratings(rng, pred)
    return pred, hasil, perilaku


def _num(value: int | float, as_text: bool) -> int | float | str:
    return str(value) if as_text else value


def _rating(code: int, eks: bool) -> str | None:
    if not 0 <= code < len(RATING_TEXT):
        return None
    text = RATING_TEXT[code]
    return text.replace("ESPEKTASI", "EKSPEKTASI") if eks else text


def _documents(kind: str, rid: str, tahun: int, empty: bool) -> list[dict[str, str]]:
    if empty:
        return []
    return [
        {
            "dok_id": hex_id("dok", rid)[:24],
            "dok_nama": f"Dokumen {kind} {tahun}",
            "dok_uri": f"siasn/dokumen/{kind.lower().replace(' ', '_')}/{rid}.pdf",
        }
    ]


class SiasnWriter:
    """Writes the roster for every agency and the SIASN records of the covered agencies."""

    def __init__(
        self,
        data_dir: Path,
        seed: int,
        errors: bool,
        plan: EffectPlan,
        truth: Truth,
        years: tuple[int, ...],
    ) -> None:
        self.data_dir, self.seed, self.errors, self.plan = data_dir, seed, errors, plan
        self.truth, self.years = truth, years
        self.root = data_dir / "raw" / "siasn"
        self.root.mkdir(parents=True, exist_ok=True)
        self.counts: dict[str, Counter[str]] = {k: Counter() for k in COUNTED}
        self.files: list[dict[str, Any]] = []
        self.planted: list[dict[str, Any]] = []
        self.covered: list[str] = []
        self.employees = Counter[str]()
        self.roster_rows = 0
        self._roster = (data_dir / "reference" / ROSTER).open("wb")
        self._roster.write((",".join(ROSTER_COLUMNS) + "\n").encode())

    # ------------------------------------------------------------------ per agency
    def agency(self, agency: Agency, emp: pl.DataFrame, org_by_year: dict[int, str]) -> None:
        roster = emp.select(
            "nip",
            pl.col("nip").map_elements(pns_id, return_dtype=pl.String).alias("pns_id"),
            pl.lit(agency.kode_opd).alias("kode_opd"),
            "unit_kerja",
            "jabatan",
            "jenis_jabatan",
            "golongan",
        )
        self._roster.write(roster.write_csv(include_header=False).encode())
        self.roster_rows += roster.height
        if agency.pemda_code != catalog.PEMDA[0][0] or agency.kind not in COVERED_KINDS:
            return
        self.covered.append(agency.kode_opd)
        rows = emp.to_dicts()
        ratings = {
            y: assessment_ratings(self.seed, self.plan, agency, emp, y, org_by_year[y])
            for y in self.years
        }
        # Planted problems go to the first covered agency: distinct employees per role.
        plant: dict[str, int] = {}
        if self.errors and len(self.covered) == 1:
            rng = stream(self.seed, "siasn-plant", agency.index)
            roles = ("truncated", "orphan", "a_mis0", "a_mis1", "p_mis0", "p_mis1", "p_mis2")
            picks = rng.choice(len(rows), size=len(roles) + 1, replace=False)
            plant = {r: int(e) for r, e in zip((*roles, "p_unknown"), picks, strict=True)}
        self.employees["covered"] += len(rows)
        self.employees["monthly"] += len(range(7, len(rows), MONTHLY_EVERY))
        for e in range(len(rows)):
            self._annual_file(agency, rows, e, ratings, plant)
        for yp, year in enumerate(self.years):
            self._periodic_file(agency, rows, year, yp, ratings[year], plant)

    def _penilai(self, rows: list[dict], e: int) -> dict[str, Any]:
        r = rows[e]["rater_idx"]
        boss = rows[r] if r >= 0 else {}
        return {
            "nama": boss.get("nama"),
            "nip": boss.get("nip"),
            "golongan": golongan_id(boss.get("golongan")),
            "jabatan": boss.get("jabatan"),
            "unor": boss.get("unit_kerja"),
        }

    # ------------------------------------------------------------------ annual SKP 2022+
    def _annual_file(self, agency, rows, e, ratings, plant) -> None:
        me, boss = rows[e], self._penilai(rows, e)
        text, lower = e % 5 == 1, e % 7 == 3
        data, mismatched = [], []
        for yp, year in enumerate(self.years):
            if year < FIRST_SKP22_YEAR:
                continue
            pred, hasil, perilaku = (int(a[e, N_PERIODS - 1]) for a in ratings[year])
            if year == self.years[-1] and e in (plant.get("a_mis0"), plant.get("a_mis1")):
                hasil, perilaku = (int(c) for c in MISMATCH_CELL[pred])
                mismatched.append(record_id("skp22", me["nip"], year))
            rid = record_id("skp22", me["nip"], year)
            eks = (e + yp) % 4 == 0
            record = {
                "id": rid,
                "tahun": _num(year, text),
                "hasilKinerja": _rating(hasil, eks),
                "hasilKinerjaNilai": _num(hasil + 1, text),
                "perilakuKerja": _rating(perilaku, eks),
                "perilakuKerjaNilai" if lower else "PerilakuKerjaNilai": _num(perilaku + 1, text),
                "kuadranKinerja": KUADRAN_TEXT[pred],
                "kuadranKinerjaNilai" if lower else "KuadranKinerjaNilai": _num(pred + 1, text),
                "pnsDinilaiId": pns_id(me["nip"]),
                "namaPenilai": boss["nama"],
                "nipNrpPenilai": boss["nip"],
                "penilaiGolonganId": boss["golongan"],
                "penilaiJabatanNm": boss["jabatan"],
                "penilaiUnorNm": boss["unor"],
                "statusPenilai": "ASN",
                "path": _documents("SKP", rid, year, e % 6 == 5),
            }
            data.append(record)
        if not data:
            return
        name = f"{agency.pemda_code.lower()}/rw-skp22_{me['nip']}.json"
        if e == plant.get("orphan"):
            ghost = "ghost-" + me["nip"]
            extra = dict(data[-1], id=record_id("skp22", ghost), pnsDinilaiId=pns_id(ghost))
            data.append(extra)
            self._plant("unknown_pns_id", "annual", name, extra["id"], me["nip"])
        body = json.dumps(
            {"code": 1, "data": data}, ensure_ascii=False, indent=2 if e % 2 else None
        )
        if e == plant.get("truncated"):
            body = body[: len(body) * 3 // 5]
            self._plant("malformed_json", "annual", name, None, me["nip"], records=len(data))
        else:
            for rid in mismatched:
                self._mismatch("annual", name, rid, me["nip"])
        self._write(name, "annual", "response", body + "\n", len(data))

    # ------------------------------------------------------------------ periodic
    def _periodic_file(self, agency, rows, year, yp, rating, plant) -> None:
        pred, hasil, perilaku = rating
        k = len(self.covered) - 1
        jsonl = (k + yp) % 2 == 1
        ext = "jsonl" if jsonl else "json"
        name = f"{agency.pemda_code.lower()}/rw-kinerjaperiodik_{agency.kode_opd.lower()}_{year}"
        name = f"{name}.{ext}"
        records: list[dict[str, Any]] = []
        first_year = yp == 0
        for e, me in enumerate(rows):
            boss = self._penilai(rows, e)
            monthly = e % MONTHLY_EVERY == 7
            spans = (
                [(m, m) for m in range(1, 13)] if monthly else [(m, m + 2) for m in (1, 4, 7, 10)]
            )
            for i, (lo, hi) in enumerate(spans):
                q = (lo - 1) // 3
                p, h, b = int(pred[e, q]), int(hasil[e, q]), int(perilaku[e, q])
                role = next((r for r, x in plant.items() if x == e and r[0] == "p"), None)
                planted = first_year and i == 0 and role is not None
                if planted and role != "p_unknown":
                    h, b = (int(c) for c in MISMATCH_CELL[p])
                if planted and role == "p_unknown":
                    h = UNKNOWN_CODE - 1
                periodik = 1 if monthly else 2
                rid = record_id("periodik", me["nip"], year, periodik, lo)
                eks = (e + yp) % 3 == 0
                records.append(
                    {
                        "id": rid,
                        "tahun": _num(year, jsonl),
                        "nip": me["nip"],
                        "nama": me["nama"],
                        "periodikId": _num(periodik, jsonl),
                        "periodikNama": PERIODIK[periodik],
                        "bulanMulaiPenilaian": _num(lo, jsonl),
                        "bulanSelesaiPenilaian": _num(hi, jsonl),
                        "hasilKinerja": _rating(h, eks),
                        "hasilKinerjaNilai": _num(h + 1, jsonl),
                        "perilakuKerja": _rating(b, eks),
                        "perilakuKerjaNilai": _num(b + 1, jsonl),
                        "kuadranKinerjaNilai": _num(p + 1, jsonl),
                        "kuadranNilai": _num(p + 1, jsonl),
                        "instansiId": hex_id("instansi", agency.pemda_code)[:32].upper(),
                        "instansiNama": f"Pemerintah {agency.pemda}",
                        "unorId": hex_id("unor", agency.kode_opd, me["unit_kerja"])[:32].upper(),
                        "unorNama": me["unit_kerja"],
                        "jabatan": me["jabatan"],
                        "koefisienId": _koefisien(me["jabatan"], me["jenis_jabatan"]),
                        "persentase": _num(PERSENTASE[p], jsonl),
                        "penilaiNipNrp": boss["nip"],
                        "penilaiJabatanNama": boss["jabatan"],
                        "penilaiUnorNm": boss["unor"],
                        "penilaiGolonganId": boss["golongan"],
                        "statusPenilai": "ASN",
                        "pnsDinilaiId": pns_id(me["nip"]),
                        "path": _documents("Kinerja Periodik", rid, year, e % 6 == 5),
                    }
                )
                if planted and role == "p_unknown":
                    self._plant("unknown_code", "periodic", name, rid, me["nip"])
                elif planted:
                    self._mismatch("periodic", name, rid, me["nip"])
                self.counts["records_written"][f"periodic:{PERIODIK[periodik].lower()}"] += 1
        if jsonl:
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            body = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
        self._write(name, "periodic", "jsonl" if jsonl else "array", body, len(records))

    # ------------------------------------------------------------------ bookkeeping
    def _write(self, name: str, kind: str, fmt: str, body: str, records: int) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        rel = path.relative_to(self.data_dir).as_posix()
        self.files.append({"path": rel, "kind": kind, "format": fmt, "records": records})
        self.counts["records_written"][kind] += records

    def _plant(self, bad: str, kind: str, name: str, rid, nip, records: int = 1) -> None:
        self.counts["bad_records"][f"{kind}:{bad}"] += records
        entry = {"kind": bad, "record_kind": kind, "file": f"raw/siasn/{name}", "nip": nip}
        if rid is not None:
            entry["id"] = rid
        else:
            entry["records"] = records
        self.planted.append(entry)

    def _mismatch(self, kind: str, name: str, rid: str, nip: str) -> None:
        self.counts["kuadran_mismatch_records"][kind] += 1
        self.planted.append(
            {"kind": "kuadran_mismatch", "record_kind": kind, "file": f"raw/siasn/{name}",
             "nip": nip, "id": rid}
        )  # fmt: skip

    def close(self) -> None:
        self._roster.close()
        written, bad = self.counts["records_written"], self.counts["bad_records"]
        kinds = ("annual", "periodic")
        by_kind = {k: sum(v for b, v in bad.items() if b.startswith(k + ":")) for k in kinds}
        self.truth.sections["siasn"] = {
            "agencies": self.covered,
            "employees_covered": self.employees["covered"],
            "employees_monthly": self.employees["monthly"],
            "roster_rows": self.roster_rows,
            "records_written": {k: written[k] for k in ("annual", "periodic")},
            "periodic_by_periodik": {
                p.lower(): written[f"periodic:{p.lower()}"] for p in PERIODIK.values()
            },
            "bad_records": {b: bad[b] for b in sorted(bad)},
            "loaded_records": {k: written[k] - by_kind[k] for k in ("annual", "periodic")},
            "kuadran_mismatch_records": {
                k: self.counts["kuadran_mismatch_records"][k] for k in ("annual", "periodic")
            },
            "planted": self.planted,
            "files": sorted(self.files, key=lambda f: f["path"]),
        }


def _koefisien(jabatan: str, jenis: str) -> str | None:
    """Synthetic angka kredit coefficient id by jenjang, fungsional positions only."""
    if jenis != "Fungsional":
        return None
    for code, jenjang in enumerate(("Terampil", "Pertama", "Muda", "Madya"), start=1):
        if jenjang in jabatan:
            return f"KF{code}"
    return "KF0"
