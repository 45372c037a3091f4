"""Publishing extracts: the selection per audience and small-cell suppression in the marts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.publish.extracts import PLANNERS, publish_extract, publish_warehouse


def _build(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema analysis; create schema staging")
        con.execute(
            "create table marts.mart_agency_year as select * from (values "
            "('A', 2024, 40, 10, 0.25::double, 0.97::double, 36, 81.5::double, 3.2::double, "
            "40, 0.6::double), "
            "('B', 2024, 3, 1, 0.33, 0.91, 4, 70.0, 3.0, 3, 0.0), "
            "('C', 2024, 0, 0, null, null, 0, null, null, 0, null)) "
            "t(kode_opd, tahun, n_assessed, n_sangat_baik, share_sangat_baik, mean_achievement, "
            "n_responden, ikm, nrr_u1, n_employees, share_20jp)"
        )
        con.execute("create table analysis.trend_tests as select 1 as x")
        con.execute("create table analysis.rater_effects as select 'k' as penilai_key")
        con.execute("create table staging.stg_assessments as select '198503122010011001' as nip")


def test_planners_extract_selects_and_suppresses(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    _build(build)
    target = tmp_path / "published" / "planners.duckdb"
    copied = publish_extract(build, target, PLANNERS, min_group_size=5)
    assert copied == ["analysis.trend_tests", "marts.mart_agency_year"]
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute("select * from marts.mart_agency_year order by kode_opd").fetchall()
    # A: every group large enough. B: 3 assessed, 4 respondents, 3 employees -> the counts
    # and every figure hidden (the row keeps its keys). C: empty groups stay as they are.
    assert rows[0] == ("A", 2024, 40, 10, 0.25, 0.97, 36, 81.5, 3.2, 40, 0.6)
    assert rows[1] == ("B", 2024, *[None] * 9)
    assert rows[2] == ("C", 2024, 0, 0, None, None, 0, None, None, 0, None)


def test_publish_replaces_the_file_whole(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    _build(build)
    published = tmp_path / "warehouse.duckdb"
    published.write_bytes(b"old")
    publish_warehouse(build, published)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.mart_agency_year").fetchone() == (3,)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".warehouse")]


def test_an_agency_the_fairness_tables_hide_is_hidden_in_the_marts(tmp_path: Path) -> None:
    # A (40 people) was hidden by complementary suppression to protect a small agency: its
    # mart row must not give the pair back by subtraction from the total.
    build = tmp_path / "build.duckdb"
    _build(build)
    with duckdb.connect(str(build)) as con:
        con.execute(
            "create table analysis.fairness_group_rates as select * from (values "
            "(2024, 'kode_opd', 'A', true), (2024, 'kode_opd', 'B', true), "
            "(2023, 'kode_opd', 'A', false)) t(tahun, dimension, group_value, suppressed)"
        )
    target = tmp_path / "planners.duckdb"
    publish_extract(build, target, PLANNERS, min_group_size=5)
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute("select * from marts.mart_agency_year order by kode_opd").fetchall()
    # its assessment figures go; survey and training figures count other people and stay
    assert rows[0] == ("A", 2024, None, None, None, None, 36, 81.5, 3.2, 40, 0.6)


def test_extracts_say_which_quarters_were_left_out(tmp_path: Path) -> None:
    from pipelines.ingest import blocked

    build = tmp_path / "build.duckdb"
    _build(build)
    with duckdb.connect(str(build)) as con:
        con.execute("create schema raw")
        con.execute(blocked.DDL)
        con.execute(
            "insert into raw.blocked_quarters values "
            "('training', date '2024-04-01', 1, 1, 1.0, 'every row quarantined (1 of 1)')"
        )
    target = tmp_path / "planners.duckdb"
    publish_extract(build, target, PLANNERS, min_group_size=5)
    with duckdb.connect(str(target), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        rows = blocked.read(con)
    assert "raw" not in schemas  # the notice is copied, not the raw schema
    assert rows.select("source", "n_rows_read", "reason").rows() == [
        ("training", 1, "every row quarantined (1 of 1)")
    ]


def test_changes_beside_a_hidden_figure_do_not_give_it_back(tmp_path: Path) -> None:
    """A's 2024 Q1 has 2 assessed people and 2 respondents: hidden. Its own change
    (2 - 0 assessed, 50.00 - 40.00 IKM) and Q2's change (87.63 - 50.00) would each give the
    hidden figures back by subtraction, so both are hidden; Q3's change (vs visible Q2)
    stays, and so does every change of B, whose groups are all large enough."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_agency_quarter as select * from (values "
            "('A', 2023, 4, 0, null, 6, 40.0::double, null::double), "
            "('A', 2024, 1, 2, 2, 2, 50.0, 10.0), "
            "('A', 2024, 2, 9, 7, 8, 87.63, 37.63), "
            "('A', 2024, 3, 10, 1, 9, 90.0, 2.37), "
            "('B', 2024, 1, 6, null, 6, 70.0, null), "
            "('B', 2024, 2, 7, 1, 7, 75.0, 5.0)) "
            "t(kode_opd, tahun, triwulan, n_assessed, n_assessed_change, n_responden, ikm, "
            "ikm_change)"
        )
    target = tmp_path / "planners.duckdb"
    publish_extract(build, target, ["marts"], min_group_size=5)
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute(
            "select kode_opd, tahun, triwulan, n_assessed, n_assessed_change, ikm, ikm_change "
            "from marts.mart_agency_quarter order by all"
        ).fetchall()
    assert rows == [
        ("A", 2023, 4, 0, None, 40.0, None),  # nobody assessed is no small group
        ("A", 2024, 1, None, None, None, None),
        ("A", 2024, 2, 9, None, 87.63, None),
        ("A", 2024, 3, 10, 1, 90.0, 2.37),
        ("B", 2024, 1, 6, None, 70.0, None),
        ("B", 2024, 2, 7, 1, 75.0, 5.0),
    ]


