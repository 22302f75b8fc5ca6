"""Splitting a JSON file into the documents written back to back in it (`jq . a.json b.json`, `cat` of pretty-printed
files), each with the line it starts on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson

UTF8_BOM = b"\xef\xbb\xbf"
# Where one object may end and the next begin: outside a string, valid JSON never has `}` followed by `{` with only
# whitespace (or the byte-order mark of a file joined with `cat`) between them.
SEAM = re.compile(rb"\}\s*(?:\xef\xbb\xbf)?(?=\{)")
AFTER_DOCUMENT = ("unexpected content after document", "trailing characters")  # orjson's words, by version


def split(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(first line, bytes) of each JSON document in `data`; a file without a seam (the usual single document) is
    yielded whole, unparsed.

    Otherwise each document ends where the JSON parser finds trailing text, so a `} {` inside a string is never a
    boundary and each document is parsed once here. A document that is not JSON ends at the first seam after its
    error: it is then rejected on its own by the decoder, with that error, and the documents after it are still read.
    """
    if SEAM.search(data) is None:
        yield 1, data
        return
    view = memoryview(data)
    start = _skip(data, 0)
    line = 1 + data.count(b"\n", 0, start)
    while start < len(data):
        try:
            orjson.loads(view[start:])
            end = len(data)
        except orjson.JSONDecodeError as e:
            if e.msg.startswith(AFTER_DOCUMENT):
                end = start + e.pos
            else:
                seam = SEAM.search(data, start + max(e.pos - 1, 0))
                end = seam.start() + 1 if seam else len(data)
        yield line, data[start:end].rstrip(b" \t\r\n")
        nxt = _skip(data, end)
        line += data.count(b"\n", start, nxt)
        start = nxt


def _skip(data: bytes, at: int) -> int:
    """`at` moved past whitespace and byte-order marks, so a document starts on its first character."""
    while True:
        while at < len(data) and data[at] in b" \t\r\n":
            at += 1
        if data.startswith(UTF8_BOM, at):
            at += len(UTF8_BOM)
            continue
        return at
