"""Recognises billing files by their header columns (never by their names)."""

from __future__ import annotations

import csv
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from ingest.billing import signatures
from ingest.files.sources import OTLP_LINE

RATE_CARD_LINE = re.compile(rb"^rate_card:\s*1\s*$", re.MULTILINE)
HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class Detected:
    """A recognised billing file: its format, container and header columns."""

    fmt: str                 # a signatures.SIGNATURES format; "" when the file is refused (`problem`)
    container: str           # csv | csv.gz | parquet | jsonl | yaml
    columns: tuple[str, ...]
    version: str = ""        # FOCUS version the header matches (focus files only)
    problem: str = ""        # why the file cannot be read although it looks like billing (it is then refused whole)


def _focus_version(cols: set[str]) -> str:
    if {"ServiceProviderName", "HostProviderName"} & cols:
        return "1.3"
    if {"InvoiceId", "BillingAccountType", "PricingCurrency", "SubAccountType"} & cols:
        return "1.2"
    if {"SkuMeter", "ServiceSubcategory", "SkuPriceDetails", "CapacityReservationId"} & cols:
        return "1.1"
    return "1.0"


def classify(columns: tuple[str, ...]) -> tuple[str, str] | None:
    """(format, version) for a header, or None when it is not a billing header we know."""
    fmt = signatures.recognise(columns)
    if fmt is None:
        return None
    return fmt, _focus_version(set(columns)) if fmt == "focus" else ""


def _csv_header(text: str) -> tuple[str, ...]:
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    return tuple(c.strip() for c in first)


def _gunzip(path: Path, keep: int, step: int) -> tuple[bytes, str]:
    """The first `keep` bytes of a gzip file's content and what is wrong with its compressed data ("" when intact).

    Reading the whole file (`keep` < 0) checks every member's CRC, which DuckDB's reader does not: damage that still
    inflates would otherwise become rows. Small `step`s keep what precedes damage early in the file.
    """
    out, seen, problem = bytearray(), 0, ""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as f:
        while keep < 0 or len(out) < keep:
            if d.eof:  # the member ended: the next member of a multi-member file, or the end
                pending = d.unused_data or f.read(step)
                if not pending:
                    break
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                pending = d.unconsumed_tail or f.read(step)
                if not pending:
                    problem = f"the gzip data ends after {seen} bytes of content (the file is cut short)"
                    break
            try:
                chunk = d.decompress(pending, HEAD_BYTES)
            except zlib.error as e:
                problem = f"the gzip data is damaged ({e}, {seen} bytes into its content)"
                break
            seen += len(chunk)
            out += chunk[:max(keep - len(out), 0)]
    return bytes(out), problem


def gzip_damage(path: Path) -> str:
    """What is wrong with a gzip file's compressed data, read to its end ("" when intact or not gzip)."""
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return ""
    problem = _gunzip(path, -1, 1 << 20)[1]
    return f"{problem}; download or export the file again" if problem else ""


def read_header(path: Path) -> tuple[str, tuple[str, ...], str] | None:
    """(container, columns, problem) of a CSV, gzip CSV, Parquet, JSON-lines or YAML rate-card file.

    `problem` is empty unless the file is damaged in a way the billing loader must report instead of reading it.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head[:4] == b"PAR1":
        try:
            return "parquet", tuple(pq.read_schema(path).names), ""
        except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError; its text names thrift internals
            size = path.stat().st_size
            tail = "ends with PAR1" if size >= 8 and _tail(path) == b"PAR1" else "does not end with PAR1 (cut short?)"
            return "parquet", (), (f"it starts like a Parquet file (PAR1) but its footer cannot be read ({size:,} "
                                   f"bytes; it {tail}); export or download it again")
    container, problem = "csv", ""
    if head[:2] == b"\x1f\x8b":
        head, problem = _gunzip(path, HEAD_BYTES, 1 << 8)
        if problem and b"\n" not in head:
            return None  # nothing recognisable before the damage: the telemetry loader reports it
        container = "csv.gz"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        line = stripped.split(b"\n", 1)[0]
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return ("jsonl", tuple(doc), problem) if isinstance(doc, dict) else None
    if container == "csv" and RATE_CARD_LINE.search(head):
        return "yaml", ("rate_card",), ""
    if b"\x00" in head[:4096] or any(OTLP_LINE.match(line) for line in head.split(b"\n")[1:21]):
        return None  # binary, or OTLP JSON lines whose first line is damaged: the telemetry loader reads them
    cols = _csv_header(head.split(b"\n", 1)[0].decode("utf-8", "replace"))
    return (container, cols, problem) if len(cols) >= 2 else None


def detect(path: Path) -> Detected | None:
    """The billing format of `path`, or None when it is not a billing file (e.g. OTLP)."""
    try:
        found = read_header(path)
    except OSError:
        return None
    if found is None:
        return None
    container, cols, problem = found
    if container == "yaml":
        return Detected("rate-card", "yaml", cols)
    if container == "parquet" and problem:
        return Detected("", container, cols, problem=problem)
    kind = classify(cols)
    if kind is None:
        if container in ("csv", "csv.gz") and signatures.looks_tabular(cols):
            return Detected("", container, cols, problem=signatures.unknown_header(cols, container))
        return None
    if container == "jsonl" and kind[0] not in ("gcp-billing", "focus"):
        return None
    if problem:
        problem += "; download or export the file again"
    return Detected(kind[0], container, cols, kind[1], problem)


def _tail(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-4, 2)
        return f.read(4)
