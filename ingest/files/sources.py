"""Opening telemetry files: compression and format detected from content, records streamed with numbers."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import zstandard

from ingest.files import documents

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_PROTO_RECORD = 256 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
OTLP_LINE = re.compile(rb'\s*\{\s*"resource(?:Spans|Metrics|Logs)"\s*:')  # a line that starts an OTLP/JSON object
# Byte-order marks of the encodings OTLP/JSON is not written in (UTF-32 first: its LE mark starts with UTF-16's).
OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
              (b"\xfe\xff", "UTF-16"))


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


class _ZstdFrames:
    """The compressed bytes on their way to the zstd decompressor, with the frame and block headers followed as they
    pass: the decompressor ends quietly where a file is cut, so this is what tells a cut stream from a whole one."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.pos = 0  # compressed bytes passed on
        self.state = "magic"  # what the next header is: magic, descriptor, frame-header, block, checksum, skippable
        self.want = 4  # bytes of that header
        self.head = b""  # the part of it read so far
        self.skip = 0  # bytes of block content, checksum or skippable frame still to pass
        self.checksum = False

    @property
    def whole(self) -> bool:
        """Whether the bytes so far end exactly where a frame ends."""
        return self.state == "magic" and not self.head and not self.skip

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        view, i = memoryview(data), 0
        while i < len(data) and self.state != "unknown":
            if self.skip:
                step = min(self.skip, len(data) - i)
                self.skip, i = self.skip - step, i + step
                continue
            take = min(self.want - len(self.head), len(data) - i)
            self.head, i = self.head + view[i:i + take].tobytes(), i + take
            if len(self.head) == self.want:
                head, self.head = self.head, b""
                self._header(head)
        self.pos += len(data)
        return data

    def _header(self, head: bytes) -> None:
        value = int.from_bytes(head, "little")
        if self.state == "magic":
            if head == ZSTD_MAGIC:
                self.state, self.want = "descriptor", 1
            elif value & 0xFFFFFFF0 == 0x184D2A50:
                self.state, self.want = "skippable", 4
            else:
                self.state = "unknown"  # not zstd: the decompressor reports it
        elif self.state == "descriptor":
            single = value >> 5 & 1
            self.checksum = bool(value >> 2 & 1)
            rest = (0 if single else 1) + (0, 1, 2, 4)[value & 3] + (single, 2, 4, 8)[value >> 6]
            self.state, self.want = ("frame-header", rest) if rest else ("block", 3)
        elif self.state == "frame-header":
            self.state, self.want = "block", 3
        elif self.state == "block":
            kind = value >> 1 & 3
            self.skip = 1 if kind == 1 else value >> 3  # an RLE block holds one byte
            if value & 1:  # the frame's last block
                self.state, self.want = ("checksum", 4) if self.checksum else ("magic", 4)
        elif self.state == "checksum":
            self.state, self.want = "magic", 4
        else:  # skippable
            self.skip, self.state, self.want = value, "magic", 4


class _ZstdStream(io.RawIOBase):
    """zstd-decompressed bytes that end in an EOFError, not quietly, when the file ends inside a frame."""

    def __init__(self, raw: BinaryIO) -> None:
        self.frames = _ZstdFrames(raw)
        self.reader = zstandard.ZstdDecompressor().stream_reader(self.frames, read_across_frames=True)  # type: ignore[arg-type]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.reader.readinto(buffer)
        if n == 0 and not self.frames.whole:
            raise EOFError(f"the zstd stream is truncated at byte {self.frames.pos}, inside a compressed frame (an "
                           "interrupted copy or write?)")
        return int(n)


def _decompressed(raw: BinaryIO, head: bytes) -> tuple[BinaryIO, str]:
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb"), "gzip"  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        return io.BufferedReader(_ZstdStream(raw), buffer_size=1 << 20), "zstd"
    return raw, "none"


def open_source(path: Path) -> Opened:
    """Open `path`, undo gzip or zstd, and tell JSON lines, a JSON document and framed protobuf apart."""
    raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by Opened.close
    try:
        head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
        stream, compression = _decompressed(raw, head)
        try:
            first = _head(stream)
            bom = first.startswith(UTF8_BOM)
            if bom:  # accepted (some editors write one); the records start after it
                stream.read(len(UTF8_BOM))
                first = _head(stream)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
            raise SourceError(f"cannot decompress ({compression}): {e}") from None
        _refuse_encoding(first, compression)
        body = first.lstrip()
        if not body:
            raise SourceError("file is empty" + (" (it holds only a UTF-8 byte-order mark)" if bom else ""))
        if body[:1] in (b"{", b"["):
            fmt = "jsonl" if _first_line_is_object(stream) or _otlp_lines_follow(stream) else "json"
        else:  # a framed record's length starts with a zero byte; text there is a damaged first line of JSON lines
            fmt = "jsonl" if 32 <= body[0] < 127 and _otlp_lines_follow(stream) else "proto"
        return Opened(stream, raw, compression, fmt)
    except BaseException:
        raw.close()
        raise


def _head(stream: BinaryIO) -> bytes:
    return stream.peek(64 * 1024) if hasattr(stream, "peek") else b""


