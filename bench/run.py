"""Scale benchmark: generate 10k / 100k (/ 1M / 4.3M) employees, run the whole pipeline, measure.

For each size, in fresh subprocesses so that nothing is cached or shared between them:

1. generate the exports (``pipelines.generate.generate_dataset``, one year: 4 quarters + the
   annual period, ~5 indicators each, i.e. ~25 indicator rows per employee);
2. the floor: DuckDB alone reading the same raw files once (``bench/floor_duckdb.py``);
3. the pipeline: job ``materialize_all`` (ingest, validate, dbt marts and tests, analyses,
   reports, publish) via ``execute_in_process``, with per-step wall times from the run's
   event log, peak RSS of the whole process tree (incl. the dbt subprocess) and peak bytes of
   DuckDB's spill files per stage, and dbt's own per-node times (its run_results.json);
4. the peer: the plain pandas script (``bench/baseline_pandas.py``, BASELINE only);
5. the new quarter (from 1M on, or with ``--new-quarter``): 2026 TW I assessment exports
   dropped into the data folder, then ``kinerja run --quarters 2026-01`` on the built
   warehouse (``bench/new_quarter.py``), measured like the pipeline.

Writes ``bench/results.json`` and prints a table with the targets, met or not.

Usage::

    python bench/run.py                      # 10k and 100k
    BENCH_FULL=1 python bench/run.py         # + 1M
    BENCH_NATIONAL=1 python bench/run.py     # + 4.3M (the whole nation's ASN)
    python bench/run.py --sizes 10000 --keep # one size, keep the generated data
    python bench/run.py --sizes 10000 --new-quarter  # with the new-quarter run at 10k
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SEED = 7
YEARS = (2025,)
GIB = 1024**3
GB = 1000**3
NATIONAL = 4_300_000  # ASN in Indonesia: the whole nation in one run (BENCH_NATIONAL=1)
NEW_QUARTER_FROM = 1_000_000  # sizes from here on also run the new-quarter scenario
NEW_QUARTER_KEY = "2026-01"  # the partition key of the quarter bench/new_quarter.py writes

# Dagster step key -> stage. Checks that run as their own steps belong to their asset's stage.
STAGES = ("ingest", "dbt", "analysis", "reports", "publish")

TARGETS = {
    "e2e_1m_s": 180.0,
    "peak_rss_1m_gib": 8.0,
    "spill_1m_gb": 15.0,
    "new_quarter_1m_s": 60.0,
    "e2e_national_s": 900.0,
    "peak_rss_national_gib": 16.0,
    "ingest_vs_floor": 2.5,
    "speedup_vs_pandas_100k": 10.0,
}
# DuckDB's memory limit for the measured runs (ingestion and dbt), unless the environment
# sets KINERJA_DUCKDB_MEMORY_LIMIT: 5 GB under the 8 GiB RSS target, leaving ~3 GiB for
# what sits beside DuckDB's buffer pool: the Dagster process's polars frames (ingestion
# blocks, analysis tables), the dbt subprocess itself, and DuckDB overshooting its own limit
# (the limit covers the buffer pool, not every allocation). The product's own default is 30%
# of RAM (pipelines/resources.py).
BENCH_DUCKDB_MEMORY_LIMIT = "5GB"
# The national size: the same reasoning under its 16 GiB target.
BENCH_DUCKDB_MEMORY_LIMIT_NATIONAL = "12GB"


def stage_of(step_key: str) -> str:
    """The bench's stages are `kinerja run`'s, coarser: references and each source's ingest
    count as ingest."""
    from pipelines.cli.progress import stage_of as run_stage

    stage = run_stage(step_key)
    coarser = {"references": "ingest", "dbt build": "dbt", "analyses": "analysis"}
    return coarser.get(stage, stage.split()[0])


# ---------------------------------------------------------------- measuring a child process


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()
        self.spill: SpillSampler | None = None  # set by run_measured when spill is watched

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
            self.samples.append((time.time(), total))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float | None = None, end: float | None = None) -> int:
        values = [
            rss
            for t, rss in self.samples
            if (start is None or t >= start) and (end is None or t <= end)
        ]
        return max(values, default=0)


def is_spill_dir(part: str) -> bool:
    """DuckDB's spill folders: ``duckdb_tmp`` (ingestion, KINERJA_DUCKDB_TEMP_DIR's default
    beside the build warehouse) and ``<database>.tmp`` (dbt: DuckDB's default)."""
    return part == "duckdb_tmp" or part.endswith(".tmp")


class SpillSampler(threading.Thread):
    """Samples every ``interval`` s the bytes of the files in DuckDB's spill folders under
    ``root`` (any depth): apparent size (st_size) and allocated on disk (st_blocks)."""

    def __init__(self, root: Path, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self._halt = threading.Event()

    def measure(self) -> tuple[int, int]:
        size = disk = 0
        for folder, _, files in os.walk(self.root):
            parts = Path(folder).relative_to(self.root).parts
            if not any(is_spill_dir(part) for part in parts):
                continue
            for name in files:
                with contextlib.suppress(OSError):  # DuckDB deletes them as it goes
                    stat = os.lstat(os.path.join(folder, name))
                    size += stat.st_size
                    disk += stat.st_blocks * 512
        return size, disk

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.time(), *self.measure()))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float | None = None, end: float | None = None, disk: bool = False) -> int:
        return max(
            (
                s[2 if disk else 1]
                for s in self.samples
                if (start is None or s[0] >= start) and (end is None or s[0] <= end)
            ),
            default=0,
        )


