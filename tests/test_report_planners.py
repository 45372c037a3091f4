"""The quarterly evaluation section (Form E.81) of trends.html, drawn from a tiny warehouse
made here: the indicator table, the rankings with ties and not-ranked agencies, the outlook
chart labelled as kinerja's projection; and "belum tersedia" on a warehouse without them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.analysis.outlook import build_outlook
from pipelines.analysis.ranking import rank_agencies
from pipelines.reports.evaluation import evaluation_sections, read_evaluation_tables
from pipelines.reports.html import Page, render_page
from pipelines.warehouse import replace_tables

NAMES = {"O1": "Dinas Satu", "O2": "Dinas Dua", "O3": "Dinas Tiga"}


def _indicator(kode: str, ind: str, quarters: list[float | None], **extra) -> dict:
    q = len(quarters)
    row = {
        "kode_opd": kode,
        "nama_opd": NAMES[kode],
        "pemda": "Kab X",
        "tahun": 2024,
        "triwulan": q,
        "kode_indikator": ind,
        "indikator": f"Indikator {ind}",
        "satuan": "dokumen",
        "arah": "naik",
        "jenis_agregasi": "jumlah",
        "n_holders": 10,
        "annual_target": 120.0,
        **{f"realisasi_tw{k}": (quarters[k - 1] if k <= q else None) for k in range(1, 5)},
        "realisasi_to_date": sum(v for v in quarters if v is not None),
        "target_to_date": 60.0,
        "capaian_annual": sum(v for v in quarters if v is not None) / 120.0,
        "capaian_annual_band": "Sangat Kurang",
        "capaian_to_date": sum(v for v in quarters if v is not None) / 60.0,
        "capaian_to_date_band": "Sangat Tinggi",
        "capaian_to_date_prev_year": 0.9,
        "capaian_to_date_change": sum(v for v in quarters if v is not None) / 60.0 - 0.9,
    }
    return row | extra


def _warehouse(path: Path) -> Path:
    indicators = pl.DataFrame(
        [
            _indicator("O1", "K1", [30.0, 34.0]),
            # a figure the extract hid: NULL prints as "—"
            _indicator("O2", "K1", [20.0, 25.0], n_holders=None, capaian_annual=None),
        ],
        infer_schema_length=None,
    ).cast({"tahun": pl.Int32, "triwulan": pl.Int32, "n_holders": pl.Int32})
    quarter = pl.DataFrame(
        {
            "pemda": ["Kab X"] * 3,
            "kode_opd": ["O1", "O2", "O3"],
            "tahun": [2024] * 3,
            "triwulan": [2] * 3,
            "mean_achievement": [0.95, 0.95, 0.99],
            "n_with_indicators": [10, 12, 3],
            "ikm": [80.0, 82.5, None],
            "n_responden": [40, 40, 0],
        }
    )
    employees = pl.DataFrame(
        {"employee_key": [f"e{i}" for i in range(6)], "tahun": [2024] * 6, "kode_opd": ["O1"] * 6}
    )
    training = pl.DataFrame(
        {"employee_key": ["e0", "e1"], "tahun": [2024] * 2}
        | {f"jp_ytd_q{k}": [12.0, 4.0] for k in range(1, 5)}
    )
    database = path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        replace_tables(
            conn,
            {
                "marts.mart_agency_indicator_quarter": indicators,
                "analysis.agency_ranking": rank_agencies(quarter, 5),
                "analysis.year_end_outlook": build_outlook(
                    indicators, quarter, employees, training, 5
                ),
            },
        )
    return database


def _page(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as conn:
        sections = evaluation_sections(read_evaluation_tables(conn), NAMES)
    return render_page(Page("t", "s", [], [], sections))


def _charts(page: str) -> list[dict]:
    blobs = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    return [json.loads(b) for b in blobs]


def test_section_renders_from_a_tiny_warehouse(tmp_path: Path) -> None:
    page = _page(_warehouse(tmp_path))
    assert "Evaluasi triwulanan (Form E.81) — 2024 TW II" in page
    # the indicator table: target, TW I/II, blank TW III/IV, capaian with its band, change
    row = re.search(r"<td>K1 — Indikator K1 \(dokumen\).*?</tr>", page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1:9] == ["10", "120", "30", "34", "", "", "64", "53,3% (Sangat Kurang)"]
    assert cells[11] == "+16,7"  # 64/60 − 90% = 16.7 points
    # O2's hidden figures print as a dash, with the note
    o2 = page[page.index("Form E.81) — O2") :]
    o2_cells = re.findall(r"<td[^>]*>(.*?)</td>", o2[: o2.index("</table>")], re.S)
    assert o2_cells[1] == "—" and o2_cells[8].startswith("—")
    assert "— = tidak dipublikasikan" in page
    # rankings: O1 and O2 tie at 95,0%; O3 (3 employees) is not ranked, with its reason
    assert "<td>O1</td><td class='num'>1 (seri)</td><td class='num'>95,0%</td>" in page
    assert "<td>O2</td><td class='num'>1 (seri)</td>" in page
    assert "Kurang dari 5 pegawai dengan indikator: tidak diperingkat" in page
    assert "Peringkat (dari 2)" in page
    assert "Tidak ada data SKM (IKM) pada triwulan ini" in page


def test_outlook_chart_is_labelled_a_projection(tmp_path: Path) -> None:
    page = _page(_warehouse(tmp_path))
    (chart,) = _charts(page)
    assert chart["layout"]["title"]["text"].startswith("Proyeksi kinerja, bukan ketentuan regulasi")
    projected = chart["data"][0]
    # O1: jumlah 30, 34 -> 128 of 120; O2's only indicator is hidden: not drawn, said why
    assert projected["y"] == ["O1"]
    assert projected["x"] == pytest.approx([100 * 128 / 120])
    assert projected["error_x"]["arrayminus"][0] == pytest.approx(100 * (128 - 64) / 120)
    share = chart["data"][2]  # 20 JP panel, 6 employees: only e0 (12 JP by TW II -> 24)
    assert share["x"] == pytest.approx([100 / 6])
    assert "O2 (capaian_annual): — Tidak ada indikator yang dapat diproyeksikan" in page
    assert "Proyeksi kinerja, bukan ketentuan regulasi: proyeksi akhir tahun" in page


def test_section_says_not_available_without_the_tables(tmp_path: Path) -> None:
    database = tmp_path / "old.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.mart_agency_quarter as select 'O1' as kode_opd")
    page = _page(database)
    assert "Evaluasi triwulanan (Form E.81)" in page
    for table in (
        "marts.mart_agency_indicator_quarter",
        "analysis.agency_ranking",
        "analysis.year_end_outlook",
    ):
        assert f"belum tersedia: tabel {table} belum dibangun" in page
    assert not _charts(page)