def _refuse_encoding(first: bytes, compression: str) -> None:
    """A SourceError for content tierwise cannot read whatever it holds: text not in UTF-8, or a second compression."""
    for bom, name in OTHER_BOMS:
        if first.startswith(bom):
            raise SourceError(f"file is {name} text (it starts with a {name} byte-order mark); tierwise reads "
                              "UTF-8 only (OTLP/JSON and bills alike): re-save the file as UTF-8 and ingest it again")
    if _utf16_without_bom(first):
        raise SourceError("file is UTF-16 text without a byte-order mark (every other byte is zero); tierwise reads "
                          "UTF-8 only (OTLP/JSON and bills alike): re-save the file as UTF-8 and ingest it again")
    inner = "gzip" if first.startswith(GZIP_MAGIC) else "zstd" if first.startswith(ZSTD_MAGIC) else None
    if inner and compression != "none":
        raise SourceError(f"file is compressed twice: undoing {compression} leaves {inner}-compressed data; "
                          f"decompress it once (e.g. `{'gunzip' if compression == 'gzip' else 'unzstd'}`) and ingest "
                          "the result")


def _utf16_without_bom(first: bytes) -> bool:
    """Whether the file starts like UTF-16 text with no mark: 16 or more ASCII characters, each beside a zero byte.

    A framed protobuf file cannot: it starts with a zero byte (its first record's length), and byte 4 is a tag, never 0.
    """
    head = first[:64]
    if len(head) < 32:
        return False
    for text, zeros in ((head[0::2], head[1::2]), (head[1::2], head[0::2])):  # little-endian, big-endian
        if not zeros.strip(b"\x00") and all(32 <= b < 127 or b in b"\t\r\n" for b in text):
            return True
    return False


def _first_line_is_object(stream: BinaryIO) -> bool:
    head = stream.peek(1 << 20) if hasattr(stream, "peek") else b""
    body = head.lstrip()
    if b"\n" not in body:  # the first line is longer than the peek window: one compact object per line
        return body[:1] == b"{"
    line = body.split(b"\n", 1)[0]
    try:
        return isinstance(orjson.loads(line.decode("utf-8", "replace")), dict)
    except orjson.JSONDecodeError as e:
        # A line cut short is the start of a document written over several lines; a whole line that is bad
        # (too deep, say) is one bad line of JSON lines, quarantined alone.
        return line[:1] == b"{" and not e.msg.startswith("unexpected end of data")


def _otlp_lines_follow(stream: BinaryIO) -> bool:
    """Whether one of the 20 lines after the first starts an OTLP/JSON object (`{"resourceSpans":` and the like; the
    peek window may end inside it): then the file is JSON lines whose first line is damaged (quarantined alone), not a
    document or protobuf that would lose every line after it."""
    head = stream.peek(1 << 20) if hasattr(stream, "peek") else b""
    return any(OTLP_LINE.match(line) for line in head.lstrip().split(b"\n")[1:21])


def iter_records(opened: Opened) -> Iterator[Record]:
    """Records in file order; a truncated or corrupt tail raises SourceError after the good ones."""
    n = 0
    try:
        if opened.fmt == "jsonl":
            for n, line in enumerate(opened.stream, 1):  # noqa: B007 - n is read after the loop
                line = line.removeprefix(UTF8_BOM)  # files joined with `cat` keep each one's mark, as the first line may
                if line.strip():
                    yield Record(n, line)
        elif opened.fmt == "json":  # one document, or several back to back (`jq . a.json b.json`): each a record
            n = 1  # what a read that fails names: the first record
            yield from (Record(line, doc) for line, doc in documents.split(opened.stream.read()))
        else:
            for rec in _framed(opened.stream, " of the decompressed data" if opened.compression != "none" else ""):
                n = rec.record_no
                yield rec
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
        raise SourceError(f"file is truncated or corrupt after record {n}: {e}; the records before it were kept",
                          n) from None


def _framed(stream: BinaryIO, of: str) -> Iterator[Record]:
    """Length-prefixed records; `of` says what the byte offsets in messages count (the file, or its decompressed data)."""
    n = at = 0
    while True:
        head = stream.read(4)
        if not head:
            return
        n += 1
        if len(head) < 4:
            raise SourceError(f"record {n}: truncated length prefix ({len(head)} of 4 bytes at byte {at}{of}): the "
                              "file was cut short; the records before it were kept", n - 1)
        size = int.from_bytes(head, "big")
        if size > MAX_PROTO_RECORD:
            if n == 1 and _looks_like_text(head + stream.peek(60)[:60] if hasattr(stream, "peek") else head):
                raise SourceError("not an OTLP file: it starts with text that is not JSON "
                                  "(expected OTLP/JSON or length-prefixed OTLP protobuf)", 0)
            raise SourceError(f"record {n}: length prefix {size} at byte {at}{of} is above the "
                              f"{MAX_PROTO_RECORD >> 20} MiB limit: the file is not framed OTLP protobuf (a 4-byte "
                              "big-endian length before each request) or is corrupt from there on", n - 1)
        payload = stream.read(size)
        if len(payload) < size:
            raise SourceError(f"record {n}: truncated ({len(payload)} of {size} bytes, from byte {at + 4}{of}): the "
                              "file was cut short; the records before it were kept", n - 1)
        at += 4 + size
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