def run_measured(
    args: list[str], env: dict[str, str], log: Path, spill_root: Path | None = None
) -> tuple[float, TreeSampler]:
    """Run a child to completion; its wall time and the RSS samples of its process tree
    (and, with ``spill_root``, the spill samples under it as ``sampler.spill``)."""
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        if spill_root is not None:
            sampler.spill = SpillSampler(spill_root)
            sampler.spill.start()
        code = proc.wait()
        sampler.stop()
        if sampler.spill is not None:
            sampler.spill.stop()
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(args)} failed with exit code {code}:\n{tail}")
    return time.perf_counter() - started, sampler


# ---------------------------------------------------------------- the pipeline child


def pipeline_child(work: Path, out: Path) -> None:
    """Run inside the child: materialize_all on ``work``; write step timings to ``out``."""
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.partitions import all_quarters_tags
    from pipelines.settings import Settings

    instance = dg.DagsterInstance.ephemeral()
    defs = build_defs(Settings.from_env())
    job = defs.resolve_job_def("materialize_all")
    started = time.time()
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, tags=all_quarters_tags()
    )
    ended = time.time()
    steps = run_steps(instance, result.run_id)
    out.write_text(
        json.dumps(
            {"success": result.success, "start": started, "end": ended, "steps": steps}, indent=1
        )
    )
    if not result.success:
        sys.exit(1)


def last_run_child(out: Path) -> None:
    """Run inside a child: the steps of the latest run in the DAGSTER_HOME instance (the one
    ``kinerja run`` just made), written like pipeline_child's."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        record = {
            "success": run.status == dg.DagsterRunStatus.SUCCESS,
            "start": stats.start_time,
            "end": stats.end_time,
            "steps": run_steps(instance, run.run_id),
        }
    out.write_text(json.dumps(record, indent=1))


def run_steps(instance, run_id: str) -> dict[str, dict]:
    """Step key -> stage, start, end, status, duration_s (and rows_read for ingestion)."""
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {"stage": stage_of(event.step_key)})
        if event.event_type_value == "STEP_START":
            step["start"] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
            step["status"] = event.event_type_value
            step["duration_s"] = (
                event.event_specific_data.duration_ms / 1000
                if event.event_type_value == "STEP_SUCCESS"
                else entry.timestamp - step.get("start", entry.timestamp)
            )
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            meta = event.event_specific_data.materialization.metadata
            if "rows_read" in meta and event.step_key.startswith("ingest_"):
                step["rows_read"] = meta["rows_read"].value
    return steps


# ---------------------------------------------------------------- one size


def duckdb_memory_limit(employees: int) -> str:
    """KINERJA_DUCKDB_MEMORY_LIMIT when the user sets it, else the benchmark's choice."""
    given = os.environ.get("KINERJA_DUCKDB_MEMORY_LIMIT", "").strip()
    if given:
        return given
    if employees >= NATIONAL:
        return BENCH_DUCKDB_MEMORY_LIMIT_NATIONAL
    return BENCH_DUCKDB_MEMORY_LIMIT


