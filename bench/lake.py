"""Lake benchmark: the same exports built as the single-file warehouse and as the DuckLake
with 1, 2 and 4 parallel partition runs, on this machine; wall time, peak memory, and the
per-partition times that project N machines.

For a size (default 100k employees, one year of exports as in bench/run.py):

1. generate the exports once; the DuckDB floor (bench/floor_duckdb.py) for the ratio;
2. ``kinerja run``: the single-file warehouse (the comparison's reference);
3. for each worker count: a fresh lake (new catalog and data folder), ``kinerja lake
   --workers N``, measured: wall time, peak RSS of the process tree (the command and its
   worker processes, dbt included; the PostgreSQL server runs outside the tree and is not
   counted), the stage times and every partition's time from the command's result file.

Projection for N machines, each running one partition at a time: references + the longest of
(sum of partition times / N, the slowest partition) + finish (dbt, analyses, reports run
once, on one machine). Writes bench/results_lake.{json,md}.

Usage::

    python bench/lake.py                       # 100k, workers 1 2 4
    python bench/lake.py --employees 10000 --workers 1 4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import run as bench  # noqa: E402  (bench/run.py: samplers, machine facts)

GIB = 1024**3
MACHINES = (1, 10, 50, 100, 500)


def kinerja(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "kinerja"), *args]


def measure_lake(work: Path, env: dict[str, str], workers: int) -> dict:
    shutil.rmtree(work / "data" / "lake", ignore_errors=True)
    result_file = work / f"lake_{workers}.json"
    wall, sampler = bench.run_measured(
        kinerja("lake", "--workers", str(workers), "--result", str(result_file)),
        env,
        work / f"lake_{workers}.log",
    )
    outcome = json.loads(result_file.read_text())
    return {
        "workers": workers,
        "wall_s": wall,
        "peak_rss_gib": sampler.peak() / GIB,
        "stages_s": outcome["seconds"],
        "partitions": outcome["partitions"],
        "partition_s": outcome["partition_seconds"],
        "compared": outcome["comparison"],
    }


def projection(run: dict) -> list[dict]:
    """Wall time on N machines from one run's stage and partition times."""
    parts = run["partition_s"]
    fixed = run["stages_s"]["references"] + run["stages_s"]["finish"]
    return [{"machines": n, "wall_s": fixed + max(sum(parts) / n, max(parts))} for n in MACHINES]


def markdown(results: dict) -> str:
    lines = [
        f"# Lake benchmark: {results['employees']:,} employees, {results['created']}",
        "",
        f"Machine: {results['machine']['cpu']}, {results['machine']['logical_cores']} cores. "
        f"Floor (DuckDB reading the exports once): {results['floor_s']:.1f} s. "
        f"Single-file `kinerja run`: {results['single']['wall_s']:.1f} s, "
        f"{results['single']['peak_rss_gib']:.2f} GiB.",
        "",
        "| workers | wall | references | partitions | finish | peak RSS "
        "| partitions (n, mean, max) | comparison |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in results["lake"]:
        parts = run["partition_s"]
        s = run["stages_s"]
        lines.append(
            f"| {run['workers']} | {run['wall_s']:.1f} s | {s['references']:.1f} s | "
            f"{s['partitions']:.1f} s | {s['finish']:.1f} s | {run['peak_rss_gib']:.2f} GiB | "
            f"{len(parts)}, {sum(parts) / len(parts):.1f} s, {max(parts):.1f} s | "
            f"{run['compared']} |"
        )
    lines += ["", "Projection from the 1-worker run (one partition at a time per machine):", ""]
    lines += ["| machines | wall |", "|---:|---:|"]
    lines += [f"| {p['machines']} | {p['wall_s']:.1f} s |" for p in results["projection"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "work_lake")
    args = parser.parse_args()
    work = args.work / str(args.employees)
    data = work / "data"
    env = os.environ | {
        "KINERJA_DATA_DIR": str(data),
        "KINERJA_REPORTS_DIR": str(work / "reports"),
        "KINERJA_REPORT_PNG": "0",
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    env.pop("KINERJA_LAKE", None)
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    if not (data / "raw").exists():
        print(f"generating {args.employees:,} employees …", flush=True)
        code = (
            "from pathlib import Path; from pipelines.generate import generate_dataset; "
            f"generate_dataset(Path({str(data)!r}), employees={args.employees}, "
            f"seed={bench.SEED}, years={bench.YEARS!r})"
        )
        bench.run_measured([sys.executable, "-c", code], env, work / "generate.log")
    print("floor …", flush=True)
    _, _, floor = bench.run_script("floor_duckdb.py", "floor", data, work, env)
    print("single-file kinerja run …", flush=True)
    wall, sampler = bench.run_measured(kinerja("run"), env, work / "single.log")
    results = {
        "employees": args.employees,
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "machine": bench.machine(),
        "floor_s": floor["wall_s"],
        "single": {"wall_s": wall, "peak_rss_gib": sampler.peak() / GIB},
        "lake": [],
    }
    for workers in args.workers:
        print(f"lake, {workers} workers …", flush=True)
        results["lake"].append(measure_lake(work, env, workers))
        print(f"  {results['lake'][-1]['wall_s']:.1f} s", flush=True)
    one = min(results["lake"], key=lambda r: r["workers"])
    results["projection"] = projection(one)
    (BENCH_DIR / "results_lake.json").write_text(json.dumps(results, indent=2))
    text = markdown(results)
    (BENCH_DIR / "results_lake.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
