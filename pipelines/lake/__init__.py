"""The lake mode: the warehouse as a DuckLake (catalog in PostgreSQL, data as Parquet files)
that many processes on many machines write at once, one partition (pemda x quarter) each.
The single DuckDB file stays the default; KINERJA_LAKE switches a run to the lake. Opening
the lake and its resource: pipelines/ducklake.py; a whole run: pipelines/cli/lake_run.py."""