def child_env(work: Path, memory_limit: str = BENCH_DUCKDB_MEMORY_LIMIT) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KINERJA_DATA_DIR=str(work / "data"),
        KINERJA_WAREHOUSE=str(work / "warehouse" / "warehouse.duckdb"),
        KINERJA_REPORTS_DIR=str(work / "reports"),
        KINERJA_PSEUDONYM_KEY="bench-pseudonym-key",
        KINERJA_DUCKDB_MEMORY_LIMIT=memory_limit,
        DAGSTER_HOME=str(work / "dagster_home"),
        PYTHONPATH=str(ROOT),
    )
    return env


def raw_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in (data_dir / "raw").rglob("*") if p.is_file())


def run_script(
    script: str, name: str, data: Path, work: Path, env: dict[str, str]
) -> tuple[float, TreeSampler, dict]:
    """A reference script `script DATA OUT_JSON` measured like the pipeline; its JSON."""
    out = work / f"{name}.json"
    wall, sampler = run_measured(
        [sys.executable, str(BENCH_DIR / script), str(data), str(out)], env, work / f"{name}.log"
    )
    return wall, sampler, json.loads(out.read_text())


def dbt_target(work: Path, name: str) -> Path:
    """DBT_TARGET_PATH for one measured run: dagster-dbt writes each dbt invocation's
    artifacts (run_results.json, dbt.log) in a fresh folder under it."""
    return work / "dbt_target" / name


def dbt_summary(target: Path, started: float, top: int = 10) -> dict | None:
    """dbt's own timings of the run: the newest run_results.json under ``target`` (else
    under dbt_project/target/) written after ``started`` (time.time())."""
    found = [p for p in target.glob("*/run_results.json") if p.stat().st_mtime >= started]
    if not found:  # DBT_TARGET_PATH not honoured: dagster-dbt's default place
        found = [
            p
            for p in (ROOT / "dbt_project" / "target").glob("kinerja_dbt_assets-*/run_results.json")
            if p.stat().st_mtime >= started
        ]
    if not found:
        return None
    path = max(found, key=lambda p: p.stat().st_mtime)
    record = json.loads(path.read_text())
    nodes = [
        {
            "unique_id": r["unique_id"],
            "resource_type": r["unique_id"].split(".", 1)[0],
            "status": r.get("status"),
            "execution_time": r.get("execution_time") or 0.0,
        }
        for r in record.get("results", [])
    ]
    by_type: dict[str, dict] = {}
    for node in nodes:
        total = by_type.setdefault(node["resource_type"], {"nodes": 0, "execution_s": 0.0})
        total["nodes"] += 1
        total["execution_s"] += node["execution_time"]
    return {
        "run_results": str(path),
        "elapsed_s": record.get("elapsed_time"),
        "nodes": len(nodes),
        "execution_s": sum(n["execution_time"] for n in nodes),
        "by_type": dict(sorted(by_type.items())),
        "top": sorted(nodes, key=lambda n: -n["execution_time"])[:top],
    }


def summarise_run(run: dict, sampler: TreeSampler) -> dict:
    """Per-stage wall time, rows/s, peak RSS and peak spill of a run's steps."""
    rows_read = sum(s.get("rows_read", 0) for s in run["steps"].values())
    spill = sampler.spill
    stages: dict[str, dict] = {}
    for stage in STAGES:
        steps = [s for s in run["steps"].values() if s["stage"] == stage and "end" in s]
        seconds = sum(s["duration_s"] for s in steps)
        stages[stage] = {
            "wall_s": seconds,
            "rows_per_s": rows_read / seconds if seconds else None,
            "peak_rss_bytes": max((sampler.peak(s["start"], s["end"]) for s in steps), default=0),
            "peak_spill_bytes": max((spill.peak(s["start"], s["end"]) for s in steps), default=0)
            if spill
            else None,
            "steps": len(steps),
        }
    return {
        "rows_read": rows_read,
        "job_wall_s": (run["end"] - run["start"]) if run.get("end") else None,
        "peak_rss_bytes": sampler.peak(),
        "peak_spill_bytes": spill.peak() if spill else None,
        "peak_spill_disk_bytes": spill.peak(disk=True) if spill else None,
        "stages": stages,
        "steps": {
            k: {"stage": v["stage"], "wall_s": v.get("duration_s")}
            for k, v in sorted(run["steps"].items(), key=lambda kv: kv[1].get("start", 0))
        },
    }


