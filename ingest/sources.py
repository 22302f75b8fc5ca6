"""Opening telemetry files: compression and format detected from content, records streamed with numbers."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_PROTO_RECORD = 256 * 1024 * 1024


class SourceError(Exception):
    """The file (or the rest of it) cannot be read; `record_no` is the last record read."""

    def __init__(self, message: str, record_no: int = 0) -> None:
        super().__init__(message)
        self.record_no = record_no


@dataclass(frozen=True)
class Record:
    """One OTLP request as stored in a file: a JSON line or document, or a framed protobuf message."""

    record_no: int
    payload: bytes


@dataclass(frozen=True)
class Opened:
    """A readable file with what was detected about it."""

    stream: BinaryIO
    raw: BinaryIO
    compression: str
    fmt: str  # jsonl | json | proto

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def _decompressed(raw: BinaryIO, head: bytes) -> tuple[BinaryIO, str]:
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb"), "gzip"  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader, buffer_size=1 << 20), "zstd"
    return raw, "none"


def open_source(path: Path) -> Opened:
    """Open `path`, undo gzip or zstd, and tell JSON lines, a JSON document and framed protobuf apart."""
    raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by Opened.close
    try:
        head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
        stream, compression = _decompressed(raw, head)
        try:
            first = stream.peek(64 * 1024) if hasattr(stream, "peek") else b""
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
            raise SourceError(f"cannot decompress ({compression}): {e}") from None
        body = first.lstrip()
        if not body:
            raise SourceError("file is empty")
        if body[:1] in (b"{", b"["):
            fmt = "jsonl" if _first_line_is_object(stream) else "json"
        else:
            fmt = "proto"
        return Opened(stream, raw, compression, fmt)
    except BaseException:
        raw.close()
        raise


def _first_line_is_object(stream: BinaryIO) -> bool:
    head = stream.peek(1 << 20) if hasattr(stream, "peek") else b""
    body = head.lstrip()
    if b"\n" not in body:  # the first line is longer than the peek window: one compact object per line
        return body[:1] == b"{"
    line = body.split(b"\n", 1)[0]
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def iter_records(opened: Opened) -> Iterator[Record]:
    """Records in file order; a truncated or corrupt tail raises SourceError after the good ones."""
    n = 0
    try:
        if opened.fmt == "jsonl":
            for n, line in enumerate(opened.stream, 1):  # noqa: B007 - n is read after the loop
                if line.strip():
                    yield Record(n, line)
        elif opened.fmt == "json":
            n = 1
            yield Record(1, opened.stream.read())
        else:
            yield from _framed(opened.stream)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
        raise SourceError(f"file is truncated or corrupt after record {n} ({e})", n) from None


def _framed(stream: BinaryIO) -> Iterator[Record]:
    n = 0
    while True:
        head = stream.read(4)
        if not head:
            return
        n += 1
        if len(head) < 4:
            raise SourceError(f"record {n}: truncated length prefix", n - 1)
        size = int.from_bytes(head, "big")
        if size > MAX_PROTO_RECORD:
            if n == 1 and _looks_like_text(head + stream.peek(60)[:60] if hasattr(stream, "peek") else head):
                raise SourceError("not an OTLP file: it starts with text that is not JSON "
                                  "(expected OTLP/JSON or length-prefixed OTLP protobuf)", 0)
            raise SourceError(f"record {n}: length {size} is not plausible; not a framed OTLP protobuf file", n - 1)
        payload = stream.read(size)
        if len(payload) < size:
            raise SourceError(f"record {n}: truncated ({len(payload)} of {size} bytes)", n - 1)
        yield Record(n, payload)


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # not just a character cut at the end of the window
            return False
        text = head[: e.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def raw_position(opened: Opened) -> int:
    """Bytes of the file on disk consumed so far (for progress)."""
    return opened.raw.tell()


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every non-hidden file below named folders, in sorted order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts)))
        else:
            out.append(p)
    return out
