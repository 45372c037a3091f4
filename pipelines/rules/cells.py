"""What every cell parser returns, and the two cell steps they all share.

A parser gives a typed ``value`` and a ``reason`` as a pair of polars expressions, so one
``select`` both reads a column and says, row by row, why a cell could not be read. An empty
cell is not a parse failure (required-ness is the schema's job); a cell with text that
cannot be read gets a reason, never a silent NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Parsed:
    """A parser's typed value and its reason (null when the cell is fine or empty)."""

    value: pl.Expr
    reason: pl.Expr


def blank_to_null(cell: pl.Expr) -> pl.Expr:
    """Trimmed text; empty or whitespace-only -> null."""
    text = cell.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def quote(label: str, text: pl.Expr) -> pl.Expr:
    """The cell as quoted in a reason: the label, then the text between quotes."""
    return pl.lit(f"{label} '") + text + pl.lit("'")
