"""The declarative definition of one source: everything the shared ingest machinery needs."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipelines.ingest.reading import QuarterOf
from pipelines.ingest.validation import Validated


@dataclass(frozen=True)
class SourceDefinition:
    """How one raw source is read and validated; enough to build its Dagster assets."""

    name: str
    required: Sequence[str]
    optional: Sequence[str]
    # (text frame, context.ReferenceContext, pseudonym key, number formats or None: from
    # the frame)
    validate: Callable[..., Validated]
    description: str
    # The quarter of each row of a text frame (first day; null when unreadable).
    quarter: QuarterOf
    # Numeric columns: their text decides each file's number format (see number_formats).
    numbers: Sequence[str] = ()
    # The reference tables (raw.<name>) its validation reads: its asset depends on them.
    references: Sequence[str] = ("agencies",)
