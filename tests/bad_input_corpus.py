"""The bad-input corpus: seeded cases, each a file holding one damaged part among known-good records from real fixtures,
with what `tierwise ingest` must keep of it (judged in bad_input_judge.py, run by bad_input_run.py)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, replace

import bad_input_damage as dmg
import bad_input_files as files
import bad_input_frames as frames
import orjson
from bad_input_sources import (
    BOM,
    Body,
    Built,
    Record,
    bill_body,
    csv_fields,
    csv_row,
    flip,
    gzip_bytes,
    json_lines,
    pick,
    proto_requests,
    zstd_bytes,
)

SUFFIX = {"jsonl": ".jsonl", "json": ".json", "proto": ".binpb", "csv": ".csv", "parquet": ".parquet"}


@dataclass(frozen=True)
class Case:
    """One file to ingest and what must come of it."""

    index: int
    name: str  # `#index family/mutation: detail`, enough to find the damage
    filename: str
    data: bytes
    sent: int  # rows that must be kept: of the undamaged records (those wholly before damage that cuts off the rest),
    # and of the undamaged spans or points of a damaged record (the contract rejects only the smallest level it can)
    good: frozenset[int]  # the undamaged records' numbers as tierwise counts them (line, frame or row; 1 for a document)
    must_flag: bool  # the damage is detectable: `tierwise quarantine` must list the file or a record of it
    total: int  # rows of every record before the damage
    collateral: int = 0  # of `sent`, the rows in damaged records: a line naming one of `damaged` accounts for them
    damaged: frozenset[int] = frozenset()


def _hit(body: Body, data: bytes, at: int) -> set[int]:
    """Records a change at byte `at` of body.encode() damages (both neighbours when it hits a line break)."""
    starts = body.starts()
    hit = {i for i in range(len(body.records)) if starts[i] <= at < starts[i + 1]}
    if body.fmt == "proto" and any(at < starts[i] + 4 for i in hit):  # a length prefix: the framing after it is lost
        hit = set(range(min(hit), len(body.records)))
    if body.fmt != "proto" and data[at:at + 1] == b"\n":
        hit |= {i + 1 for i in hit if i + 1 < len(body.records)}
    return hit if at >= starts[0] else set(range(len(body.records)))  # the CSV header: every row needs it


def _others(body: Body, damaged: set[int]) -> tuple[int, ...]:
    return tuple(i for i in range(len(body.records)) if i not in damaged)


def _maybe_compress(rng: random.Random, built: Built, zstd: bool = True) -> Built:
    """A record-level case compressed whole (intact compression: the same records must be kept)."""
    roll = rng.random()
    if roll < 0.15:
        return replace(built, data=gzip_bytes(built.data), suffix=".gz", detail=built.detail + ", gzip")
    if zstd and roll < 0.25:
        return replace(built, data=zstd_bytes(built.data), suffix=".zst", detail=built.detail + ", zstd")
    return built


# ---- JSON lines: one line damaged among good ones

def _line_case(rng: random.Random, mutation: str) -> Built:
    """One line damaged among 2 to 8 good ones (or, for whole-file mutations, 3 to 10 good lines damaged together)."""
    if mutation not in dmg.LINE_DAMAGE:
        lines = Body("jsonl", tuple(pick(rng, json_lines(), 3, 10)))
        if mutation == "pristine":
            return _maybe_compress(rng, Built(lines.encode(), lines, tuple(range(len(lines.records))), False, "whole"))
        return _whole(rng, mutation, lines)
    signals, detectable, damage = dmg.LINE_DAMAGE[mutation]
    good = pick(rng, json_lines(), 2, 8)
    target = rng.choice([r for r in json_lines() if r.signal in signals and (r.rows or r.signal == "logs")])
    at = rng.randint(0, len(good))
    records = [*good[:at], target, *good[at:]]
    new, detail, rejected = damage(rng, target.data)
    data = Body("jsonl", tuple(records[:at] + [Record(new, 0, "", "")] + records[at + 1:])).encode()
    body = Body("jsonl", tuple(records))
    built = Built(data, body, _others(body, {at}), detectable, f"line {at + 1} of {len(records)} ({target.origin}): "
                  f"{detail}", collateral=target.rows - _costs(new, rejected, target.rows), damaged=(at,))
    return _maybe_compress(rng, built)


def _costs(line: bytes, rejected: int | None, rows: int) -> int:
    """Rows a damaged line must cost: what its damage rejects while the line is JSON orjson reads, else all of it."""
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return rows
    return rows if rejected is None else rejected


def _whole(rng: random.Random, mutation: str, body: Body) -> Built:
    """Damage to a whole file: truncation, a flipped bit, a BOM, CRLF line ends, or UTF-16."""
    data, everything = body.encode(), tuple(range(len(body.records)))
    if mutation == "truncate":
        cut = rng.randint(1, len(data) - 1)
        intact = tuple(body.intact(data[:cut]))
        partial = data[:cut][body.starts()[len(intact)]:]
        return Built(data[:cut], body, intact, _cut_visible(body, partial, len(intact)), f"cut at byte {cut} of {len(data)}")
    if mutation == "bit-flip":
        flipped, at, bit = flip(rng, data)
        return Built(flipped, body, _others(body, _hit(body, data, at)), False, f"bit {bit} of byte {at} flipped")
    if mutation == "utf8-bom":
        return Built(BOM + data, body, everything, False, "UTF-8 BOM")
    if mutation == "crlf":
        return Built(data.replace(b"\n", b"\r\n"), body, everything, False, "CRLF line ends")
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be"])
    text = data.decode().encode(encoding)
    with_bom = encoding == "utf-16" or rng.random() < 0.5
    text = ({"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"") if with_bom else b"") + text
    return Built(text, body, (), True, f"{encoding}{' with BOM' if with_bom or encoding == 'utf-16' else ''}")


def _cut_visible(body: Body, partial: bytes, whole: int) -> bool:
    """Whether a file cut leaving `partial` bytes of record `whole` is detectable (not at a record boundary, and for a
    CSV row not inside its last unquoted value, where the cut row is complete)."""
    if not partial or whole >= len(body.records) or partial == body.records[whole].data:
        return False
    if body.fmt == "csv":
        if partial.count(b'"') % 2:
            return True
        fields = next(csv.reader([partial.decode("utf-8", "replace")]))
        return len(fields) < len(next(csv.reader([body.header.decode()])))
    return True


# ---- framed protobuf: requests of all three signals, one damaged

def _proto_case(rng: random.Random, mutation: str) -> Built:
    """3 to 9 fixture requests of all three signals, framed as the Collector's file exporter writes them, with a bit
    flipped in one frame's payload or length, the file cut, or a junk or damaged request among them."""
    body = Body("proto", tuple(pick(rng, proto_requests(), 3, 9)))
    data = body.encode()
    if mutation == "truncate":
        return _whole(rng, mutation, body)
    if mutation == "pristine":
        return _maybe_compress(rng, Built(data, body, tuple(range(len(body.records))), False, "every record whole"))
    starts = body.starts()
    k = rng.randrange(len(body.records))
    if mutation in ("payload-flip", "length-flip"):
        lo, hi = (starts[k] + 4, starts[k + 1]) if mutation == "payload-flip" else (starts[k], starts[k] + 4)
        if lo == hi:  # an empty request
            lo, hi = starts[k], starts[k] + 4
        flipped, at, bit = flip(rng, data, lo, hi)
        return Built(flipped, body, _others(body, _hit(body, data, at)), at < starts[k] + 4,
                     f"bit {bit} of byte {at} (frame {k + 1} of {len(body.records)}, {body.records[k].origin}) flipped")
    if mutation == "junk-frame":
        original, payload, detail, visible, costs = Record(b"", 0, "", ""), rng.choice(frames.PROTO_JUNK), "junk", True, 0
    else:
        original, payload, detail, visible, costs = frames.span_frame(rng, mutation)
    records = [*body.records[:k], original, *body.records[k:]]
    data = Body("proto", (*body.records[:k], Record(payload, 0, "", ""), *body.records[k:])).encode()
    body = Body("proto", tuple(records))
    built = Built(data, body, _others(body, {k}), visible, f"frame {k + 1} of {len(records)}: {detail}",
                  collateral=original.rows - costs, damaged=(k,))
    return _maybe_compress(rng, built)


