"""Which quarters a run loads, and what happens to rows outside the warehouse's quarters."""

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from pipelines.ingest.reading import ROW_PROBLEM
from pipelines.partitions import label as quarter_label
from pipelines.partitions import partition_window


@dataclass(frozen=True)
class QuarterWindow:
    """The quarters a run loads, ``[start, end)``, inside the quarters that have partitions
    ``[first, last_end)``. Rows outside the partitions are 'unplaced': quarantined (with
    the reason) by every run, so they load as soon as their quarter becomes a partition."""

    start: date
    end: date
    first: date
    last_end: date

    @classmethod
    def everything(cls) -> "QuarterWindow":
        first, last_end = partition_window() or (date(1900, 1, 1), date(1900, 1, 1))
        return cls(first, last_end, first, last_end)

    @property
    def is_everything(self) -> bool:
        return (self.start, self.end) == (self.first, self.last_end)

    def window_sql(self) -> str:
        """Rows of this run's quarters: replaced whichever file they came from."""
        return f"(quarter >= DATE '{self.start}' AND quarter < DATE '{self.end}')"

    def unplaced_sql(self) -> str:
        """Rows in no partition: replaced file by file, when their file is read again."""
        return (
            f"(quarter IS NULL OR quarter < DATE '{self.first}' "
            f"OR quarter >= DATE '{self.last_end}')"
        )

    def label(self) -> str:
        return f"{quarter_label(self.start)}..{quarter_label(self.end - timedelta(days=1))}"

    def placed(self, quarter: date | None) -> bool:
        return quarter is not None and self.first <= quarter < self.last_end

    def needs(self, quarter: date | None) -> bool:
        """Must a file with rows in this quarter be read? Rows of the window, and rows of a
        real quarter outside the partitions (it may have become one since); not rows whose
        quarter cannot be read (same file, same result)."""
        if quarter is None:
            return False
        return not self.placed(quarter) or self.start <= quarter < self.end

    def select_rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of a file this run loads; an unplaced row gets its '*' reason."""
        quarter = pl.col("quarter")
        placed = quarter.is_not_null() & (quarter >= self.first) & (quarter < self.last_end)
        in_window = placed & (quarter >= self.start) & (quarter < self.end)
        unplaced_reason = (
            pl.lit("the row's quarter ")
            + quarter.dt.year().cast(pl.String)
            + pl.lit("-Q")
            + quarter.dt.quarter().cast(pl.String)
            + pl.lit(
                f" is outside the warehouse's quarters {quarter_label(self.first)}.."
                f"{quarter_label(self.last_end - timedelta(days=1))}: set KINERJA_FIRST_QUARTER "
                "earlier to load older history; a quarter that has not ended yet loads once "
                "it has"
            )
        )
        keep = frame.select((in_window | ~placed).alias("keep")).get_column("keep")
        if not keep.all():  # a run over every quarter keeps all: no copy of a huge file
            frame = frame.filter(keep)
        return frame.with_columns(
            pl.when(quarter.is_not_null() & ~placed & pl.col(ROW_PROBLEM).is_null())
            .then(unplaced_reason)
            .otherwise(pl.col(ROW_PROBLEM))
            .alias(ROW_PROBLEM)
        )
