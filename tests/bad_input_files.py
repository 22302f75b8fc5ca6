"""Bad-input cases that damage a whole file: a JSON document (cut, flipped, a wrong type, a BOM, CRLF, UTF-16), a gzip
or zstd stream (cut, flipped, compressed twice) judged against what the codec itself can still read, and Parquet bills."""

from __future__ import annotations

import random

import bad_input_damage as dmg
import orjson
from bad_input_sources import (
    BOM,
    Body,
    Built,
    bill_body,
    flip,
    gunzip_prefix,
    gzip_bytes,
    json_documents,
    json_lines,
    parquet_bills,
    pick,
    proto_requests,
    unzstd_prefix,
    zstd_bytes,
)


def document_case(rng: random.Random, mutation: str) -> Built:
    """A fixture written as one pretty-printed JSON document, damaged: a file of one record, so only a wrong type (which
    costs the span, point, scope or resource it is in) leaves rows that must be kept."""
    doc = rng.choice(json_documents())
    body = Body("json", (doc,))
    detail = doc.origin
    if mutation == "wrong-type":
        new, what, rejected = dmg.wrong_type_line(rng, orjson.dumps(orjson.loads(doc.data)))
        return Built(orjson.dumps(orjson.loads(new), option=orjson.OPT_INDENT_2), body, (), True, f"{detail}: {what}",
                     collateral=doc.rows - (rejected if rejected is not None else doc.rows), damaged=(0,))
    if mutation == "truncate":
        cut = rng.randint(1, len(doc.data) - 1)
        whole = doc.data[:cut].strip() == doc.data.strip()
        return Built(doc.data[:cut], body, (0,) if whole else (), not whole, f"{detail}: cut at byte {cut}")
    if mutation == "bit-flip":
        flipped, at, bit = flip(rng, doc.data)
        return Built(flipped, body, (), False, f"{detail}: bit {bit} of byte {at} flipped")
    variant = rng.choice(["utf8-bom", "crlf", "utf16"])
    data = {"utf8-bom": BOM + doc.data, "crlf": doc.data.replace(b"\n", b"\r\n"), "utf16": doc.data.decode().encode("utf-16")}
    return Built(data[variant], body, () if variant == "utf16" else (0,), variant == "utf16", f"{detail}: {variant}")


def compressed_case(rng: random.Random, codec: str, mutation: str) -> Built:
    """Good JSON lines, protobuf requests or bill rows (bills: gzip only) in a gzip or zstd stream that is cut, has a bit
    flipped, or is compressed twice; the records that must be kept are those the codec itself still yields whole."""
    fmt = rng.choice(["jsonl", "proto", "csv"] if codec == "gzip" else ["jsonl", "proto"])
    pool = json_lines() if fmt == "jsonl" else proto_requests()
    body = bill_body(rng) if fmt == "csv" else Body(fmt, tuple(pick(rng, pool, 3, 10)))
    plain = body.encode()
    if mutation == "double":
        outer, inner = rng.choice(["gzip", "zstd"]), rng.choice(["gzip", "zstd"])
        data = plain
        for c in (inner, outer):
            data = gzip_bytes(data) if c == "gzip" else zstd_bytes(data)
        return Built(data, body, (), True, f"{fmt} {inner}-compressed, then {outer}", ".gz" if outer == "gzip" else ".zst")
    packed = gzip_bytes(plain) if codec == "gzip" else zstd_bytes(plain)
    if mutation == "truncate":
        at = rng.randint(1, len(packed) - 1)
        damaged, detail = packed[:at], f"{fmt}, cut at byte {at} of {len(packed)}"
    else:
        damaged, at, bit = flip(rng, packed)
        detail = f"{fmt}, bit {bit} of byte {at} of {len(packed)} flipped"
    out, clean = gunzip_prefix(damaged) if codec == "gzip" else unzstd_prefix(damaged)
    visible = not clean  # a flip the codec cannot see (zstd without a checksum) may still give valid records
    return Built(damaged, body, tuple(body.intact(out)), visible, detail, ".gz" if codec == "gzip" else ".zst")


def parquet_case(rng: random.Random, mutation: str) -> Built:
    """A Parquet bill cut short (its footer, which says where everything is, goes first) or with a bit flipped."""
    bill = rng.choice(parquet_bills())
    body = Body("parquet", (bill,))
    if mutation == "truncate":
        cut = rng.randint(1, len(bill.data) - 1)
        return Built(bill.data[:cut], body, (), True, f"{bill.origin}: cut at byte {cut} of {len(bill.data)}")
    flipped, at, bit = flip(rng, bill.data)
    return Built(flipped, body, (), False, f"{bill.origin}: bit {bit} of byte {at} flipped")
