"""Routes one file to the billing loader when its header is a billing format, else to the OTLP loader."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.billing.detect import detect
from ingest.billing.load import ingest_billing
from ingest.sinks import loader
from store.settings import Settings


def ingest_any(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, signal: str | None = None,
               progress: loader.Progress | None = None) -> loader.FileResult:
    """Ingest `path` as billing (FOCUS, CUR, Azure, GCP, OCI, rate card) or as OTLP telemetry."""
    if signal is None:
        det = detect(path)
        if det is not None:
            res = ingest_billing(con, path, settings, det)
            if progress:
                progress(path.stat().st_size)
            return res
    return loader.ingest_file(con, path, settings, signal, progress)
