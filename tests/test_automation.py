"""The drop-folder sensor, the quarterly schedule and the marts' freshness checks, evaluated
directly (nothing is materialized): which runs each change asks for, with which quarters."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.automation import (
    FRESHNESS_DEADLINE_CRON,
    MART_KEYS,
    MARTS_FRESHNESS_CHECKS,
    Cursor,
    FileState,
    quarter_ranges,
    quarterly_refresh,
    raw_files_sensor,
    scan,
)
from pipelines.exports import ASSESSMENT_COLUMNS, SURVEY_COLUMNS
from pipelines.partitions import QUARTERS, TIMEZONE
from pipelines.settings import Settings

JAKARTA = ZoneInfo(TIMEZONE)
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def assessment_csv(periode: str, tahun: int = 2024) -> str:
    """Two indicator rows of one employee in one period, as an e-Kinerja export has them."""
    base = {
        "nip": "198503152010012001",
        "nama": "Siti Rahmawati, S.Kom.",
        "kode_opd": "MNA-DISDIK",
        "nama_opd": "Dinas Pendidikan",
        "unit_kerja": "Bidang Pembinaan SD",
        "jabatan": "Analis Kebijakan",
        "jenis_jabatan": "JF",
        "golongan": "III/c",
        "tahun": str(tahun),
        "periode": periode,
        "satuan": "%",
        "nilai_mandiri": "88,5",
        "nilai_atasan": "86,0",
        "rating_hasil_kerja": "Sesuai Ekspektasi",
        "rating_perilaku": "Sesuai Ekspektasi",
        "predikat": "Baik",
        "nip_penilai": "197201012001102200",
    }
    indicators = [
        ("IKI-DISDIK-01", "Persentase ketuntasan pembelajaran", "90,0", "92,5"),
        ("IKI-DISDIK-02", "Persentase sekolah terakreditasi", "80,0", "78,0"),
    ]
    lines = [";".join(ASSESSMENT_COLUMNS)]
    for code, name, target, realisasi in indicators:
        row = base | {
            "kode_indikator": code,
            "indikator": name,
            "target": target,
            "realisasi": realisasi,
        }
        lines.append(";".join(row[c] for c in ASSESSMENT_COLUMNS))
    return "\n".join(lines) + "\n"


def survey_csv(*dates: str) -> str:
    """One SKM response per date (dd/mm/yyyy)."""
    lines = [";".join(SURVEY_COLUMNS)]
    for i, day in enumerate(dates, start=1):
        row = {
            "id_responden": f"MNA-DISDUKCAPIL-2025-{i:05d}",
            "tanggal": day,
            "kode_opd": "MNA-DISDUKCAPIL",
            "unit_layanan": "Layanan KTP-el",
            "jenis_layanan": "Permohonan baru",
            "jenis_kelamin": "P",
            "usia": "34",
            "pendidikan": "S1",
            "pekerjaan": "Swasta",
            "saran": "",
        } | {f"u{n}": "3" for n in range(1, 10)}
        lines.append(";".join(row[c] for c in SURVEY_COLUMNS))
    return "\n".join(lines) + "\n"


@dataclass
class Tick:
    requests: list[dg.RunRequest]
    cursor: str
    skip: str | None

    @property
    def ranges(self) -> list[tuple[str, str]]:
        return [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in self.requests]

    @property
    def files(self) -> dict[str, FileState]:
        return Cursor.parse(self.cursor).files


@dataclass
class DropFolder:
    data_dir: Path
    cursor: str | None = None

    def write(self, relative: str, content: str | bytes, age: float = 120.0) -> Path:
        """Drop a file, as if copied in `age` seconds ago (older than the settle time)."""
        path = self.data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        return path

    def tick(self, cursor: str | None = None, keep: bool = True) -> Tick:
        """One sensor evaluation from `cursor` (default: the last one kept)."""
        context = dg.build_sensor_context(
            cursor=cursor if cursor is not None else self.cursor,
            instance=dg.DagsterInstance.ephemeral(),
            resources={"settings": Settings.from_env({"KINERJA_DATA_DIR": str(self.data_dir)})},
        )
        result = raw_files_sensor.evaluate_tick(context)
        assert result.cursor is not None
        if keep:
            self.cursor = result.cursor
        return Tick(list(result.run_requests or []), result.cursor, result.skip_message)


TW1 = "raw/assessments/2024/assessments_2024_tw1.csv"
TW2 = "raw/assessments/2024/assessments_2024_tw2.csv"
SURVEYS = "raw/surveys/surveys_2025_tw3.csv"


@pytest.fixture
def drop(tmp_path: Path) -> DropFolder:
    """A data dir with TW I and TW II 2024 assessments and 2025 Q3 surveys, seen once."""
    folder = DropFolder(tmp_path)
    folder.write(TW1, assessment_csv("TW I"))
    folder.write(TW2, assessment_csv("TW II"))
    folder.write(SURVEYS, survey_csv("05/07/2025", "28/09/2025"))
    return folder


@pytest.fixture
def seen(drop: DropFolder) -> DropFolder:
    drop.tick()
    return drop


def latest() -> str:
    return QUARTERS.get_partition_keys()[-1]


# ---------------------------------------------------------------- sensor


def test_first_tick_is_one_backfill_over_every_quarter_present(drop: DropFolder) -> None:
    tick = drop.tick()
    # 2024-01, 2024-04 and 2025-07 are not contiguous: a first tick still asks for one run.
    assert tick.ranges == [("2024-01", "2025-07")]
    assert tick.requests[0].tags["kinerja/trigger"] == "raw_files_sensor"
    assert tick.requests[0].partition_key is None
    files = tick.files
    assert {p: s.quarters for p, s in files.items()} == {
        TW1: ["2024-01"],
        TW2: ["2024-04"],
        SURVEYS: ["2025-07"],
    }
    for relative, state in files.items():
        content = (drop.data_dir / relative).read_bytes()
        assert state.sha256 == hashlib.sha256(content).hexdigest()
        assert state.as_of == latest()
    assert json.loads(tick.cursor)["generation"] == 1


def test_nothing_changed_launches_nothing(seen: DropFolder) -> None:
    before = seen.cursor
    tick = seen.tick()
    assert tick.requests == []
    assert tick.skip == "no export added, changed or deleted"
    assert tick.cursor == before


def test_same_bytes_dropped_again_launch_nothing(seen: DropFolder) -> None:
    old_mtime = seen.tick(keep=False).files[TW2].mtime_ns
    seen.write(TW2, assessment_csv("TW II"), age=30)  # rewritten: new mtime, same bytes
    tick = seen.tick()
    assert tick.requests == []
    # The new mtime is recorded, so the next tick does not hash the file again.
    assert tick.files[TW2].mtime_ns != old_mtime
    assert tick.files[TW2].mtime_ns == (seen.data_dir / TW2).stat().st_mtime_ns
    assert seen.tick().requests == []


def test_changed_file_runs_its_old_and_new_quarters(seen: DropFolder) -> None:
    seen.write(TW2, assessment_csv("TW III"))
    tick = seen.tick()
    assert tick.ranges == [("2024-04", "2024-07")]
    assert tick.files[TW2].quarters == ["2024-07"]
    assert seen.tick().requests == []


def test_new_file_runs_its_quarter_only(seen: DropFolder) -> None:
    seen.write("raw/assessments/assessments_2025_tw1.csv", assessment_csv("TW I", 2025))
    assert seen.tick().ranges == [("2025-01", "2025-01")]


def test_changes_far_apart_run_as_separate_ranges(seen: DropFolder) -> None:
    seen.write(TW1, assessment_csv("TW I").replace("92,5", "93,0"))
    seen.write(SURVEYS, survey_csv("05/07/2025", "01/10/2025"))  # Q3 and now Q4 too
    seen.write("raw/assessments/assessments_2024_tw4.csv", assessment_csv("TW IV"))
    tick = seen.tick()
    assert tick.ranges == [("2024-01", "2024-01"), ("2024-10", "2024-10"), ("2025-07", "2025-10")]
    assert len({r.run_key for r in tick.requests}) == 3


def test_deleted_file_runs_its_recorded_quarters(seen: DropFolder) -> None:
    (seen.data_dir / SURVEYS).unlink()
    tick = seen.tick()
    assert tick.ranges == [("2025-07", "2025-07")]
    assert SURVEYS not in tick.files


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01PK\x03garbage\xff\xfe" * 40,  # binary named .csv
        assessment_csv("TW I", 2019),  # read, but no row in a partition
    ],
    ids=["unreadable", "no-placeable-row"],
)
def test_file_without_quarters_runs_the_latest_quarter(
    seen: DropFolder, content: str | bytes
) -> None:
    seen.write("raw/assessments/kiriman_opd.csv", content)
    tick = seen.tick()
    assert tick.ranges == [(latest(), latest())]
    assert tick.files["raw/assessments/kiriman_opd.csv"].quarters == []
    (seen.data_dir / "raw/assessments/kiriman_opd.csv").unlink()
    assert seen.tick().ranges == [(latest(), latest())]


def test_other_files_are_not_watched(seen: DropFolder) -> None:
    seen.write("raw/assessments/catatan.txt", "bukan ekspor")
    seen.write("raw/lainnya/x.csv", assessment_csv("TW I"))
    seen.write("reference/agencies.csv", "kode_opd,nama_opd,pemda\n")
    assert seen.tick().requests == []


def test_a_retried_tick_repeats_its_run_keys_and_a_repeated_change_does_not(
    seen: DropFolder,
) -> None:
    before = seen.cursor
    seen.write(TW2, assessment_csv("TW III"))
    first = seen.tick(keep=False)
    retried = seen.tick(cursor=before, keep=False)  # daemon re-evaluates the same tick
    assert [r.run_key for r in first.requests] == [r.run_key for r in retried.requests]

    seen.tick()  # TW II -> TW III
    seen.write(TW2, assessment_csv("TW II"))
    back = seen.tick()  # TW III -> TW II
    seen.write(TW2, assessment_csv("TW III"))
    again = seen.tick()  # TW II -> TW III, a second time: must launch again
    assert back.ranges == again.ranges == [("2024-04", "2024-07")]
    assert again.requests[0].run_key not in {r.run_key for r in [*first.requests, *back.requests]}


def test_file_still_being_copied_waits_for_the_next_tick(seen: DropFolder) -> None:
    relative = "raw/surveys/surveys_2025_tw1.csv"
    seen.write(relative, survey_csv("03/02/2025"), age=0)
    tick = seen.tick()
    assert tick.requests == [] and relative not in tick.files
    seen.write(relative, survey_csv("03/02/2025"))
    assert seen.tick().ranges == [("2025-01", "2025-01")]


def test_time_budget_spreads_work_over_ticks_without_losing_files(drop: DropFolder) -> None:
    keys = QUARTERS.get_partition_keys()
    files: dict[str, FileState] = {}
    seen_changes: list[str] = []
    for _ in range(3):
        files, changes = scan(drop.data_dir, files, keys, time.time(), budget_seconds=0)
        assert len(changes) == 1  # over budget at once, but always one step forward
        seen_changes += [c.path for c in changes]
    assert sorted(seen_changes) == sorted([TW1, TW2, SURVEYS])
    assert scan(drop.data_dir, files, keys, time.time(), budget_seconds=0)[1] == []


def test_new_partition_rerecords_quarters_without_a_run(drop: DropFolder) -> None:
    """A row of a quarter that had not ended was in no partition when recorded; once the
    quarter is a partition the record catches up, so a later deletion covers it."""
    keys = QUARTERS.get_partition_keys()
    files, _ = scan(drop.data_dir, {}, keys, time.time())
    stale = {p: FileState(s.sha256, [], s.size, s.mtime_ns, "2024-01") for p, s in files.items()}
    refreshed, changes = scan(drop.data_dir, stale, keys, time.time())
    assert changes == []
    assert refreshed == files


def test_file_deleted_before_its_record_caught_up_covers_the_newer_quarters(
    seen: DropFolder,
) -> None:
    """Recorded when the latest quarter had not ended: its rows there may have loaded since."""
    keys = QUARTERS.get_partition_keys()
    cursor = Cursor.parse(seen.cursor)
    cursor.files["raw/surveys/dihapus.csv"] = FileState("0" * 64, ["2025-07"], 10, 1, keys[-2])
    tick = seen.tick(cursor=cursor.dump())
    assert tick.ranges == [("2025-07", "2025-07"), (keys[-1], keys[-1])]


def test_quarter_ranges_join_consecutive_keys_only() -> None:
    keys = ["2024-01", "2024-04", "2024-07", "2024-10", "2025-01"]
    assert quarter_ranges({"2024-04", "2024-01", "2024-10", "2025-01"}, keys) == [
        ("2024-01", "2024-04"),
        ("2024-10", "2025-01"),
    ]
    assert quarter_ranges({"2024-07"}, keys) == [("2024-07", "2024-07")]
    assert quarter_ranges({"2019-01"}, keys) == []


def test_sensor_is_stopped_by_default_and_targets_materialize_all() -> None:
    assert raw_files_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert raw_files_sensor.job_name == "materialize_all"
    assert raw_files_sensor.minimum_interval_seconds == 30


# ---------------------------------------------------------------- schedule


@pytest.mark.parametrize(
    ("tick", "quarter"),
    [
        (datetime(2026, 4, 1, 6, tzinfo=JAKARTA), "2026-01"),
        (datetime(2026, 1, 1, 6, tzinfo=JAKARTA), "2025-10"),
        (datetime(2025, 10, 1, 6, tzinfo=JAKARTA), "2025-07"),
        # 06:00 WIB on 1 April is still 31 March in UTC: the quarter is taken in WIB.
        (datetime(2024, 3, 31, 23, tzinfo=ZoneInfo("UTC")), "2024-01"),
    ],
)
def test_schedule_runs_the_quarter_that_just_ended(tick: datetime, quarter: str) -> None:
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    result = quarterly_refresh.evaluate_tick(context)
    assert result.skip_message is None
    [request] = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (quarter, quarter)
    assert request.run_key == f"quarterly_refresh:{quarter}"


def test_schedule_skips_quarters_before_the_first() -> None:
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2023, 1, 1, 6, tzinfo=JAKARTA)
    )
    result = quarterly_refresh.evaluate_tick(context)
    assert result.run_requests == []
    assert "2022-10" in (result.skip_message or "")


def test_schedule_cadence() -> None:
    assert quarterly_refresh.cron_schedule == "0 6 1 1,4,7,10 *"
    assert quarterly_refresh.execution_timezone == TIMEZONE
    assert quarterly_refresh.job_name == "materialize_all"
    assert quarterly_refresh.default_status == dg.DefaultScheduleStatus.STOPPED


# ---------------------------------------------------------------- freshness


def expected_fresh_quarter(now: datetime) -> str:
    """The quarter that must be built by the last deadline (15 Feb/May/Aug/Nov, 09:00 WIB)
    before `now`: the one that ended before the deadline's quarter began."""
    now = now.astimezone(JAKARTA)
    deadlines = [
        datetime(year, month, 15, 9, tzinfo=JAKARTA)
        for year in (now.year - 1, now.year)
        for month in (2, 5, 8, 11)
    ]
    deadline = max(d for d in deadlines if d <= now)
    month = deadline.month - 4  # deadline month 2 -> quarter starting in October before
    year = deadline.year - 1 if month < 1 else deadline.year
    return f"{year}-{month % 12 or 12:02d}"


