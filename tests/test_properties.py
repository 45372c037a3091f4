"""Property-based tests: arbitrary exports never crash ingestion and never lose a row; the
parsers give a value or a reason for every non-blank cell; NIP checks agree with an
independent implementation of the rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest import assessments, surveys, training
from pipelines.rules import parsing
from pipelines.rules.nip import check_nip, clean_nip, is_pppk, nip_reason
from tests.ingest_support import load_folder, read_folder

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AGENCIES = {"OPD01", "OPD02"}
KEY = b"property-key"
EXCEL_EPOCH = dt.date(1899, 12, 30)
SOURCES = {
    "assessments": (assessments, "nama"),
    "surveys": (surveys, "unit_layanan"),
    "training": (training, "nama_pelatihan"),
}

# ---------------------------------------------------------------- cell strategies

# Any printable text (no control characters but the line breaks added below, no surrogates,
# no U+FFFD, which marks undecodable bytes), with delimiters and quotes made likely.
free_text = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd"),
        st.sampled_from([";", ",", '"', "'", "\n", "\r\n", " ", "é", "\\"]),
    ),
    max_size=12,
).map("".join)
digits = st.text(alphabet="0123456789", min_size=15, max_size=20)
dates = st.dates(dt.date(1950, 1, 1), dt.date(2060, 12, 31))
date_text = st.one_of(
    dates.map(lambda d: d.strftime("%d/%m/%Y")),
    dates.map(lambda d: d.isoformat()),
    dates.map(lambda d: str((d - EXCEL_EPOCH).days)),
    st.sampled_from(["31/02/2024", "2024-13-01", "0", "9999999", "kemarin"]),
)
decimal_text = st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.2f}".replace(".", ","))
plausible = {
    "nip": st.sampled_from(["198503122010011001", "199001012022212001", "1.98503E+17"]),
    "nip_penilai": st.sampled_from(["", "199001012022212001"]),
    "kode_opd": st.sampled_from(["OPD01", "OPD02", "OPD99"]),
    "tahun": st.sampled_from(["2024", "2023.0", "1999"]),
    "periode": st.sampled_from(["TW I", "Triwulan 2", "tahunan", "TW V"]),
    "rating_hasil_kerja": st.sampled_from(parsing.RATINGS),
    "rating_perilaku": st.sampled_from(parsing.RATINGS),
    "predikat": st.sampled_from(parsing.PREDIKATS),
    "jenis": st.sampled_from(["klasikal", "Non Klasikal", "daring"]),
    "sertifikat": st.sampled_from(["Y", "N", "mungkin"]),
    "jenis_kelamin": st.sampled_from(["L", "Perempuan", "X"]),
}
for column in ("tanggal", "tanggal_mulai", "tanggal_selesai"):
    plausible[column] = date_text
for column in ("target", "realisasi", "nilai_mandiri", "nilai_atasan", "jp", "usia"):
    plausible[column] = decimal_text


def cell(column: str) -> st.SearchStrategy[str]:
    own = plausible.get(column, st.sampled_from(["Dinas", "Loket A", "IKI-1", "1", "4"]))
    return st.one_of(own, free_text, digits, date_text, decimal_text, st.just(""))


@st.composite
def exports(draw) -> tuple[str, list[dict[str, str]], str, str, str]:
    source = draw(st.sampled_from(sorted(SOURCES)))
    columns = SOURCES[source][0].COLUMNS
    rows = draw(
        st.lists(st.fixed_dictionaries({c: cell(c) for c in columns}), min_size=1, max_size=8)
    )
    separator = draw(st.sampled_from([",", ";"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    return source, rows, separator, encoding, terminator


def csv_bytes(columns, rows, separator: str, encoding: str, terminator: str) -> tuple[bytes, str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=terminator)
    writer.writerow(columns)
    writer.writerows([[row[c] for c in columns] for row in rows])
    try:
        return buffer.getvalue().encode(encoding), encoding
    except UnicodeEncodeError:  # not every text fits Windows-1252
        return buffer.getvalue().encode("utf-8"), "utf-8"


def expected_lines(columns, rows) -> list[int]:
    """Editor line of each data row up to the last non-blank one (trailing blank rows are
    not data): line 2 for the first, then one more plus the line breaks inside values."""
    last = max((i for i, r in enumerate(rows) if any(r[c].strip() for c in columns)), default=-1)
    lines, line = [], 2
    for row in rows[: last + 1]:
        lines.append(line)
        line += 1 + sum(row[c].count("\n") for c in columns)
    return lines


@settings(SETTINGS, max_examples=25)  # each example validates a whole export (~0.5 s)
@given(exports())
def test_any_export_is_read_and_every_row_accounted_for(export) -> None:
    source, rows, separator, encoding, terminator = export
    module, text_column = SOURCES[source]
    columns = module.COLUMNS
    raw, encoding = csv_bytes(columns, rows, separator, encoding, terminator)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        folder = data_dir / "raw" / source
        folder.mkdir(parents=True)
        (folder / "export.csv").write_bytes(raw)
        read, (file,) = read_folder(module.definition, data_dir)
        loaded = load_folder(module.definition, data_dir, AGENCIES, KEY)

    lines = expected_lines(columns, rows)
    if not lines:
        assert file.error == f"raw/{source}/export.csv: has a header row but no data rows"
        return
    assert file.error is None
    assert read["source_row"].to_list() == lines
    if not any("\n" in r[c] for r in rows for c in columns):
        assert lines == list(range(2, len(lines) + 2))

    valid, quarantine = loaded.raw, loaded.quarantine
    loaded = valid["source_row"].to_list()
    rejected = set(quarantine["source_row"].to_list())
    assert len(loaded) == len(set(loaded))
    assert set(loaded).isdisjoint(rejected)
    assert sorted(set(loaded) | rejected) == lines
    assert read.height == valid.height + len(rejected)
    if encoding != "cp1252":  # a Windows-1252 line that is also valid UTF-8 reads as UTF-8
        by_line = dict(zip(lines, rows, strict=False))
        for value, line in valid.select(text_column, "source_row").iter_rows():
            assert value == (by_line[line][text_column].strip() or None)


# ---------------------------------------------------------------- parsers

any_text = st.one_of(
    st.text(max_size=30), digits, date_text, decimal_text, st.sampled_from(["٨٧", "9" * 400])
)


@SETTINGS
@given(st.lists(any_text, min_size=1, max_size=30))
def test_parsers_give_a_value_or_a_reason_for_every_cell(cells: list[str]) -> None:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    blank = frame.select(parsing.blank_to_null(pl.col("c")).is_null())["c"].to_list()
    for parser in (
        parsing.parse_decimal,
        parsing.parse_integer,
        parsing.parse_date,
        parsing.parse_flag,
    ):
        parsed = parser(pl.col("c"), "c")
        out = frame.select(value=parsed.value, reason=parsed.reason)
        for is_blank, value, reason in zip(blank, out["value"], out["reason"], strict=True):
            if is_blank:
                assert value is None and reason is None
            else:
                assert (value is None) != (reason is None), (parser.__name__, value, reason)
            if isinstance(value, float):
                assert abs(value) < float("inf")


@SETTINGS
@given(st.lists(st.tuples(dates, st.sampled_from(["dmy", "iso", "serial"])), min_size=1))
def test_dates_in_every_accepted_format_parse_back(days) -> None:
    formats = {
        "dmy": lambda d: d.strftime("%d/%m/%Y"),
        "iso": lambda d: d.isoformat(),
        "serial": lambda d: str((d - EXCEL_EPOCH).days),
    }
    texts = [formats[kind](day) for day, kind in days]
    parsed = parsing.parse_date(pl.col("c"), "c")
    out = pl.DataFrame({"c": texts}).select(parsed.value.alias("day"))
    assert out["day"].to_list() == [day for day, _ in days]


@SETTINGS
@given(st.lists(st.decimals(-(10**6), 10**6, places=2, allow_nan=False), min_size=1))
def test_decimal_commas_parse_back(numbers) -> None:
    texts = [str(n).replace(".", ",") for n in numbers]
    parsed = parsing.parse_decimal(pl.col("c"), "c")
    out = pl.DataFrame({"c": texts}).select(parsed.value.alias("n"))["n"].to_list()
    assert out == [float(n) for n in numbers]


# ---------------------------------------------------------------- NIP


def reference_nip(text: str) -> tuple[bool, bool]:
    """(valid, is_pppk) straight from the written rules, without polars."""
    nip = re.sub(r"\s+", "", text.strip())
    if len(nip) != 18 or not re.fullmatch(r"[0-9]{18}", nip) or nip[15:] == "000":
        return False, False
    try:
        birth = dt.date(int(nip[:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return False, False
    year, month, gender = int(nip[8:12]), int(nip[12:14]), nip[14]
    if gender not in "12":
        return False, False
    if month == 21:  # PPPK: appointment year only
        return year >= birth.year + 18, year >= birth.year + 18
    ok = 1 <= month <= 12 and year * 12 + month >= (birth.year + 18) * 12 + birth.month
    return ok, False


nip_like = st.builds(
    lambda by, bm, bd, ay, am, g, s, spaced: (
        f"{by:04d}{bm:02d}{bd:02d} {ay:04d}{am:02d} {g} {s:03d}"
        if spaced
        else f"{by:04d}{bm:02d}{bd:02d}{ay:04d}{am:02d}{g}{s:03d}"
    ),
    st.integers(1000, 2099),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(1000, 2099),
    st.sampled_from([*range(0, 14), 21]),
    st.integers(0, 9),
    st.integers(0, 999),
    st.booleans(),
)


@SETTINGS
@given(st.lists(st.one_of(nip_like, st.text(max_size=25), digits), min_size=1, max_size=40))
def test_check_nip_agrees_with_the_vectorized_rules(values: list[str]) -> None:
    frame = pl.DataFrame({"nip": values}, schema={"nip": pl.String}).select(
        reason=nip_reason(pl.col("nip")),
        pppk=is_pppk(pl.col("nip")),
        empty=clean_nip(pl.col("nip")).is_null(),
    )
    for value, (reason, pppk, empty) in zip(values, frame.iter_rows(), strict=True):
        single = check_nip(value)
        if empty:
            assert single.reason == "NIP is empty" and not single.valid
        else:
            assert single.reason == reason
            assert single.valid == (reason is None)
            assert single.is_pppk == (bool(pppk) and reason is None)


@SETTINGS
@given(st.lists(nip_like, min_size=1, max_size=40))
def test_nip_rules_match_an_independent_implementation(values: list[str]) -> None:
    for value in values:
        single = check_nip(value)
        assert (single.valid, single.is_pppk) == reference_nip(value), (value, single.reason)
