"""The known-good records the bad-input corpus damages: real OTLP fixtures as JSON lines and framed protobuf, FOCUS
bill rows and Parquet bills, each with the rows it stores; the bodies (records in one file format) built from them; and
reference decompressors that say how much of a damaged gzip or zstd stream is readable."""

from __future__ import annotations

import base64
import csv
import functools
import gzip
import io
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import zstandard
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

FIXTURES = Path(__file__).parent / "fixtures"
BOM = b"\xef\xbb\xbf"
METRIC_TYPES = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")  # otlp_json reads the first present
SIGNALS = {"resourceSpans": "traces", "resourceMetrics": "metrics", "resourceLogs": "logs"}
REQUESTS: dict[str, Any] = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
                            "logs": ExportLogsServiceRequest}
BILLS = (FIXTURES / "tiny_store" / "bills-focus.csv", FIXTURES / "finops_tiny" / "daily-focus.csv",
         FIXTURES / "finops" / "focus-1.0-sample-1000.csv")
PARQUET = (FIXTURES / "finops" / "aws-cur2-from-legacy-sample.parquet",
           FIXTURES / "finops" / "gcp-billing-export-reconstructed.parquet")


@dataclass(frozen=True)
class Record:
    """One known-good record: a JSON line (no line break), a protobuf request, or a CSV row (no line break)."""

    data: bytes
    rows: int  # rows the store keeps for it: spans, metric points or cost rows (log records are not stored)
    signal: str  # traces | metrics | logs | costs
    origin: str  # fixture file it comes from, for case names


def rows_of(doc: dict[str, Any]) -> int:
    """Spans or data points an OTLP/JSON object holds (what tierwise stores from it); 0 for logs."""
    if "resourceSpans" in doc:
        return sum(len(ss.get("spans") or []) for rs in doc["resourceSpans"] for ss in rs.get("scopeSpans") or [])
    points = 0
    for rm in doc.get("resourceMetrics") or []:
        for sm in rm.get("scopeMetrics") or []:
            for m in sm.get("metrics") or []:
                kind = next((k for k in METRIC_TYPES if k in m), None)
                points += len(m[kind].get("dataPoints") or []) if kind else 0
    return points


def _signal(doc: dict[str, Any]) -> str:
    return next(s for k, s in SIGNALS.items() if k in doc)


def _otlp_documents() -> list[tuple[str, bytes, dict[str, Any]]]:
    """(origin, original bytes, parsed) of every OTLP object in the fixtures: each JSON line and each JSON document."""
    paths = sorted((FIXTURES / "otlp").rglob("*.json*")) + [FIXTURES / "tiny_store" / f"{s}.jsonl"
                                                            for s in ("traces", "metrics")]
    out = []
    for path in paths:
        origin = f"{path.parent.name}/{path.name}"
        text = path.read_bytes()
        pieces = [x for x in text.splitlines() if x.strip()] if path.suffix == ".jsonl" else [text]
        out += [(origin, piece, orjson.loads(piece)) for piece in pieces]
    return out


@functools.cache
def json_lines() -> tuple[Record, ...]:
    """Every fixture object as one compact JSON line (JSON-lines fixtures keep their bytes)."""
    return tuple(Record(raw if b"\n" not in raw.strip() else orjson.dumps(doc), rows_of(doc), _signal(doc), origin)
                 for origin, raw, doc in _otlp_documents())


@functools.cache
def json_documents() -> tuple[Record, ...]:
    """The fixtures written as one (pretty-printed) JSON document per file, as they are."""
    return tuple(Record(raw, rows_of(doc), _signal(doc), origin) for origin, raw, doc in _otlp_documents()
                 if b"\n" in raw.strip())


def _ids_as_base64(value: Any) -> Any:
    """OTLP/JSON writes ids in hex; json_format reads bytes as base64."""
    if isinstance(value, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId") and
                isinstance(v, str) else _ids_as_base64(v) for k, v in value.items()}
    return [_ids_as_base64(v) for v in value] if isinstance(value, list) else value


@functools.cache
def proto_requests() -> tuple[Record, ...]:
    """Every fixture object as the protobuf request the Collector's file exporter would frame (all three signals)."""
    out = []
    for origin, _, doc in _otlp_documents():
        signal = _signal(doc)
        msg = json_format.ParseDict(_ids_as_base64(doc), REQUESTS[signal](), ignore_unknown_fields=True)
        out.append(Record(msg.SerializeToString(), rows_of(doc), signal, origin))
    return tuple(out)


@functools.cache
def bills() -> tuple[tuple[bytes, tuple[Record, ...]], ...]:
    """(header line, rows) of each FOCUS bill fixture; every row is one cost row in the ledger."""
    out = []
    for path in BILLS:
        header, *rows = path.read_bytes().splitlines()
        assert all(len(next(csv.reader([r.decode()]))) == len(next(csv.reader([header.decode()]))) for r in rows)
        out.append((header, tuple(Record(r, 1, "costs", path.name) for r in rows)))
    return tuple(out)


