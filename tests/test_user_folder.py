"""Issue 11 §3, "a user's own folder must run": `kinerja run` on a hand-made folder (see
tests/user_folder.py) with only the required reference files, a header-only optional one,
an unreadable export, a small quarter with 2 bad rows of 8, a quarter whose only row is bad
and a 30%-bad survey quarter. The blocked source-quarters stay out of the marts and are
listed; everything else is published; data problems are one line, never a traceback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from pipelines.cli import main
from pipelines.cli.run import EXIT_HELD_BACK
from pipelines.settings import PROJECT_ROOT
from tests.user_folder import POPULATION_HEADER, write_user_folder

pytestmark = pytest.mark.xdist_group("user_folder")

BLOCKED_LINES = [
    "BLOCKED: 2 source-quarter(s) left out of the marts, reports and extracts; everything "
    "else was published:",
    "  - training 2024-Q2: every row quarantined (1 of 1)",
    "  - surveys 2024-Q3: 30.0% of 30 rows quarantined (limit 20%)",
    "  fix these exports (quarantine.<source> says why each row was rejected; "
    "`kinerja export-quarantine DIR` writes them out) and run again",
]
NOT_ASSESSABLE = (
    "NOT ASSESSABLE: SKM sample sizes, reference/service_population.csv was not given "
    "(audit.audit_survey_sample_size.adequate is NULL); add it to assess them"
)
BANNER = [
    "PERHATIAN: data berikut diblokir dan tidak termasuk dalam laporan ini",
    "pelatihan (training) 2024-Q2: 1 dari 1 baris ditolak (100,0%)",
    "survei kepuasan masyarakat (surveys) 2024-Q3: 9 dari 30 baris ditolak (30,0%)",
]


@dataclass(frozen=True)
class UserRun:
    root: Path
    result: Result

    @property
    def data_dir(self) -> Path:
        return self.root / "my_exports"

    @property
    def warehouse(self) -> Path:
        return self.root / "kinerja.duckdb"

    def query(self, sql: str, database: Path | None = None) -> list[tuple]:
        with duckdb.connect(str(database or self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def _kinerja_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> UserRun:
    """`kinerja run` as a user types it, with every path under ``root``."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("KINERJA_DATA_DIR", str(root / "my_exports"))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(root / "kinerja.duckdb"))
    monkeypatch.setenv("KINERJA_REPORTS_DIR", str(root / "reports"))
    monkeypatch.setenv("KINERJA_REPORT_PNG", "0")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in ("KINERJA_MAX_QUARANTINE_SHARE", "KINERJA_QUARANTINE_MIN_ROWS"):
        monkeypatch.delenv(name, raising=False)
    return UserRun(root, CliRunner().invoke(main, ["run", "--no-generate"]))


