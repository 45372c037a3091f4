"""BKN SIASN records (annual SKP 2022+ and periodic), as JSON responses, arrays and JSON lines,
loaded the way the product loads them: every record placed by the roster and normalised, or
quarantined with a reason; names and document paths stored nowhere."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.ingest import siasn
from pipelines.ingest.context import ReferenceContext
from pipelines.ingest.formats import ExportReadError, read_export
from pipelines.ingest.reference import ReferenceFileError, read_pegawai
from pipelines.rules.pseudonym import pseudonym
from tests.ingest_support import Loaded, load_folder

KEY = b"test-key"
E1, E2, E3, E4 = (
    "198501012010011001",
    "199002022015032002",
    "198703032012011003",
    "198804042013041004",
)
RATER = "197905052005011005"
NAMES = ["Budi Santoso", "Sari Wulandari", "Penilai Satu", "Penilai Dua", "Rina Marlina"]
PATH = "https://siasn.example/dokumen/skp/rahasia-123.pdf"
ROSTER = f"""nip,pns_id,kode_opd,unit_kerja,jabatan,jenis_jabatan,golongan
{E1},A1,OPD01,Bidang Umum,Analis,pelaksana,III a
{E2},A2,OPD02,Sekretariat,Kepala Seksi,Pengawas,III/d
{E3},,OPD01,Bidang Umum,Pranata Komputer,Fungsional,III/b
{E4},A4,OPD99,Bidang Lain,Analis,Pelaksana,II/c
"""


def annual(**fields: object) -> dict[str, object]:
    """An rw-skp22 record as SIASN returns it (capital K and P in two keys)."""
    return {
        "id": "skp-1",
        "tahun": 2024,
        "hasilKinerja": "DIATAS ESPEKTASI",
        "hasilKinerjaNilai": 1,
        "perilakuKerja": "SESUAI ESPEKTASI",
        "PerilakuKerjaNilai": 2,
        "kuadranKinerja": "BAIK",
        "KuadranKinerjaNilai": 2,
        "pnsDinilaiId": "A1",
        "namaPenilai": "Penilai Satu",
        "nipNrpPenilai": RATER,
        "penilaiGolonganId": "41",
        "penilaiJabatanNm": "Kepala Bidang",
        "penilaiUnorNm": "Bidang Umum",
        "statusPenilai": "ASN",
        "path": PATH,
        **fields,
    }


def periodic(**fields: object) -> dict[str, object]:
    """An rw-kinerjaperiodik record (lower-case keys, values as strings)."""
    return {
        "id": "per-1",
        "tahun": "2024",
        "nip": E3,
        "nama": "Rina Marlina",
        "periodikId": "2",
        "periodikNama": "Triwulan",
        "bulanMulaiPenilaian": "4",
        "bulanSelesaiPenilaian": "6",
        "hasilKinerja": "SESUAI EKSPEKTASI",
        "hasilKinerjaNilai": "2",
        "perilakuKerja": "DI ATAS EKSPEKTASI",
        "perilakuKerjaNilai": "1",
        "kuadranKinerjaNilai": "2",
        "kuadranNilai": "2",
        "instansiId": "X1",
        "instansiNama": "Pemerintah Kota A",
        "unorId": "U1",
        "unorNama": "Bidang Umum",
        "jabatan": "Pranata Komputer",
        "koefisenId": "1",
        "persentase": "100",
        "penilaiNipNrp": RATER,
        "penilaiJabatanNama": "Kepala Bidang",
        "penilaiUnorNm": "Bidang Umum",
        "penilaiGolonganId": "41",
        "statusPenilai": "ASN",
        "pnsDinilaiId": None,
        "path": PATH,
        **fields,
    }


RESPONSE = {  # rw-skp22: a web-service response
    "code": 1,
    "data": [
        annual(),  # 1: E1 by pnsDinilaiId, numbers
        annual(  # 2: E2, strings, lower-case keys, spaced labels, non-ASN rater
            id="skp-2",
            tahun="2024",
            pnsDinilaiId="A2",
            hasilKinerjaNilai="3",
            hasilKinerja="DI BAWAH EKSPEKTASI",
            PerilakuKerjaNilai=None,
            perilakuKerja="dibawah ekspektasi",
            KuadranKinerjaNilai="5",
            kuadranKinerja="SANGAT KURANG",
            namaPenilai="Penilai Dua",
            nipNrpPenilai="NRP 12345",
            statusPenilai="NON ASN",
        ),
        annual(id="skp-3", pnsDinilaiId="ZZ-404"),  # 3: not in the roster
        annual(id="skp-4", hasilKinerjaNilai=7),  # 4: unknown code
    ],
}
ARRAY = [  # rw-kinerjaperiodik records as a JSON array
    periodic(),  # 1: E3 quarterly (TW II), placed by nip
    periodic(  # 2: E1 monthly (BULAN 2), numbers, placed by nip
        id="per-2",
        nip=E1,
        nama="Budi Santoso",
        tahun=2024,
        periodikId=1,
        bulanMulaiPenilaian=2,
        bulanSelesaiPenilaian=2,
        hasilKinerja="DIATAS ESPEKTASI",
        hasilKinerjaNilai=1,
        perilakuKerjaNilai=1,
        kuadranKinerjaNilai=1,
        kuadranNilai=1,
    ),
    periodic(id="per-3", kuadranKinerjaNilai="9", kuadranNilai="9"),  # 3: unknown kuadran
]
LINES = [  # JSON lines: line numbers are the rows
    periodic(id="per-4", nip=None, pnsDinilaiId="A2", bulanSelesaiPenilaian="12"),  # 1
    None,  # 2: a blank line
    periodic(id="per-5", nip=E4),  # 3: the roster's agency is unknown
    periodic(id="per-6", periodikId="3"),  # 4: unknown periodikId
]
SINGLE = annual(id="skp-9", pnsDinilaiId=None, nip=E3, tahun="2023")  # one record object


def write_folder(data_dir: Path) -> Path:
    reference, folder = data_dir / "reference", data_dir / "raw" / "siasn"
    reference.mkdir(parents=True)
    folder.mkdir(parents=True)
    (reference / "agencies.csv").write_text(
        "kode_opd,nama_opd,pemda\nOPD01,Dinas Kesehatan,Kota A\nOPD02,Dinas Pendidikan,Kota A\n"
    )
    (reference / "pegawai.csv").write_text(ROSTER)
    (folder / "skp22.json").write_text(json.dumps(RESPONSE))
    (folder / "periodik.json").write_text(json.dumps(ARRAY, indent=1))
    (folder / "periodik.jsonl").write_text(
        "\n".join("" if r is None else json.dumps(r) for r in LINES) + "\n"
    )
    (folder / "single.json").write_text(json.dumps(SINGLE))
    (folder / "broken.json").write_text(BROKEN)
    return data_dir


def context(data_dir: Path) -> ReferenceContext:
    return ReferenceContext(frozenset({"OPD01", "OPD02"}), read_pegawai(data_dir))


def expected(nip: str, file: str, row: int, **values: object) -> dict[str, object]:
    groups = {
        E1: ("A1", "OPD01", "Bidang Umum", "Analis", "Pelaksana", "III/a"),
        E2: ("A2", "OPD02", "Sekretariat", "Kepala Seksi", "Pengawas", "III/d"),
        E3: (None, "OPD01", "Bidang Umum", "Pranata Komputer", "Fungsional", "III/b"),
    }[nip]
    names = ["pns_id", "kode_opd", "unit_kerja", "jabatan", "jenis_jabatan", "golongan"]
    return {
        "nip": nip,
        "employee_key": pseudonym(nip, KEY),
        **dict(zip(names, groups, strict=True)),
        "nip_penilai": RATER,
        "penilai_key": pseudonym(RATER, KEY),
        "status_penilai": "ASN",
        "source_file": f"raw/siasn/{file}",
        "source_row": row,
        **values,
    }


ANNUAL = {"record_kind": "annual", "periode": "TAHUNAN"}
EXPECTED = [
    expected(
        E3, "periodik.json", 1, siasn_id="per-1", tahun=2024, record_kind="periodic",
        periode="TW II", rating_hasil_kerja="SESUAI EKSPEKTASI",
        rating_perilaku="DI ATAS EKSPEKTASI", predikat="Baik", quarter=date(2024, 4, 1),
    ),
    expected(
        E1, "periodik.json", 2, siasn_id="per-2", tahun=2024, record_kind="periodic",
        periode="BULAN 2", rating_hasil_kerja="DI ATAS EKSPEKTASI",
        rating_perilaku="DI ATAS EKSPEKTASI", predikat="Sangat Baik", quarter=date(2024, 1, 1),
    ),
    expected(
        E2, "periodik.jsonl", 1, siasn_id="per-4", tahun=2024, record_kind="periodic",
        periode="TW IV", rating_hasil_kerja="SESUAI EKSPEKTASI",
        rating_perilaku="DI ATAS EKSPEKTASI", predikat="Baik", quarter=date(2024, 10, 1),
    ),
    expected(
        E3, "single.json", 1, siasn_id="skp-9", tahun=2023, **ANNUAL,
        rating_hasil_kerja="DI ATAS EKSPEKTASI", rating_perilaku="SESUAI EKSPEKTASI",
        predikat="Baik", quarter=date(2023, 10, 1),
    ),
    expected(
        E1, "skp22.json", 1, siasn_id="skp-1", tahun=2024, **ANNUAL,
        rating_hasil_kerja="DI ATAS EKSPEKTASI", rating_perilaku="SESUAI EKSPEKTASI",
        predikat="Baik", quarter=date(2024, 10, 1),
    ),
    expected(
        E2, "skp22.json", 2, siasn_id="skp-2", tahun=2024, **ANNUAL,
        rating_hasil_kerja="DI BAWAH EKSPEKTASI", rating_perilaku="DI BAWAH EKSPEKTASI",
        predikat="Sangat Kurang", quarter=date(2024, 10, 1),
        nip_penilai="NRP12345", penilai_key=pseudonym("NRP12345", KEY), status_penilai="NON ASN",
    ),
]  # fmt: skip
# (file, row, column): why each other record was quarantined (a part of the reason).
JSON, LINES_FILE, SKP = (
    "raw/siasn/periodik.json",
    "raw/siasn/periodik.jsonl",
    "raw/siasn/skp22.json",
)
QUARANTINED = {
    (JSON, 3, "kuadrankinerjanilai"): "kuadrankinerjanilai '9' is not a known code",
    (LINES_FILE, 3, "kode_opd"): "kode_opd 'OPD99' is not a known agency",
    (LINES_FILE, 4, "periodikid"): "periodikid '3' is not a known code",
    (SKP, 3, "pnsdinilaiid"): "pnsdinilaiid 'ZZ-404' is not in reference/pegawai.csv",
    (SKP, 4, "hasilkinerjanilai"): "hasilkinerjanilai '7' is not a known code",
}  # fmt: skip
# A file JSON cannot parse (a trailing comma): rejected whole, with the parser's position.
BROKEN = '{"data": [\n  {"id": "x", "tahun": 2024,}\n]}'
RECORDS = len(RESPONSE["data"]) + len(ARRAY) + sum(r is not None for r in LINES) + 1


@pytest.fixture
def loaded(tmp_path: Path):
    data_dir = write_folder(tmp_path / "data")
    return load_folder(siasn.definition, data_dir, context(data_dir), KEY)


def test_records_are_normalised_or_quarantined_with_a_reason(loaded) -> None:
    rows = loaded.raw.select(*siasn.OUTPUT, "source_file", "source_row", "quarter")
    assert rows.sort("source_file", "source_row").to_dicts() == [
        {c: row[c] for c in rows.columns} for row in EXPECTED
    ]
    reasons = {
        (f, r, c): reason
        for f, r, c, reason in loaded.quarantine.select(
            "source_file", "source_row", "column_name", "reason"
        ).iter_rows()
    }
    assert set(reasons) == set(QUARANTINED)
    for where, part in QUARANTINED.items():
        assert part in reasons[where], (where, reasons[where])
    # Every record of the readable files is loaded or quarantined; the broken file is not read.
    quarantined = loaded.quarantine.select("source_file", "source_row").unique().height
    assert loaded.raw.height + quarantined == RECORDS == loaded.load.rows_read
    files = dict(loaded.files.group_by("source_file").agg(pl.col("error").first()).iter_rows())
    # Python's own words for the trailing comma (3.13 changed them: 'Illegal trailing comma
    # before end of object', column 28; 3.11 and 3.12: 'Expecting property name enclosed in
    # double quotes', column 29), at the line and column Python gives.
    with pytest.raises(json.JSONDecodeError) as python_says:
        json.loads(BROKEN)
    error = python_says.value
    assert error.lineno == 2
    assert files["raw/siasn/broken.json"] == (
        f"raw/siasn/broken.json: is not valid JSON (line 2, column {error.colno}: {error.msg})"
    )
    assert [f for f, error in files.items() if error] == ["raw/siasn/broken.json"]


def test_names_and_paths_are_stored_nowhere(loaded) -> None:
    """Names and the document path are not read: neither raw.siasn, nor quarantine.siasn's
    columns, nor the original text it keeps for the data owner (raw_record) hold them."""
    for frame in (loaded.raw, loaded.quarantine):
        text = " ".join(
            str(value) for column in frame.columns for value in frame.get_column(column)
        )
        for secret in [*NAMES, PATH, "rahasia"]:
            assert secret not in text
    record = json.loads(loaded.quarantine.get_column("raw_record")[0])
    assert not {"nama", "namapenilai", "path"} & set(record)
    assert {"tahun", "pnsdinilaiid", "hasilkinerjanilai"} <= set(record)


def test_json_layouts_read_as_text_with_record_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        '{"Data": {"id": 5, "Tahun": 2024.0, "ok": true, "x": null, "n": {"a": [1]}, '
        '"s": "  padded  ", "e": ""}}'
    )
    frame = read_export(path, ["tahun"], "r.json")
    assert frame.drop("_record_problem").to_dicts() == [
        {"id": "5", "tahun": "2024.0", "ok": "true", "x": None, "n": '{"a": ["1"]}',
         "s": "padded", "e": None, "source_row": 1}
    ]  # fmt: skip
    # Two spellings of one column in one record: that record's problem, not the file's.
    path.write_text(
        json.dumps([{"perilakuKerjaNilai": 1}, {"PerilakuKerjaNilai": 2, "perilakuKerjaNilai": 2}])
    )
    frame = read_export(path, ["perilakukerjanilai"], "r.json")
    assert frame.get_column("perilakukerjanilai").to_list() == ["1", "2"]
    problems = frame.get_column("_record_problem").to_list()
    assert problems[0] is None
    assert "'PerilakuKerjaNilai' and 'perilakuKerjaNilai'" in problems[1]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.jsonl", '{"tahun": 1}\n{"tahun": \n', "a.jsonl: is not valid JSON (line 2, column"),
        ("b.json", '{"data": "Data tidak ditemukan"}', "b.json: the response's data is not"),
        ("c.json", '{"data": []}', "c.json: has no records"),
        ("d.json", "", "d.json: the file is empty"),
        ("e.json", '[{"id": 1}]', "e.json: missing required column(s): tahun (found: id)"),
    ],
)
def test_unreadable_json_is_rejected_whole(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ExportReadError) as error:
        read_export(path, ["tahun"], name)
    assert str(error.value).startswith(message)


def test_roster_is_optional_and_must_be_unambiguous(tmp_path: Path) -> None:
    assert read_pegawai(tmp_path).height == 0
    (tmp_path / "reference").mkdir()
    roster = tmp_path / "reference" / "pegawai.csv"
    roster.write_text(ROSTER.splitlines()[0] + "\n")
    assert read_pegawai(tmp_path).height == 0
    roster.write_text(ROSTER + f"{E3.replace('3', '4', 1)},A1,OPD01,,,,\n")
    with pytest.raises(ReferenceFileError, match="pns_id 'A1' is listed twice"):
        read_pegawai(tmp_path)


def test_without_a_roster_nothing_is_placed(tmp_path: Path) -> None:
    data_dir = write_folder(tmp_path / "data")
    result = load_folder(siasn.definition, data_dir, {"OPD01", "OPD02"}, KEY)
    assert result.raw.height == 0
    assert result.quarantine.select("source_file", "source_row").unique().height == RECORDS


def write_table(path: Path, records: list[dict[str, object]]) -> None:
    """Records as a SIMPEG mirror exports them: a semicolon CSV or an .xlsx sheet with
    SIASN's column names (Excel numbers where the JSON had numbers)."""
    columns = list(dict.fromkeys(k for r in records for k in r))
    rows = [[r.get(c) for c in columns] for r in records]
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerows([columns, *[["" if v is None else v for v in r] for r in rows]])
        return
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("kinerja")
        for i, row in enumerate([columns, *rows]):
            for j, value in enumerate(row):
                if value is not None:
                    sheet.write(i, j, value)