# ---- FOCUS bills: one damaged row

COSTS = ("abc", "12O.50", "1,234.56", "NaN", "", "--5", "1.2.3", "$12.00", "twelve", "1e20", "99999999999999999999999",
         "-1e16", "1e400")


def _csv_case(rng: random.Random, mutation: str) -> Built:
    """3 to 40 rows of a FOCUS bill with one row damaged (an unclosed quote may take the rows after it), or the whole
    file cut, flipped, re-encoded or re-saved with CRLF."""
    body = bill_body(rng)
    if mutation in ("truncate", "bit-flip", "crlf", "utf8-bom", "utf16"):
        return _whole(rng, mutation, body)
    k = rng.randrange(len(body.records))
    fields, header = csv_fields(body.records[k].data), csv_fields(body.header)
    cuts_rest = False
    if mutation == "pristine":
        return _maybe_compress(rng, Built(body.encode(), body, tuple(range(len(body.records))), False, "whole"), False)
    if mutation == "extra-column":
        row, detail = body.records[k].data + b",extra", "an extra value"
    elif mutation == "missing-columns":
        drop = rng.randint(1, 3)
        row, detail = csv_row(fields[:-drop]), f"{drop} values missing"
    elif mutation == "unbalanced-quote":
        i = rng.randrange(len(fields))
        opened = b'"' + fields[i].replace('"', "").encode()  # and no closing quote
        row = csv_row(fields[:i]) + (b"," if i else b"") + opened + b"," + csv_row(fields[i + 1:])
        detail, cuts_rest = f"quote opened in {header[i]} and never closed", True
    elif mutation == "bad-utf8":
        i = header.index(rng.choice([c for c in ("ServiceName", "ResourceId", "ProviderName") if c in header]))
        bad = rng.choice(dmg.BAD_UTF8)
        row = csv_row([*fields[:i], fields[i] + "\x01", *fields[i + 1:]]).replace(b"\x01", bad)
        detail = f"bytes {bad!r} in {header[i]}"
    else:  # cost
        value = rng.choice(COSTS)
        row = csv_row([value if c == "BilledCost" else f for c, f in zip(header, fields, strict=True)])
        detail = f"BilledCost {value!r}"
    records = [*body.records[:k], Record(row, 0, "", ""), *body.records[k + 1:]]
    intact = tuple(range(k)) if cuts_rest else _others(body, {k})
    built = Built(Body("csv", tuple(records), body.header).encode(), body, intact, True,
                  f"row {k + 1} of {len(records)} ({body.records[k].origin}): {detail}")
    return _maybe_compress(rng, built, zstd=False)