def test_means_over_few_employees_with_indicators_are_hidden(tmp_path: Path) -> None:
    """Means need indicator rows, so they are over n_with_indicators employees, not over
    n_assessed (SIASN records are ratings only). A 2024: 40 assessed but only 3 with
    indicators -> the means over those 3 (and their count, their indicator rows and the
    mean's change) are hidden; predikat figures over all 40 stay. A 2025's change (0.97 -
    the hidden 0.95) would give the hidden mean back: hidden too. B: SIASN records only, no
    one with indicators is no small group. C: 3 assessed -> everything hidden by n_assessed.
    D: 3 assessed, none with indicators -> hidden by n_assessed."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_agency_year as select * from (values "
            "('A', 2023, 40, 30, 120, 10, 0.90::double, 0.05::double, null::double), "
            "('A', 2024, 40, 3, 12, 12, 0.95, 0.10, 0.05), "
            "('A', 2025, 40, 30, 120, 11, 0.97, 0.02, 0.02), "
            "('B', 2024, 40, 0, 0, 9, null, null, null), "
            "('C', 2024, 3, 3, 9, 1, 0.80, 0.00, null), "
            "('D', 2024, 3, 0, 0, 1, null, null, null)) "
            "t(kode_opd, tahun, n_assessed, n_with_indicators, n_indicator_rows, "
            "n_sangat_baik, mean_achievement, mean_self_supervisor_gap, "
            "mean_achievement_change)"
        )
    target = tmp_path / "planners.duckdb"
    publish_extract(build, target, ["marts"], min_group_size=5)
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute("select * from marts.mart_agency_year order by all").fetchall()
    assert rows == [
        ("A", 2023, 40, 30, 120, 10, 0.90, 0.05, None),
        ("A", 2024, 40, None, None, 12, None, None, None),
        ("A", 2025, 40, 30, 120, 11, 0.97, 0.02, None),
        ("B", 2024, 40, 0, 0, 9, None, None, None),
        ("C", 2024, *[None] * 7),
        ("D", 2024, *[None] * 7),
    ]


def test_paths_named_after_an_employee_are_masked(tmp_path: Path) -> None:
    """SIASN responses saved per employee carry the NIP in the file name: the extracts mask
    every 18-digit run in path columns; the checksum still tells the files apart."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.audit_superseded_submissions as select * from (values "
            "('raw/siasn/mna/rw-skp22_198501012010011001.json', 'raw/siasn/b_198501012010011001_"
            "199002022015032002.json', 'aa', 'raw/siasn/rw-skp22_198501012010011001.json', 1), "
            "('raw/assessments/2024_tw1.csv', null, 'bb', 'nip 198501012010011001', 2)) "
            "t(source_file, winning_source_file, file_sha256, note, source_row)"
        )
    target = tmp_path / "evaluators.duckdb"
    publish_extract(build, target, ["audit"])
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute(
            "select * from audit.audit_superseded_submissions order by all"
        ).fetchall()
    assert rows == [
        ("raw/assessments/2024_tw1.csv", None, "bb", "nip 198501012010011001", 2),
        (
            "raw/siasn/mna/rw-skp22_<NIP>.json",
            "raw/siasn/b_<NIP>_<NIP>.json",
            "aa",
            "raw/siasn/rw-skp22_198501012010011001.json",  # not a path column: left as is
            1,
        ),
    ]


