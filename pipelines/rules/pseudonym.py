"""Keyed pseudonyms for NIPs, so marts can count employees without naming them.

employee_key = first 16 hex characters of HMAC-SHA256(key, NIP). A keyed hash (not a plain
hash) because a NIP has little entropy: without the key, anyone could hash every plausible
NIP and reverse the table. The key comes from KINERJA_PSEUDONYM_KEY or, failing that, from
``<data_dir>/.pseudonym_key`` (created with mode 0600 on first use); the key's text, trimmed,
encoded as UTF-8, is the HMAC key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import polars as pl

KEY_FILE = ".pseudonym_key"
PSEUDONYM_LENGTH = 16


def load_key(data_dir: Path, given: str | None = None) -> bytes:
    """The pseudonym key: ``given`` (Settings.pseudonym_key, from KINERJA_PSEUDONYM_KEY)
    first, else the data dir's key file (created if absent)."""
    if given and given.strip():
        return given.strip().encode("utf-8")
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it in between
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonym(value: str, key: bytes) -> str:
    """Pseudonym of one value."""
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]


def pseudonymise(values: pl.Series, key: bytes) -> pl.Series:
    """Pseudonyms for a column, hashing each distinct value once (nulls stay null)."""
    distinct = values.drop_nulls().unique().to_list()
    hashed = [pseudonym(value, key) for value in distinct]
    return values.replace_strict(distinct, hashed, default=None, return_dtype=pl.String)