def new_quarter(employees: int, work: Path, env: dict[str, str]) -> dict:
    """Drop 2026 TW I assessment exports into the data folder of a built warehouse, then run
    the product's quarter run (`kinerja run --quarters 2026-01`) for that quarter, measured."""
    py = sys.executable
    data = work / "data"
    script = str(BENCH_DIR / "new_quarter.py")
    print(
        f"[{employees:,}] new quarter: writing {NEW_QUARTER_KEY} assessment exports …", flush=True
    )
    derived = work / "new_quarter_files.json"
    run_measured([py, script, "derive", str(data), str(derived)], env, work / "nq_derive.log")
    files = json.loads(derived.read_text())

    # `kinerja run` uses the DAGSTER_HOME instance: set it up as `make run` does.
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    nq_env = {**env, "DBT_TARGET_PATH": str(dbt_target(work, "new_quarter"))}
    print(f"[{employees:,}] new quarter: kinerja run --quarters {NEW_QUARTER_KEY} …", flush=True)
    started = time.time()
    wall, sampler = run_measured(
        [py, "-m", "pipelines.cli", "run", "--quarters", NEW_QUARTER_KEY],
        nq_env,
        work / "new_quarter.log",
        spill_root=work,
    )
    steps_json = work / "new_quarter_steps.json"
    subprocess.run(
        [py, str(Path(__file__).resolve()), "--last-run", str(steps_json)],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    summary = summarise_run(json.loads(steps_json.read_text()), sampler)
    check_json = work / "new_quarter_check.json"
    run_measured(
        [py, script, "check", env["KINERJA_WAREHOUSE"], str(check_json)],
        env,
        work / "nq_check.log",
    )
    result = {
        "partition_key": NEW_QUARTER_KEY,
        "command": f"kinerja run --quarters {NEW_QUARTER_KEY}",
        "wall_s": wall,
        "peak_rss_bytes": sampler.peak(),
        "rows_added": files["rows_added"],
        "bytes_added": files["bytes_added"],
        "files": files["files"],
        "skipped_files": files["skipped_files"],
        "prepare_s": files["prepare_s"],
        **{k: v for k, v in summary.items() if k != "peak_rss_bytes"},
        "check": json.loads(check_json.read_text()),
        "dbt_top": dbt_summary(dbt_target(work, "new_quarter"), started),
    }
    print(
        f"[{employees:,}] new quarter: {wall:.1f} s, peak RSS "
        f"{result['peak_rss_bytes'] / GIB:.2f} GiB, {result['rows_added']:,} rows added, "
        f"{result['check']['mart_agency_quarter_rows']:,} mart_agency_quarter rows for it",
        flush=True,
    )
    return result


def bench_size(employees: int, work: Path, run_baseline: bool, run_new_quarter: bool) -> dict:
    py = sys.executable
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    memory_limit = duckdb_memory_limit(employees)
    env = child_env(work, memory_limit)
    data = work / "data"
    result: dict = {"employees": employees, "duckdb_memory_limit": memory_limit}

    print(f"[{employees:,}] generating …", flush=True)
    gen_code = (
        "from pathlib import Path; from pipelines.generate import generate_dataset; "
        f"generate_dataset(Path({str(data)!r}), employees={employees}, seed={SEED}, "
        f"years={YEARS!r})"
    )
    wall, sampler = run_measured([py, "-c", gen_code], env, work / "generate.log")
    result["generate"] = {"wall_s": wall, "peak_rss_bytes": sampler.peak()}
    result["raw_bytes"] = raw_bytes(data)

    print(f"[{employees:,}] floor (DuckDB alone) …", flush=True)
    wall, sampler, floor = run_script("floor_duckdb.py", "floor", data, work, env)
    result["floor"] = {
        "wall_s": floor["wall_s"],
        "process_wall_s": wall,
        "rows": floor["rows"],
        "rows_per_s": floor["rows"] / floor["wall_s"],
        "peak_rss_bytes": sampler.peak(),
        "sources": floor["sources"],
    }

    print(f"[{employees:,}] pipeline (materialize_all) …", flush=True)
    steps_json = work / "steps.json"
    started = time.time()
    wall, sampler = run_measured(
        [py, str(Path(__file__).resolve()), "--child", str(work), str(steps_json)],
        {**env, "DBT_TARGET_PATH": str(dbt_target(work, "pipeline"))},
        work / "pipeline.log",
        spill_root=work,
    )
    result["pipeline"] = {
        **summarise_run(json.loads(steps_json.read_text()), sampler),
        "process_wall_s": wall,
        "dbt_top": dbt_summary(dbt_target(work, "pipeline"), started),
    }
    p = result["pipeline"]
    print(
        f"[{employees:,}] pipeline: {p['job_wall_s']:.1f} s, peak RSS "
        f"{p['peak_rss_bytes'] / GIB:.2f} GiB, peak spill {p['peak_spill_bytes'] / GB:.2f} GB",
        flush=True,
    )

    if run_baseline:
        print(f"[{employees:,}] baseline (plain pandas) …", flush=True)
        wall, sampler, base = run_script("baseline_pandas.py", "baseline", data, work, env)
        result["baseline_pandas"] = {
            **base,
            "process_wall_s": wall,
            "peak_rss_bytes": sampler.peak(),
        }

    if run_new_quarter:  # last: it adds files to the data folder the others read
        result["new_quarter"] = new_quarter(employees, work, env)
    return result


# ---------------------------------------------------------------- summary


def machine() -> dict:
    import duckdb
    import pandas
    import polars

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / GIB, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "load_avg_1m_at_start": os.getloadavg()[0],
        # DuckDB's memory limit for ingestion and dbt (pipelines.resources), per size in
        # sizes[].duckdb_memory_limit: the national size has its own
        "duckdb_memory_limit": duckdb_memory_limit(0),
        "duckdb_memory_limit_national": duckdb_memory_limit(NATIONAL),
        "read_block_mb": os.environ.get("KINERJA_READ_BLOCK_MB", "128"),
    }


