"""Independent random streams keyed by purpose, so changing one part never shifts another."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A generator determined only by (seed, purpose, keys); purpose hashed stably (crc32)."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), *keys])
