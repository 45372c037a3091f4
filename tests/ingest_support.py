"""Ingest a hand-made folder the way the product does (`loading.load_source` into DuckDB),
and read it independently with the same reader, so a test can account for every row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.ingest import assets as ingest_assets
from pipelines.ingest.context import ReferenceContext
from pipelines.ingest.formats import ExportReadError
from pipelines.ingest.loading import SLICE_ROWS, LoadRun, SourceLoad, load_source
from pipelines.ingest.reading import (
    FileRead,
    empty_source_frame,
    export_files,
    iter_source_files,
)
from pipelines.ingest.source import SourceDefinition
from pipelines.partitions import all_quarters_tags
from pipelines.settings import Settings

# One valid assessment export row (text cells, as a file holds them) that tests vary.
ASSESSMENT_ROW = {
    "nip": "198503122010011001",
    "nama": "Budi",
    "kode_opd": "OPD01",
    "nama_opd": "Dinas",
    "unit_kerja": "Sekretariat",
    "jabatan": "Analis",
    "jenis_jabatan": "Pelaksana",
    "golongan": "III/a",
    "tahun": "2024",
    "periode": "TW I",
    "kode_indikator": "IKI-1",
    "indikator": "Laporan",
    "target": "100",
    "realisasi": "87,5",
    "satuan": "%",
    "nilai_mandiri": "90",
    "nilai_atasan": "88",
    "rating_hasil_kerja": "SESUAI EKSPEKTASI",
    "rating_perilaku": "SESUAI EKSPEKTASI",
    "predikat": "Baik",
    "nip_penilai": "",
}


@dataclass(frozen=True)
class Loaded:
    """What one load wrote: raw.<source>, quarantine.<source>, and its raw.files rows."""

    raw: pl.DataFrame
    quarantine: pl.DataFrame
    files: pl.DataFrame
    load: SourceLoad


def load_folder(
    source: SourceDefinition,
    data_dir: Path,
    known: Iterable[str] | ReferenceContext,
    key: bytes,
    folder: Path | None = None,
    slice_rows: int = SLICE_ROWS,
    warehouse: Path | None = None,
) -> Loaded:
    """`load_source` over ``folder`` (default data_dir/raw/<source>) into ``warehouse``
    (default: an in-memory DuckDB), every quarter. ``known``: the agency codes, or a whole
    ReferenceContext (a roster for siasn)."""
    run = LoadRun(data_dir, ReferenceContext.of(known), key, slice_rows=slice_rows)
    with duckdb.connect(str(warehouse) if warehouse else ":memory:") as conn:
        load = load_source(conn, source, run, folder)
        raw = conn.execute(f"SELECT * FROM raw.{source.name} ORDER BY ALL").pl()
        quarantine = conn.execute(f"SELECT * FROM quarantine.{source.name} ORDER BY ALL").pl()
    return Loaded(raw, quarantine, load.files_frame, load)


def read_folder(
    source: SourceDefinition, data_dir: Path, folder: Path | None = None
) -> tuple[pl.DataFrame, list[FileRead]]:
    """Every row the product's reader gives for the folder (text columns with lineage), and
    each file's FileRead (``error`` set for a file rejected whole)."""
    frames: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for file, blocks in iter_source_files(
        export_files(folder or data_dir / "raw" / source.name), data_dir, source
    ):
        if blocks is None:
            files.append(file)
            continue
        try:
            read = list(blocks)
        except ExportReadError as error:
            files.append(replace(file, error=str(error)))
            continue
        files.append(replace(file, n_rows=sum(block.height for block in read)))
        frames.extend(read)
    frame = pl.concat(frames) if frames else empty_source_frame(source.required, source.optional)
    return frame, files


def materialize_sources(
    sources: Iterable[str],
    warehouse: Path,
    tags: dict[str, str] | None = None,
    *extra: object,
    settings: Settings | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """The reference assets and the named sources' ingest assets (+ ``extra``) into
    ``warehouse``, every quarter unless ``tags`` name a range; settings default to the
    environment (tests set KINERJA_* with monkeypatch)."""
    chosen = [a for a in ingest_assets.source_assets if a.keys & {_raw(s) for s in sources}]
    return dg.materialize(
        [*ingest_assets.reference_assets, *chosen, *extra],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "settings": settings or Settings.from_env(),
        },
        tags=tags or all_quarters_tags(),
        raise_on_error=raise_on_error,
    )


def source_asset(source: str) -> dg.AssetsDefinition:
    return next(a for a in ingest_assets.source_assets if _raw(source) in a.keys)


def _raw(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])