def test_csv_and_xlsx_tables_load_as_the_json_does(tmp_path: Path) -> None:
    """A SIMPEG mirror's tables with SIASN's column names (periodic records as CSV, annual
    ones as XLSX) give the same normalised rows and quarantine reasons as the JSON array
    of the same records. A table holding both kinds has perilakuKerjaNilai twice (the
    annual record's capital P): rejected whole, naming both columns' places."""
    periodic_records = [ARRAY[0], ARRAY[1], ARRAY[2], LINES[0]]
    annual_records = [RESPONSE["data"][1], RESPONSE["data"][3]]
    loaded: dict[str, Loaded] = {}
    for layout in ("json", "tables"):
        data_dir = write_folder(tmp_path / layout)
        folder = data_dir / "raw" / "siasn"
        for old in folder.iterdir():
            old.unlink()
        if layout == "json":
            (folder / "mirror.json").write_text(json.dumps(periodic_records + annual_records))
        else:
            write_table(folder / "periodik.csv", periodic_records)
            write_table(folder / "skp22.xlsx", annual_records)
            write_table(folder / "both.csv", periodic_records + annual_records)
        loaded[layout] = load_folder(siasn.definition, data_dir, context(data_dir), KEY)
    columns = [*siasn.OUTPUT, "quarter"]

    def normalised(frame: pl.DataFrame) -> list[dict[str, object]]:
        return frame.select(columns).sort("siasn_id").to_dicts()

    def reasons(frame: pl.DataFrame) -> list[tuple[str, str]]:
        return sorted(frame.select("column_name", "reason").rows())

    by_json, tables = loaded["json"], loaded["tables"]
    assert [r["siasn_id"] for r in normalised(by_json.raw)] == ["per-1", "per-2", "per-4", "skp-2"]
    assert normalised(tables.raw) == normalised(by_json.raw)
    assert reasons(tables.quarantine) == reasons(by_json.quarantine)
    assert [c for c, _ in reasons(tables.quarantine)] == [
        "hasilkinerjanilai",
        "kuadrankinerjanilai",
    ]
    assert tables.load.rows_read == by_json.load.rows_read == 6
    errors = tables.files.filter(pl.col("error").is_not_null())
    assert errors["source_file"].to_list() == ["raw/siasn/both.csv"]
    assert "perilakukerjanilai (columns 12 (L) and 29 (AC))" in errors["error"][0]


def test_hostile_json_names_the_file_and_the_place(tmp_path: Path) -> None:
    """Latin-1 bytes, nesting deep enough to exhaust the parser, and records that are not
    objects: the first two reject the file with a reason, the last quarantines the record."""
    latin = tmp_path / "latin.json"
    latin.write_bytes('[{"tahun": 2024, "nama": "Bu Sri Rahayu Pr\u00e9"}]'.encode("latin-1"))
    with pytest.raises(ExportReadError, match=r"latin.json: is not UTF-8 text \(byte 43\)"):
        read_export(latin, ["tahun"], "latin.json")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ExportReadError, match="deep.json: is not readable JSON"):
        read_export(deep, ["tahun"], "deep.json")
    mixed = tmp_path / "mixed.json"
    mixed.write_text('[1, "x", null, {"tahun": 2024}]')
    frame = read_export(mixed, ["tahun"], "mixed.json")
    assert frame.select("source_row", "tahun", "_record_problem").rows() == [
        (1, None, "record is not a JSON object ('1')"),
        (2, None, "record is not a JSON object ('x')"),
        (3, None, "record is not a JSON object ('null')"),
        (4, "2024", None),
    ]