@functools.cache
def parquet_bills() -> tuple[Record, ...]:
    """The Parquet bill fixtures (CUR 2.0, GCP), each whole as one record of all its rows."""
    return tuple(Record(p.read_bytes(), pq.ParquetFile(p).metadata.num_rows, "costs", p.name) for p in PARQUET)


@dataclass(frozen=True)
class Body:
    """The records of one file in one format, in file order: jsonl, proto or csv (json and parquet: one whole-file
    record, never encoded here)."""

    fmt: str
    records: tuple[Record, ...]
    header: bytes = b""  # csv only

    def encode(self) -> bytes:
        if self.fmt == "proto":
            return b"".join(len(r.data).to_bytes(4, "big") + r.data for r in self.records)
        lines = ([self.header] if self.fmt == "csv" else []) + [r.data for r in self.records]
        return b"".join(x + b"\n" for x in lines)

    def starts(self) -> list[int]:
        """Byte offset of each record in encode(), then the end."""
        at = [len(self.header) + 1 if self.fmt == "csv" else 0]
        for r in self.records:
            at.append(at[-1] + len(r.data) + (4 if self.fmt == "proto" else 1))
        return at

    def intact(self, data: bytes) -> list[int]:
        """Indexes of the records that `data` (what is left of encode() after damage) still holds whole, in place."""
        if self.fmt == "proto":
            at, got = 0, []
            while at + 4 <= len(data):
                size = int.from_bytes(data[at:at + 4], "big")
                got.append(data[at + 4:at + 4 + size] if at + 4 + size <= len(data) else None)
                at += 4 + size
        else:
            got = list(data.split(b"\n")[1 if self.fmt == "csv" else 0:-1])  # whole lines only
            if self.fmt == "csv" and not data.startswith(self.header + b"\n"):
                return []
        return [i for i, (r, g) in enumerate(zip(self.records, got, strict=False)) if r.data == g]

    def rows(self, indexes: Sequence[int] | None = None) -> int:
        return sum(self.records[i].rows for i in (range(len(self.records)) if indexes is None else indexes))


def bill_body(rng: random.Random) -> Body:
    """3 to 40 consecutive rows of one FOCUS bill fixture, under its header."""
    header, rows = rng.choice(bills())
    start = rng.randrange(max(1, len(rows) - 40))
    return Body("csv", rows[start:start + rng.randint(3, 40)], header)


def csv_fields(row: bytes) -> list[str]:
    return next(csv.reader([row.decode()]))


def csv_row(fields: Sequence[str]) -> bytes:
    """One CSV row as Python's csv module writes it (quoted only where needed), without a line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode()


def pick(rng: random.Random, pool: Sequence[Record], lo: int, hi: int) -> list[Record]:
    return [rng.choice(pool) for _ in range(rng.randint(lo, hi))]


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zstd_bytes(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def gunzip_prefix(data: bytes) -> tuple[bytes, bool]:
    """What Python's gzip reader yields from `data` before any error, and whether it read it all without one."""
    out = io.BytesIO()
    reader = gzip.GzipFile(fileobj=io.BytesIO(data))
    try:
        while chunk := reader.read(64):
            out.write(chunk)
    except (OSError, EOFError, zlib.error):
        return out.getvalue(), False
    return out.getvalue(), True


def unzstd_prefix(data: bytes) -> tuple[bytes, bool]:
    """What zstd yields from `data` (fed a byte at a time) before any error, and whether the frame ended cleanly."""
    d, out = zstandard.ZstdDecompressor().decompressobj(), io.BytesIO()
    try:
        for i in range(len(data)):
            out.write(d.decompress(data[i:i + 1]))
            if d.eof:
                return out.getvalue(), i == len(data) - 1
    except zstandard.ZstdError:
        return out.getvalue(), False
    return out.getvalue(), False


@dataclass(frozen=True)
class Built:
    """What a mutation made: the file, the body it damaged, the indexes of the records left whole, and its detail."""

    data: bytes
    body: Body
    intact: tuple[int, ...]
    must_flag: bool
    detail: str
    suffix: str = ""
    collateral: int = 0  # rows the damaged records hold beyond what their damage must cost
    damaged: tuple[int, ...] = ()


def flip(rng: random.Random, data: bytes, lo: int = 0, hi: int | None = None) -> tuple[bytes, int, int]:
    """`data` with one bit flipped at a random byte in [lo, hi), that byte and the bit."""
    at = rng.randrange(lo, len(data) if hi is None else hi)
    bit = rng.randrange(8)
    return data[:at] + bytes([data[at] ^ 1 << bit]) + data[at + 1:], at, bit