@pytest.fixture(scope="module")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserRun]:
    root = tmp_path_factory.mktemp("user")
    data_dir = write_user_folder(root / "my_exports")
    (data_dir / "reference" / "service_population.csv").write_text(POPULATION_HEADER)
    (data_dir / "raw" / "training" / "rekap_lama.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _kinerja_run(root, monkeypatch)


def test_the_run_publishes_without_a_traceback_and_says_it_held_back(user_run: UserRun) -> None:
    """Exit 3: published, with blocked quarters and an unreadable file held back."""
    assert user_run.result.exit_code == EXIT_HELD_BACK, user_run.result.output
    assert "Traceback" not in user_run.result.output
    assert (user_run.root / "dagster_home" / "logs").is_dir()


def test_blocked_quarters_are_listed(user_run: UserRun) -> None:
    assert user_run.query("select * from raw.blocked_quarters order by source") == [
        ("surveys", date(2024, 7, 1), 30, 9, 0.3, "30.0% of 30 rows quarantined (limit 20%)"),
        ("training", date(2024, 4, 1), 1, 1, 1.0, "every row quarantined (1 of 1)"),
    ]


def test_summary_says_what_was_left_out_and_what_to_do(user_run: UserRun) -> None:
    lines = user_run.result.output.splitlines()
    start = lines.index(BLOCKED_LINES[0])
    assert lines[start : start + 4] == BLOCKED_LINES
    assert any(
        line.startswith("UNREADABLE: raw/training/rekap_lama.xlsx: cannot be read as an Excel")
        and line.endswith("; the file was left out")
        for line in lines
    )
    assert NOT_ASSESSABLE in lines
    # The Dagster checks quarantine_share_within_limit and all_files_readable fail (at ERROR
    # severity, the run went on and published), but the lines above already say so: each
    # problem is told once.
    assert not [line for line in lines if line.startswith("CHECK FAILED")]
    assert user_run.result.output.count("rekap_lama.xlsx") == 1


def test_blocked_survey_quarter_is_absent_from_the_marts(user_run: UserRun) -> None:
    """Q3's 21 valid survey rows stay in raw but reach no mart; the other quarters carry
    their 15 respondents per agency (IKM by hand: NRR = 3 + 68/135, x 25 = 87.59)."""
    in_raw = user_run.query("select count(*) from raw.surveys where quarter = '2024-07-01'")
    assert in_raw == [(21,)]
    surveys = user_run.query(
        "select kode_opd, triwulan, n_responden, ikm from marts.mart_agency_quarter "
        "where tahun = 2024 order by kode_opd, triwulan"
    )
    assert surveys == [
        (code, q, 0, None) if q == 3 else (code, q, 15, 87.59)
        for code in ("OPD01", "OPD02")
        for q in (1, 2, 3, 4)
    ]


def test_other_sources_and_quarters_are_published(user_run: UserRun) -> None:
    """Training Q1 (2 bad of 8: too few rows for the share rule) loads its 6 valid rows
    (72 JP, OPD01); Q2 (its one row bad) is blocked; Q3 16 JP x 3 per agency; Q4 3 and 1
    courses of 10 JP. Every assessment quarter: 6 employees per agency."""
    rows = user_run.query(
        "select kode_opd, triwulan, n_assessed, jp_total from marts.mart_agency_quarter "
        "where tahun = 2024 order by kode_opd, triwulan"
    )
    assert rows == [
        ("OPD01", 1, 6, 72.0),
        ("OPD01", 2, 6, 0.0),
        ("OPD01", 3, 6, 48.0),
        ("OPD01", 4, 6, 30.0),
        ("OPD02", 1, 6, 0.0),
        ("OPD02", 2, 6, 0.0),
        ("OPD02", 3, 6, 48.0),
        ("OPD02", 4, 6, 10.0),
    ]
    published = user_run.root / "published"
    for extract in ("planners.duckdb", "evaluators.duckdb"):
        counted = user_run.query(
            "select triwulan, sum(n_responden) from marts.mart_agency_quarter "
            "where tahun = 2024 group by triwulan order by triwulan",
            published / extract,
        )
        assert counted[:2] == [(1, 30), (2, 30)] and counted[3] == (4, 30), extract
        assert counted[2][1] in (0, None), extract


def test_both_reports_carry_the_banner(user_run: UserRun) -> None:
    for name in ("trends.html", "fairness.html"):
        page = (user_run.root / "reports" / name).read_text(encoding="utf-8")
        banner = page[page.index('<div class="banner"') : page.index('<div class="summary">')]
        for text in BANNER:
            assert text in banner, (name, text)


def test_header_only_population_means_not_assessable(user_run: UserRun) -> None:
    assert user_run.query("select count(*) from raw.service_population") == [(0,)]
    assert user_run.query(
        "select unit_layanan, n_responden, required_sample, adequate "
        "from audit.audit_survey_sample_size order by unit_layanan"
    ) == [("Layanan Mutasi Guru", 45, None, None), ("Puskesmas Kota", 45, None, None)]


def test_a_missing_required_reference_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is published; the user reads which file, what is wrong and what to do, and
    where the log with the traceback is. (Other reference problems word their line the same
    way: tests/test_blocked.py.)"""
    data_dir = write_user_folder(tmp_path / "my_exports")
    (data_dir / "reference" / "agencies.csv").unlink()
    message = (
        f"raw__agencies: reference/agencies.csv is missing under {data_dir}: it is required "
        "(columns: kode_opd, nama_opd, pemda); add it"
    )

    run = _kinerja_run(tmp_path, monkeypatch)

    output = run.result.output
    assert run.result.exit_code == 1
    assert message in output.splitlines()
    assert "Traceback" not in output and "Stack Trace" not in output
    logs = list((tmp_path / "dagster_home" / "logs").glob("run-*.log"))
    assert len(logs) == 1
    assert f"Full log, with tracebacks: {logs[0]}" in output
    assert "ReferenceFileError" in logs[0].read_text(encoding="utf-8")
    assert not run.warehouse.exists()
