"""The answer key: what was written, what is bad and why, and which effects were planted."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.generate.defects import ASSESSMENT_KINDS, RATES, SURVEY_KINDS, TRAINING_KINDS

KINDS = {"assessments": ASSESSMENT_KINDS, "surveys": SURVEY_KINDS, "training": TRAINING_KINDS}
AUDIT_KEYS = {
    "assessments": (
        "superseded_rows",
        "superseded_employee_periods",
        "predikat_mismatch_rows",
        "predikat_mismatch_employee_periods",
        "employee_field_conflict_employee_periods",
    ),
    "surveys": ("survey_invalid_answers",),
    "training": (),
}


class Truth:
    """Accumulates counts while chunks are written; serialised once at the end."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters
        self.counts: dict[str, Counter[str]] = {s: Counter() for s in KINDS}
        self.files: list[dict[str, Any]] = []
        self.effects: list[dict[str, Any]] = []
        self.reference: dict[str, int] = {}
        self.sections: dict[str, Any] = {}  # extra top-level sections, e.g. 'siasn'

    def add_bad(self, source: str, kind: str, n: int) -> None:
        self.counts[source][f"bad:{kind}"] += n

    def add(self, source: str, key: str, n: int) -> None:
        self.counts[source][key] += n

    def add_file(self, path: str, source: str, variant: str, rows: int, rejected: int) -> None:
        self.files.append(
            {
                "path": path,
                "source": source,
                "variant": variant,
                "rows": rows,
                "rejected_rows": rejected,
            }
        )
        self.counts[source]["rows_written"] += rows

    def to_dict(self) -> dict[str, Any]:
        sources = {}
        for source, kinds in KINDS.items():
            c = self.counts[source]
            bad = {k: c[f"bad:{k}"] for k in kinds}
            rejected = sum(bad.values())
            entry: dict[str, Any] = {
                "rows_written": c["rows_written"],
                "defect_rate": RATES[source],
                "bad_rows": bad,
                "rejected_rows": rejected,
                "loaded_rows": c["rows_written"] - rejected,
            }
            entry.update({k: c[k] for k in AUDIT_KEYS[source]})
            if source == "assessments":
                entry["staged_rows"] = entry["loaded_rows"] - c["superseded_rows"]
            sources[source] = entry
        return {
            "parameters": self.parameters,
            "sources": sources,
            "reference": self.reference,
            "effects": self.effects,
            "files": sorted(self.files, key=lambda f: f["path"]),
            **self.sections,
        }

    def write(self, path: Path) -> dict[str, Any]:
        data = self.to_dict()
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return data