# ---- the corpus

MUTATIONS: tuple[tuple[str, str], ...] = (
    *(("jsonl", m) for m in ("pristine", "wrong-type", "wrong-type", "bad-id", "huge-value", "deep-nesting",
                             "invalid-utf8", "lone-surrogate", "junk-line", "bom-inside", "bit-flip", "bit-flip",
                             "truncate", "truncate", "utf8-bom", "utf16", "crlf")),
    *(("json", m) for m in ("truncate", "bit-flip", "wrong-type", "whole-file")),
    *((c, m) for c in ("gzip", "zstd") for m in ("truncate", "bit-flip", "truncate", "bit-flip")),
    ("compressed", "double"),
    *(("proto", m) for m in ("pristine", "payload-flip", "payload-flip", "length-flip", "truncate", "truncate",
                             "junk-frame", "bad-id", "huge-value", "deep-nesting", "invalid-utf8", "wrong-wire-type",
                             "bad-enum")),
    *(("csv", m) for m in ("pristine", "extra-column", "missing-columns", "unbalanced-quote", "bad-utf8", "cost",
                           "cost", "truncate", "truncate", "bit-flip", "crlf", "utf8-bom", "utf16")),
    ("parquet", "truncate"), ("parquet", "bit-flip"),
)


def build(index: int, seed: int) -> Case:
    """Case `index` of the corpus for `seed`: the same whatever the number of cases asked for."""
    rng = random.Random(f"{seed}:{index}")
    family, mutation = MUTATIONS[index % len(MUTATIONS)]
    if family == "jsonl":
        built = _line_case(rng, mutation)
    elif family == "json":
        built = files.document_case(rng, mutation)
    elif family in ("gzip", "zstd", "compressed"):
        built = files.compressed_case(rng, family, mutation)
    elif family == "proto":
        built = _proto_case(rng, mutation)
    elif family == "parquet":
        built = files.parquet_case(rng, mutation)
    else:
        built = _csv_case(rng, mutation)
    body = built.body
    return Case(index, f"#{index} {family}/{mutation}: {built.detail}", "case" + SUFFIX[body.fmt] + built.suffix,
                built.data, body.rows(built.intact) + built.collateral, frozenset(i + 1 for i in built.intact),
                built.must_flag, body.rows(), built.collateral, frozenset(i + 1 for i in built.damaged))


def cases(seed: int, n: int) -> list[Case]:
    """The first `n` cases for `seed` (every mutation in turn, details drawn from the seed)."""
    return [build(i, seed) for i in range(n)]
