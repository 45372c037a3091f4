"""The code location loads, and its shape (assets, groups, dependencies, checks, jobs) only
changes on purpose: a diff of the snapshot shows in review. Regenerate it with
`KINERJA_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _shape() -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in node.check_keys),
            "by_quarter": node.partitions_def is not None,
        }
    return {"assets": assets, "jobs": sorted(job.name for job in defs.resolve_all_job_defs())}


def test_definitions_match_snapshot() -> None:
    shape = _shape()
    if os.environ.get("KINERJA_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(shape, indent=1, sort_keys=True) + "\n")
    assert shape == json.loads(SNAPSHOT.read_text())


def test_every_source_feeds_the_marts() -> None:
    graph = defs.resolve_asset_graph()
    marts = [k for k in graph.get_all_asset_keys() if k.path[0] == "marts"]
    assert {k.path[-1] for k in marts} >= {"mart_agency_quarter", "mart_agency_year"}
    upstream = set()
    for key in marts:
        upstream |= {k.to_user_string() for k in graph.upstream_key_iterator(key)}
    for source in ("raw/assessments", "raw/surveys", "raw/training", "raw/agencies"):
        assert source in upstream, source


def test_marts_publish_typed_columns_and_no_personal_data() -> None:
    """Column schemas come from the dbt docs; marts must declare theirs (contract enforced)."""
    graph = defs.resolve_asset_graph()
    checked = 0
    for key in graph.get_all_asset_keys():
        if key.path[0] not in ("intermediate", "marts", "audit"):
            continue
        schema = graph.get(key).metadata.get("dagster/column_schema")
        names = {c.name for c in schema.columns} if schema else set()
        assert not names & {"nip", "nama", "nip_penilai"}, key
        if key.path[0] == "marts":
            assert {"kode_opd", "tahun"} <= names, key
            checked += 1
    assert checked >= 2


def test_quarters_partition_ingestion_and_dbt_only() -> None:
    """Sources and dbt models rebuild by quarter; analyses, reports and publishing read all
    quarters, so they are not partitioned (they run once per run)."""
    graph = defs.resolve_asset_graph()
    partitioned = {
        k.path[0] for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None
    }
    whole = {k.path[0] for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is None}
    assert partitioned == {"raw", "quarantine", "staging", "intermediate", "marts", "audit"} | {
        "reference"
    }
    assert {"analysis", "reports", "published"} <= whole
    assert "raw" in whole  # the reference exports (raw/agencies, ...) are not by quarter