def test_freshness_checks_cover_the_marts_with_the_deadline() -> None:
    specs = [spec for checks in MARTS_FRESHNESS_CHECKS for spec in checks.check_specs]
    assert sorted(s.asset_key for s in specs) == sorted(MART_KEYS)
    for spec in specs:
        params = spec.metadata["dagster/freshness_params"].data
        assert params == {"deadline_cron": FRESHNESS_DEADLINE_CRON, "timezone": TIMEZONE}
    assert FRESHNESS_DEADLINE_CRON == "0 9 15 2,5,8,11 *"


def test_freshness_fails_until_the_expected_quarter_is_materialized() -> None:
    expected = expected_fresh_quarter(datetime.now(JAKARTA))
    keys = QUARTERS.get_partition_keys()
    older = keys[keys.index(expected) - 1]
    job = dg.define_asset_job(
        "freshness", selection=dg.AssetSelection.checks(*MARTS_FRESHNESS_CHECKS)
    )
    defs = dg.Definitions(
        assets=[dg.AssetSpec(key, partitions_def=QUARTERS) for key in MART_KEYS],
        asset_checks=MARTS_FRESHNESS_CHECKS,
        jobs=[job],
    )
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dict[dg.AssetKey, bool]:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
        return {e.asset_key: e.passed for e in result.get_asset_check_evaluations()}

    assert evaluate() == dict.fromkeys(MART_KEYS, False)
    quarter, year, curve = MART_KEYS
    instance.report_runless_asset_event(dg.AssetMaterialization(quarter, partition=expected))
    instance.report_runless_asset_event(dg.AssetMaterialization(year, partition=older))
    assert evaluate() == {quarter: True, year: False, curve: False}


# ---------------------------------------------------------------- definitions


def test_definitions_carry_the_automation() -> None:
    from pipelines.definitions import build_defs

    defs = build_defs()
    assert defs.resolve_sensor_def("raw_files_sensor") is raw_files_sensor
    assert defs.resolve_schedule_def("quarterly_refresh") is quarterly_refresh
    freshness_sensor = defs.resolve_sensor_def("marts_freshness_sensor")
    assert freshness_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    for key in MART_KEYS:
        assert graph.get(key).partitions_def == QUARTERS
        assert dg.AssetCheckKey(key, "freshness_check") in graph.get(key).check_keys
    # Every materialize_all run also evaluates the freshness checks.
    job = defs.resolve_job_def("materialize_all")
    assert {k.name for k in job.asset_layer.asset_graph.asset_check_keys} >= {"freshness_check"}