def slope(points: list[tuple[float, float]]) -> dict | None:
    """Least-squares fit seconds = a + b * employees, and the log-log exponent (1 = linear)."""
    import math

    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    lx = [math.log(x) for x, _ in points]
    ly = [math.log(y) for _, y in points]
    mlx, mly = sum(lx) / n, sum(ly) / n
    exponent = sum((a - mlx) * (c - mly) for a, c in zip(lx, ly, strict=True)) / sum(
        (a - mlx) ** 2 for a in lx
    )
    return {
        "seconds_per_1k_employees": b * 1000,
        "intercept_s": my - b * mx,
        "loglog_exponent": exponent,
    }


def at_most(value: float, target: float) -> dict:
    return {"value": value, "target": target, "met": value <= target}


def evaluate(sizes: list[dict]) -> dict:
    by = {s["employees"]: s for s in sizes}
    targets: dict[str, dict] = {}
    if 1_000_000 in by:
        s = by[1_000_000]
        p = s["pipeline"]
        targets["e2e_1m_within_180s"] = at_most(p["job_wall_s"], TARGETS["e2e_1m_s"])
        targets["peak_rss_1m_within_8gib"] = at_most(
            p["peak_rss_bytes"] / GIB, TARGETS["peak_rss_1m_gib"]
        )
        if p.get("peak_spill_bytes") is not None:
            targets["spill_1m_within_15gb"] = at_most(
                p["peak_spill_bytes"] / GB, TARGETS["spill_1m_gb"]
            )
        if "new_quarter" in s:
            targets["new_quarter_1m_within_60s"] = at_most(
                s["new_quarter"]["wall_s"], TARGETS["new_quarter_1m_s"]
            )
    if NATIONAL not in by and 1_000_000 in by:
        # A full run without the national size still names its target: not met, not run.
        targets[f"national_{NATIONAL}_within_900s"] = {
            "value": "not run",
            "target": TARGETS["e2e_national_s"],
            "met": False,
            "note": "BENCH_NATIONAL=1 runs it; see bench/README.md for what limits it here",
        }
    if NATIONAL in by:
        p = by[NATIONAL]["pipeline"]
        targets[f"national_{NATIONAL}_within_900s"] = at_most(
            p["job_wall_s"], TARGETS["e2e_national_s"]
        )
        targets["peak_rss_national_within_16gib"] = at_most(
            p["peak_rss_bytes"] / GIB, TARGETS["peak_rss_national_gib"]
        )
    for n, s in sorted(by.items()):
        ratio = s["pipeline"]["stages"]["ingest"]["wall_s"] / s["floor"]["wall_s"]
        targets[f"ingest_vs_floor_{n}"] = {
            "value": ratio,
            "target": TARGETS["ingest_vs_floor"],
            "met": ratio <= TARGETS["ingest_vs_floor"],
        }
    if 100_000 in by and "baseline_pandas" in by[100_000]:
        s = by[100_000]
        # Like for like: the baseline does ingest + quarter mart, the pipeline is timed on
        # ingest + dbt (which builds every mart, audit and test, not just the quarter mart).
        ours = (
            s["pipeline"]["stages"]["ingest"]["wall_s"] + s["pipeline"]["stages"]["dbt"]["wall_s"]
        )
        speedup = s["baseline_pandas"]["wall_s"] / ours
        targets["speedup_vs_pandas_100k"] = {
            "value": speedup,
            "target": TARGETS["speedup_vs_pandas_100k"],
            "met": speedup >= TARGETS["speedup_vs_pandas_100k"],
        }
    points = [(n, s["pipeline"]["job_wall_s"]) for n, s in sorted(by.items())]
    fit = slope(points)
    if fit is not None:
        targets["linear_cost"] = {
            "value": fit["loglog_exponent"],
            "target": "log-log exponent <= 1.1",
            "met": fit["loglog_exponent"] <= 1.1,
            **fit,
        }
    return targets


