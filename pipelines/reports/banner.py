"""The banner at the top of both reports when source-quarters were blocked: their data is
missing from every figure, and a reader must see that before any chart."""

from __future__ import annotations

import duckdb

from pipelines.ingest import blocked
from pipelines.partitions import label as quarter_label
from pipelines.reports.labels import fmt_percent

SOURCE_NAMES = {
    "assessments": "penilaian kinerja (assessments)",
    "surveys": "survei kepuasan masyarakat (surveys)",
    "training": "pelatihan (training)",
}


def blocked_banner(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """[heading, one line per blocked source-quarter], or [] when nothing is blocked."""
    rows = blocked.read(conn)
    if rows.height == 0:
        return []
    heading = (
        "PERHATIAN: data berikut diblokir dan tidak termasuk dalam laporan ini, karena "
        "ekspornya terlalu banyak ditolak (dikarantina). Perbaiki ekspor tersebut (alasan "
        "per baris di quarantine.<sumber>) lalu jalankan ulang; data lainnya sudah diterbitkan."
    )
    lines = [
        f"{SOURCE_NAMES.get(r['source'], r['source'])} {quarter_label(r['quarter'])}: "
        f"{r['n_rows_quarantined']} dari {r['n_rows_read']} baris ditolak "
        f"({fmt_percent(r['share'])})"
        for r in rows.iter_rows(named=True)
    ]
    return [heading, *lines]
