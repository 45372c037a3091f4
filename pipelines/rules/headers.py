"""Column headers as exports spell them, reduced to one canonical form, so that ' Kode  OPD '
and 'kode_opd' name the same column whatever tool wrote the file."""

import re


def canonical_header(name: str | None) -> str:
    """' Kode  OPD ' -> 'kode_opd': trimmed, lower case, inner whitespace -> '_'."""
    text = (name or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", "_", text)
