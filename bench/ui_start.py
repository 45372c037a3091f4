"""How long `make ui` makes a person wait: seconds from starting `dagster dev` until the UI
answers HTTP 200 on /server_info, and until the code location is loaded (GraphQL
`workspaceOrError`: every location LOADED), and how long a SIGTERM takes to stop it.

Starts `dagster dev` exactly as the UI test does (tests/ui_support.py: new session, free port,
the repo's workspace.yaml and dagster.yaml) on empty temporary data and instance folders, so
nothing in the checkout changes. The dbt manifest must be prepared first (the Makefile's
manifest rule; `make bench-ui` does it): without it every code load parses dbt.

Usage::

    python bench/ui_start.py              # 3 starts, writes bench/ui_start.json
    python bench/ui_start.py --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from tests.ui_support import dagster_dev, install_dagster_home  # noqa: E402

MANIFEST = ROOT / "dbt_project" / "target" / "manifest.json"


def one_start(work: Path) -> dict[str, float]:
    """Start, wait for HTTP 200 and for the code location, stop; seconds from the start."""
    env = {
        "KINERJA_DATA_DIR": str(work / "data"),
        "KINERJA_WAREHOUSE": str(work / "data" / "warehouse.duckdb"),
        "KINERJA_REPORTS_DIR": str(work / "reports"),
        "DAGSTER_HOME": str(install_dagster_home(work / "dagster_home")),
    }
    start = time.monotonic()
    with dagster_dev(env, work / "dagster_dev.log") as dev:
        dev.wait_http()
        http = time.monotonic() - start
        _, locations = dev.wait_loaded()
        loaded = time.monotonic() - start
        assert locations, "no code location"
        stopping = time.monotonic()
    stopped = time.monotonic() - stopping
    return {"http_200_s": http, "code_loaded_s": loaded, "stop_s": stopped}


def machine() -> dict[str, Any]:
    import dagster

    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "dagster": dagster.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "ui_start.json")
    args = parser.parse_args()
    if not MANIFEST.exists():
        print(f"warning: no {MANIFEST.relative_to(ROOT)}: every code load parses dbt (run make)")

    load_start = os.getloadavg()[0]
    samples = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="kinerja-ui-") as work:
            sample = one_start(Path(work))
        samples.append(sample)
        print(
            f"start {i + 1}/{args.repeat}: HTTP 200 after {sample['http_200_s']:.1f} s, "
            f"code loaded after {sample['code_loaded_s']:.1f} s, stopped in "
            f"{sample['stop_s']:.1f} s"
        )
    median = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            **machine(),
            "load_avg_1m_at_start": load_start,
            "load_avg_1m_at_end": os.getloadavg()[0],
        },
        "manifest_prepared": MANIFEST.exists(),
        "samples": samples,
        "median": median,
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"median of {len(samples)}: HTTP 200 after {median['http_200_s']:.1f} s, code loaded "
        f"after {median['code_loaded_s']:.1f} s, stopped in {median['stop_s']:.1f} s "
        f"-> {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
    )


if __name__ == "__main__":
    main()
