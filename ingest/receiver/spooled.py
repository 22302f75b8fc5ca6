"""One accepted request as the spool keeps it: its decoded rows as Arrow IPC, with the body's hash and rejections.

The receiver decodes each body once, to answer with exact partial-success counts; the spool keeps that result, so the
folder only commits. The SHA-256 of the signal and the body (receiver_decode.identity) is the file's identity in the
store's ledger: an exporter that retries a body after a lost answer sends the same bytes, and the second copy is
recognised as already ingested.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pyarrow as pa

from ingest.otlp.decode import Decoded
from ingest.otlp.rows import Rejection

SUFFIX = ".arrow"
FORMAT = b"tierwise.spooled/1"
_IPC = pa.ipc.IpcWriteOptions(compression="lz4")


class SpooledError(ValueError):
    """A spool file that is not a readable spooled request."""


@dataclass(frozen=True)
class Spooled:
    """A decoded request read back from the spool."""

    sha256: str
    decoded: Decoded


def to_ipc(decoded: Decoded, sha256: str) -> bytes:
    """The bytes of one spool file: the spans or the points table, the rest as schema metadata."""
    rows, table = ("spans", decoded.spans) if decoded.spans is not None else ("points", decoded.points)
    if decoded.spans is not None and decoded.points is not None:
        raise ValueError("a request carries one signal: spans or points, not both")
    if table is None:
        rows, table = "none", pa.table({})
    meta = {b"tierwise.format": FORMAT, b"tierwise.sha256": sha256.encode(), b"tierwise.rows": rows.encode(),
            b"tierwise.signals": orjson.dumps(sorted(decoded.signals)), b"tierwise.skipped": str(decoded.skipped).encode(),
            b"tierwise.rejections": orjson.dumps([[r.record_no, r.item, r.field, r.reason, r.rows, r.excerpt]
                                                  for r in decoded.rejections])}
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def from_ipc(data: bytes) -> Spooled:
    """The request a spool file holds; SpooledError when the bytes are not one."""
    try:
        table = pa.ipc.open_stream(data).read_all()
        meta = table.schema.metadata or {}
        if meta.get(b"tierwise.format") != FORMAT:
            raise SpooledError("not a tierwise spool file (no tierwise.format in its Arrow metadata)")
        rejections = tuple(Rejection(int(n), str(item), str(fld), str(reason), int(rows), str(excerpt))
                           for n, item, fld, reason, rows, excerpt in orjson.loads(meta[b"tierwise.rejections"]))
        rows = meta[b"tierwise.rows"].decode()
        table = table.replace_schema_metadata(None)
        decoded = Decoded(table if rows == "spans" else None, table if rows == "points" else None, rejections,
                          int(meta[b"tierwise.skipped"]), frozenset(orjson.loads(meta[b"tierwise.signals"])))
        return Spooled(meta[b"tierwise.sha256"].decode(), decoded)
    except SpooledError:
        raise
    except (pa.ArrowException, KeyError, ValueError, TypeError) as e:
        raise SpooledError(f"unreadable spool file: {e}") from None