def test_planners_view_hides_small_groups_and_their_previous_year(tmp_path: Path) -> None:
    """mart_agency_indicator_quarter: a row whose smallest quarter group is under 5 keeps its
    keys only; next year's row then hides the previous year's figure and the change (which
    would give it back); a large row beside a small one is untouched, and a change is never
    hidden by another indicator's row (it is year on year per indicator)."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_agency_indicator_quarter (kode_opd varchar, tahun integer,"
            " triwulan integer, kode_indikator varchar, n_holders integer, annual_target double,"
            " realisasi_tw1 double, realisasi_to_date double, capaian_annual double,"
            " capaian_annual_band varchar, capaian_to_date double, capaian_to_date_band varchar,"
            " n_holders_prev_year integer, capaian_to_date_prev_year double,"
            " capaian_to_date_change double)"
        )
        con.executemany(
            "insert into marts.mart_agency_indicator_quarter values"
            " (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ["A", 2024, "K1", 3, 12, 4, 4, 0.33, "Sangat Rendah", 1.0, "Sangat Tinggi", 0]
                + [None, None],
                ["A", 2024, "K2", 9, 90, 80, 80, 0.89, "Tinggi", 0.89, "Tinggi", 0, None, None],
                ["A", 2025, "K1", 8, 12, 3, 3, 0.25, "Sangat Rendah", 0.9, "Tinggi", 3, 1.0, -0.1],
                ["A", 2025, "K2", 9, 90, 85, 85, 0.94, "Sangat Tinggi", 0.94, "Sangat Tinggi", 9]
                + [0.89, 0.05],
            ],
        )
    target = tmp_path / "planners.duckdb"
    publish_extract(build, target, ["marts"], min_group_size=5)
    with duckdb.connect(str(target), read_only=True) as con:
        rows = con.execute(
            "select tahun, kode_indikator, n_holders, annual_target, realisasi_tw1,"
            " capaian_to_date, capaian_to_date_band, n_holders_prev_year,"
            " capaian_to_date_prev_year, capaian_to_date_change"
            " from marts.mart_agency_indicator_quarter order by all"
        ).fetchall()
    assert rows == [
        (2024, "K1", None, None, None, None, None, None, None, None),
        (2024, "K2", 9, 90.0, 80.0, 0.89, "Tinggi", 0, None, None),
        (2025, "K1", 8, 12.0, 3.0, 0.9, "Tinggi", None, None, None),
        (2025, "K2", 9, 90.0, 85.0, 0.94, "Sangat Tinggi", 9, 0.89, 0.05),
    ]