def fmt_rate(value: float | None) -> str:
    return "-" if not value else f"{value:,.0f}"


def fmt_gb(value: int | None) -> str:
    return "-" if value is None else f"{value / GB:.2f}"


def table(results: dict) -> str:
    lines = [
        "| employees | stage | wall s | rows/s | peak RSS GiB | peak spill GB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for s in results["sizes"]:
        n = f"{s['employees']:,}"
        p = s["pipeline"]
        lines.append(
            f"| {n} | generate | {s['generate']['wall_s']:.1f} | - | "
            f"{s['generate']['peak_rss_bytes'] / GIB:.2f} | - |"
        )
        for stage, m in p["stages"].items():
            lines.append(
                f"| {n} | {stage} | {m['wall_s']:.1f} | {fmt_rate(m['rows_per_s'])} | "
                f"{m['peak_rss_bytes'] / GIB:.2f} | {fmt_gb(m.get('peak_spill_bytes'))} |"
            )
        lines.append(
            f"| {n} | **pipeline total** ({p['rows_read']:,} rows) | {p['job_wall_s']:.1f} | "
            f"{fmt_rate(p['rows_read'] / p['job_wall_s'])} | {p['peak_rss_bytes'] / GIB:.2f} | "
            f"{fmt_gb(p.get('peak_spill_bytes'))} |"
        )
        f = s["floor"]
        lines.append(
            f"| {n} | floor: DuckDB reads the files | {f['wall_s']:.1f} | "
            f"{fmt_rate(f['rows_per_s'])} | {f['peak_rss_bytes'] / GIB:.2f} | - |"
        )
        if "baseline_pandas" in s:
            b = s["baseline_pandas"]
            lines.append(
                f"| {n} | BASELINE: plain pandas ingest + quarter mart | {b['wall_s']:.1f} | "
                f"{fmt_rate(b['rows'] / b['wall_s'])} | {b['peak_rss_bytes'] / GIB:.2f} | - |"
            )
        if "new_quarter" in s:
            q = s["new_quarter"]
            for stage, m in q["stages"].items():
                lines.append(
                    f"| {n} | new quarter: {stage} | {m['wall_s']:.1f} | "
                    f"{fmt_rate(m['rows_per_s'])} | {m['peak_rss_bytes'] / GIB:.2f} | "
                    f"{fmt_gb(m.get('peak_spill_bytes'))} |"
                )
            lines.append(
                f"| {n} | **new quarter** `{q['command']}` ({q['rows_added']:,} rows added, "
                f"{q['rows_read']:,} read) | {q['wall_s']:.1f} | "
                f"{fmt_rate(q['rows_added'] / q['wall_s'])} | {q['peak_rss_bytes'] / GIB:.2f} | "
                f"{fmt_gb(q.get('peak_spill_bytes'))} |"
            )
    lines += ["", "| target | value | target | met |", "|---|---:|---|---|"]
    for name, t in results["targets"].items():
        value = t["value"]
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {name} | {shown} | {t['target']} | {'yes' if t['met'] else 'NO'} |")
    for s in results["sizes"]:
        runs = [("pipeline", s["pipeline"].get("dbt_top"))]
        if "new_quarter" in s:
            runs.append(("new quarter", s["new_quarter"].get("dbt_top")))
        for name, dbt in runs:
            if dbt:
                lines += ["", *dbt_table(f"{s['employees']:,}, {name}", dbt)]
    return "\n".join(lines)


def dbt_table(title: str, dbt: dict) -> list[str]:
    """dbt's 10 slowest nodes of one run (execution_time: thread-seconds, threads overlap)."""
    totals = ", ".join(
        f"{kind} {t['nodes']} nodes {t['execution_s']:.1f} s" for kind, t in dbt["by_type"].items()
    )
    elapsed = f"{dbt['elapsed_s']:.1f} s" if dbt.get("elapsed_s") is not None else "-"
    lines = [
        f"dbt: 10 slowest nodes ({title}; dbt elapsed {elapsed}, {dbt['nodes']} nodes: {totals})",
        "",
        "| # | node | type | execution s |",
        "|---:|---|---|---:|",
    ]
    for i, node in enumerate(dbt["top"], 1):
        lines.append(
            f"| {i} | `{node['unique_id']}` | {node['resource_type']} | "
            f"{node['execution_time']:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("WORK", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--last-run", type=Path, metavar="OUT", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", nargs="+", type=int)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "out")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep generated data and warehouses")
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=100_000,
        help="run the pandas baseline up to this size (it holds everything in memory)",
    )
    parser.add_argument(
        "--new-quarter",
        action="store_true",
        help=f"run the new-quarter scenario at every size (default: from {NEW_QUARTER_FROM:,})",
    )
    parser.add_argument(
        "--no-new-quarter",
        action="store_true",
        help="skip the new-quarter scenario (e.g. a size run only to see what fits)",
    )
    parser.add_argument(
        "--table-only", action="store_true", help="re-print the table of an existing results file"
    )
    args = parser.parse_args()
    if args.child:
        pipeline_child(Path(args.child[0]), Path(args.child[1]))
        return
    if args.last_run:
        last_run_child(args.last_run)
        return
    if args.table_only:
        write_table(json.loads(args.results.read_text()), args.results)
        return
    sizes = args.sizes or (
        [10_000, 100_000, 1_000_000] if os.environ.get("BENCH_FULL") == "1" else [10_000, 100_000]
    )
    if os.environ.get("BENCH_NATIONAL") == "1" and NATIONAL not in sizes:
        sizes = [*sizes, NATIONAL]
    results: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "generator": {"seed": SEED, "years": list(YEARS)},
        "sizes": [],
    }
    try:
        for n in sizes:
            work = args.work / f"{n}"
            results["sizes"].append(
                bench_size(
                    n,
                    work,
                    run_baseline=n <= args.baseline_max,
                    run_new_quarter=not args.no_new_quarter
                    and (args.new_quarter or n >= NEW_QUARTER_FROM),
                )
            )
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
            results["targets"] = evaluate(results["sizes"])
            results["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0]
            args.results.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    write_table(results, args.results)


def write_table(results: dict, path: Path) -> None:
    """Print the table and write it, with the machine, to results.md beside results.json."""
    m = results["machine"]
    limit = m.get("duckdb_memory_limit", "30% of RAM")
    if any(s["employees"] >= NATIONAL for s in results["sizes"]):
        limit += f" ({m.get('duckdb_memory_limit_national')} at {NATIONAL:,})"
    header = (
        f"Run {results['date']} on {m['cpu']}, {m['logical_cores']} logical cores, "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, DuckDB {m['duckdb']}, polars "
        f"{m['polars']}, pandas {m['pandas']}; 1-minute load average "
        f"{m['load_avg_1m_at_start']:.1f} at start, {m.get('load_avg_1m_at_end', 0):.1f} at end; "
        f"DuckDB memory limit {limit}, read blocks {m.get('read_block_mb', '128')} MB."
    )
    text = header + "\n\n" + table(results) + "\n"
    path.with_suffix(".md").write_text(text)
    print()
    print(text)
    print(f"written {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
