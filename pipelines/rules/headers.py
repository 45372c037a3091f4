"""Column headers as exports spell them, reduced to one canonical form, so that ' Kode  OPD '
and 'kode_opd' name the same column whatever tool wrote the file."""

import re
from functools import lru_cache


# Cached: a JSON export spells the same keys on every record (millions of calls at 1M).
@lru_cache(maxsize=4096)
def canonical_header(name: str | None) -> str:
    """' Kode  OPD ' -> 'kode_opd': trimmed, lower case, inner whitespace -> '_'."""
    text = (name or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", "_", text)
