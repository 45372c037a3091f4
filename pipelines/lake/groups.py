"""Which local government (pemda) an export file belongs to: the pemda dimension of the
lake's partitions.

Each pemda sends its own exports, so a file is one pemda's: the one whose code appears in
its path (a folder ``raw/<source>/mna/`` or a token of the name, ``assessments_mna_2024.csv``).
A pemda's codes are the prefix of its agencies' kode_opd (``MNA`` of ``MNA-DISDIK``) and its
name as a slug (``kota-manna``, ``manna``). A file that names no pemda goes to ``lainnya``.

Correctness does not depend on this rule: every file is in exactly one group, so every row
is loaded by exactly one partition. The rule only decides how the work is spread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

import polars as pl

OTHER = "lainnya"
_TOKEN = re.compile(r"[^a-z0-9]+")
_TITLES = ("kota", "kabupaten", "kab", "provinsi", "prov")


def _slug(text: str) -> str:
    return _TOKEN.sub("-", text.lower()).strip("-")


def pemda_codes(agencies: pl.DataFrame) -> dict[str, str]:
    """Every code that names a pemda in a path -> the pemda's partition key (its code: the
    kode_opd prefix shared by its agencies, else its name as a slug)."""
    codes: dict[str, str] = {}
    for pemda, group in agencies.group_by("pemda", maintain_order=True):
        name = str(pemda[0])
        prefixes = {str(k).split("-")[0].lower() for k in group.get_column("kode_opd")}
        key = next(iter(prefixes)) if len(prefixes) == 1 else _slug(name)
        words = _slug(name).split("-")
        for code in {key, _slug(name), "-".join(w for w in words if w not in _TITLES)} - {""}:
            codes.setdefault(code, key)
    return codes


def pemda_keys(agencies: pl.DataFrame) -> list[str]:
    """The pemda dimension's keys, the catch-all last."""
    return sorted(set(pemda_codes(agencies).values())) + [OTHER]


def pemda_of(source_file: str, codes: dict[str, str]) -> str:
    """The pemda a file (its path relative to the data folder) belongs to."""
    path = PurePosixPath(source_file)
    parts = [_slug(p) for p in path.parent.parts] + [_slug(path.stem)]
    for part in parts:
        if part in codes:
            return codes[part]
    for part in parts:
        for token in part.split("-"):
            if token in codes:
                return codes[token]
    return OTHER


def group_files(files: Iterable[str], codes: dict[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in files:
        grouped.setdefault(pemda_of(name, codes), []).append(name)
    return grouped
