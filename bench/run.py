"""Scale benchmark: generate 10k / 100k (/ 1M) employees, run the whole pipeline, measure.

For each size, in fresh subprocesses so that nothing is cached or shared between them:

1. generate the exports (``pipelines.generate.generate_dataset``, one year: 4 quarters + the
   annual period, ~5 indicators each, i.e. ~25 indicator rows per employee);
2. the floor: DuckDB alone reading the same raw files once (``bench/floor_duckdb.py``);
3. the pipeline: job ``materialize_all`` (ingest, validate, dbt marts and tests, analyses,
   reports, publish) via ``execute_in_process``, with per-step wall times from the run's
   event log and peak RSS of the whole process tree (incl. the dbt subprocess) per stage;
4. the peer: the plain pandas script (``bench/baseline_pandas.py``, BASELINE only).

Writes ``bench/results.json`` and prints a table with the targets, met or not.

Usage::

    python bench/run.py                      # 10k and 100k
    BENCH_FULL=1 python bench/run.py         # + 1M
    python bench/run.py --sizes 10000 --keep # one size, keep the generated data
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

# Dagster step key -> stage. Checks that run as their own steps belong to their asset's stage.
STAGES = ("ingest", "dbt", "analysis", "reports", "publish")

TARGETS = {
    "e2e_1m_s": 180.0,
    "peak_rss_1m_gib": 6.0,
    "ingest_vs_floor": 2.5,
    "speedup_vs_pandas_100k": 10.0,
}
# DuckDB's memory limit for the measured runs (ingestion and dbt), unless the environment
# sets one: half the 6 GiB target, leaving room for the polars frames beside it. The
# product's own default is 30% of RAM (pipelines/resources.py).
BENCH_DUCKDB_MEMORY_LIMIT = "3GB"


def stage_of(step_key: str) -> str:
    if step_key.startswith(("raw__", "ingest_")):
        return "ingest"
    if step_key.startswith("kinerja_dbt"):
        return "dbt"
    if step_key.startswith("reports__"):
        return "reports"
    if step_key.startswith("published__"):
        return "publish"
    return "analysis"


# ---------------------------------------------------------------- measuring a child process


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

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


def run_measured(args: list[str], env: dict[str, str], log: Path) -> tuple[float, TreeSampler]:
    """Run a child to completion; its wall time and the RSS samples of its process tree."""
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        sampler.stop()
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
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(result.run_id):
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
    out.write_text(
        json.dumps(
            {"success": result.success, "start": started, "end": ended, "steps": steps}, indent=1
        )
    )
    if not result.success:
        sys.exit(1)


# ---------------------------------------------------------------- one size


def child_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KINERJA_DATA_DIR=str(work / "data"),
        KINERJA_WAREHOUSE=str(work / "warehouse" / "warehouse.duckdb"),
        KINERJA_REPORTS_DIR=str(work / "reports"),
        KINERJA_PSEUDONYM_KEY="bench-pseudonym-key",
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


def bench_size(employees: int, work: Path, run_baseline: bool) -> dict:
    py = sys.executable
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    env = child_env(work)
    data = work / "data"
    result: dict = {"employees": employees}

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
    wall, sampler = run_measured(
        [py, str(Path(__file__).resolve()), "--child", str(work), str(steps_json)],
        env,
        work / "pipeline.log",
    )
    run = json.loads(steps_json.read_text())
    rows_read = sum(s.get("rows_read", 0) for s in run["steps"].values())
    stages: dict[str, dict] = {}
    for stage in STAGES:
        steps = [s for s in run["steps"].values() if s["stage"] == stage and "end" in s]
        seconds = sum(s["duration_s"] for s in steps)
        peak = max((sampler.peak(s["start"], s["end"]) for s in steps), default=0)
        stages[stage] = {
            "wall_s": seconds,
            "rows_per_s": rows_read / seconds if seconds else None,
            "peak_rss_bytes": peak,
            "steps": len(steps),
        }
    result["pipeline"] = {
        "rows_read": rows_read,
        "job_wall_s": run["end"] - run["start"],
        "process_wall_s": wall,
        "peak_rss_bytes": sampler.peak(),
        "stages": stages,
        "steps": {
            k: {"stage": v["stage"], "wall_s": v.get("duration_s")}
            for k, v in sorted(run["steps"].items(), key=lambda kv: kv[1].get("start", 0))
        },
    }

    if run_baseline:
        print(f"[{employees:,}] baseline (plain pandas) …", flush=True)
        wall, sampler, base = run_script("baseline_pandas.py", "baseline", data, work, env)
        result["baseline_pandas"] = {
            **base,
            "process_wall_s": wall,
            "peak_rss_bytes": sampler.peak(),
        }
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
        # DuckDB's memory limit for ingestion and dbt (pipelines.resources; default 30% of RAM)
        "duckdb_memory_limit": os.environ.get("KINERJA_DUCKDB_MEMORY_LIMIT", "30% of RAM"),
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


def evaluate(sizes: list[dict]) -> dict:
    by = {s["employees"]: s for s in sizes}
    targets: dict[str, dict] = {}
    if 1_000_000 in by:
        p = by[1_000_000]["pipeline"]
        targets["e2e_1m_within_180s"] = {
            "value": p["job_wall_s"],
            "target": TARGETS["e2e_1m_s"],
            "met": p["job_wall_s"] <= TARGETS["e2e_1m_s"],
        }
        gib = p["peak_rss_bytes"] / GIB
        targets["peak_rss_1m_within_6gib"] = {
            "value": gib,
            "target": TARGETS["peak_rss_1m_gib"],
            "met": gib <= TARGETS["peak_rss_1m_gib"],
        }
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


def table(results: dict) -> str:
    lines = [
        "| employees | stage | wall s | rows/s | peak RSS GiB |",
        "|---:|---|---:|---:|---:|",
    ]
    for s in results["sizes"]:
        n = f"{s['employees']:,}"
        p = s["pipeline"]
        lines.append(
            f"| {n} | generate | {s['generate']['wall_s']:.1f} | - | "
            f"{s['generate']['peak_rss_bytes'] / GIB:.2f} |"
        )
        for stage, m in p["stages"].items():
            lines.append(
                f"| {n} | {stage} | {m['wall_s']:.1f} | {fmt_rate(m['rows_per_s'])} | "
                f"{m['peak_rss_bytes'] / GIB:.2f} |"
            )
        lines.append(
            f"| {n} | **pipeline total** ({p['rows_read']:,} rows) | {p['job_wall_s']:.1f} | "
            f"{fmt_rate(p['rows_read'] / p['job_wall_s'])} | {p['peak_rss_bytes'] / GIB:.2f} |"
        )
        f = s["floor"]
        lines.append(
            f"| {n} | floor: DuckDB reads the files | {f['wall_s']:.1f} | "
            f"{fmt_rate(f['rows_per_s'])} | {f['peak_rss_bytes'] / GIB:.2f} |"
        )
        if "baseline_pandas" in s:
            b = s["baseline_pandas"]
            lines.append(
                f"| {n} | BASELINE: plain pandas ingest + quarter mart | {b['wall_s']:.1f} | "
                f"{fmt_rate(b['rows'] / b['wall_s'])} | {b['peak_rss_bytes'] / GIB:.2f} |"
            )
    lines += ["", "| target | value | target | met |", "|---|---:|---|---|"]
    for name, t in results["targets"].items():
        value = t["value"]
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {name} | {shown} | {t['target']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("KINERJA_DUCKDB_MEMORY_LIMIT", BENCH_DUCKDB_MEMORY_LIMIT)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("WORK", "OUT"), help=argparse.SUPPRESS)
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
        "--table-only", action="store_true", help="re-print the table of an existing results file"
    )
    args = parser.parse_args()
    if args.child:
        pipeline_child(Path(args.child[0]), Path(args.child[1]))
        return
    if args.table_only:
        write_table(json.loads(args.results.read_text()), args.results)
        return
    sizes = args.sizes or (
        [10_000, 100_000, 1_000_000] if os.environ.get("BENCH_FULL") == "1" else [10_000, 100_000]
    )
    results: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "generator": {"seed": SEED, "years": list(YEARS)},
        "sizes": [],
    }
    try:
        for n in sizes:
            work = args.work / f"{n}"
            results["sizes"].append(bench_size(n, work, run_baseline=n <= args.baseline_max))
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
    header = (
        f"Run {results['date']} on {m['cpu']}, {m['logical_cores']} logical cores, "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, DuckDB {m['duckdb']}, polars "
        f"{m['polars']}, pandas {m['pandas']}; 1-minute load average "
        f"{m['load_avg_1m_at_start']:.1f} at start, {m.get('load_avg_1m_at_end', 0):.1f} at end; "
        f"DuckDB memory limit {m.get('duckdb_memory_limit', '30% of RAM')}, read blocks "
        f"{m.get('read_block_mb', '128')} MB."
    )
    text = header + "\n\n" + table(results) + "\n"
    path.with_suffix(".md").write_text(text)
    print()
    print(text)
    print(f"written {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
