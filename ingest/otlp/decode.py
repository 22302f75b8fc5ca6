"""Decoding one batch of OTLP records into Arrow span and point tables plus rejections (pure: no store access)."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import orjson
import pyarrow as pa

from ingest.files import fast_json, fast_proto
from ingest.files.sources import Record
from ingest.otlp import otlp_json, otlp_proto
from ingest.otlp.otlp_values import Issue
from ingest.otlp.rows import PointColumns, Rejection, SpanColumns
from store.settings import Settings

JSON_SIGNALS = {"resourceSpans": "traces", "resourceMetrics": "metrics", "resourceLogs": "logs"}


@dataclass
class _Batch:
    spans: SpanColumns = field(default_factory=SpanColumns)
    points: PointColumns = field(default_factory=PointColumns)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0
    signals: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Decoded:
    """One decoded batch, ready to commit: Arrow tables (picklable, so a worker process can build it)."""

    spans: pa.Table | None
    points: pa.Table | None
    rejections: tuple[Rejection, ...]
    skipped: int
    signals: frozenset[str]

    @property
    def accepted(self) -> int:
        return (self.spans.num_rows if self.spans is not None else 0) + (
            self.points.num_rows if self.points is not None else 0)


def _json_problem(payload: bytes, e: orjson.JSONDecodeError, unit: str) -> str:
    """What is wrong with a record orjson refused, said where the error is in words a person counts in (orjson's own
    text ends in `line 1 column 1 (char 0)`, and puts bad UTF-8 at char 0)."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as u:
        return (f"not valid UTF-8: byte 0x{payload[u.start]:02x} at byte {u.start} of the {unit}; OTLP/JSON must be "
                "UTF-8: re-encode the file as UTF-8")
    where = (f"character {e.pos + 1} of the line" if unit == "line" else
             f"line {e.lineno}, column {e.colno} of the {unit}")
    if e.msg.startswith("depth limit exceeded"):
        return f"invalid JSON: nested more than 1024 levels deep (at {where}); OTLP values nest at most 16 levels"
    hint = ("; a \\u escape there is half of a UTF-16 surrogate pair, which is not a character on its own"
            if "surrogate" in e.msg else "")
    return f"invalid JSON at {where}: {e.msg}{hint}"


def _decode_json(rec: Record, out: _Batch, settings: Settings, unit: str) -> None:
    try:
        doc = orjson.loads(rec.payload)
    except orjson.JSONDecodeError as e:
        out.rejections.append(Rejection(rec.record_no, "record", "json", _json_problem(rec.payload, e, unit),
                                        excerpt=rec.payload[:200].decode("utf-8", "replace")))
        return
    if not isinstance(doc, dict):
        out.rejections.append(Rejection(rec.record_no, "record", "json", "expected a JSON object"))
        return
    signal = next((s for k, s in JSON_SIGNALS.items() if k in doc), None)
    if signal is None:
        keys = ", ".join(sorted(doc)[:5]) or "none"
        out.rejections.append(Rejection(rec.record_no, "record", "signal",
                                        f"unknown signal: no resourceSpans, resourceMetrics or resourceLogs (keys: {keys})"))
        return
    out.signals.add(signal)
    try:
        if signal == "traces":
            out.rejections.extend(otlp_json.decode_traces(doc, rec.record_no, settings, out.spans))
        elif signal == "metrics":
            out.rejections.extend(otlp_json.decode_metrics(doc, rec.record_no, settings, out.points))
        else:
            out.skipped += otlp_json.count_logs(doc)
    except Issue as e:
        out.rejections.append(Rejection(rec.record_no, "record", e.field, e.reason))


def _decode_proto(rec: Record, out: _Batch, settings: Settings, forced: str | None) -> None:
    """One framed request, of the `forced` signal or else of the signal its own content shows (files may mix them)."""
    try:
        signal, msg = otlp_proto.sniff(rec.payload) if forced is None else (forced, otlp_proto.parse(forced, rec.payload))
    except Issue as e:
        out.rejections.append(Rejection(rec.record_no, "record", e.field, e.reason))
        return
    if signal == otlp_proto.EMPTY:
        return
    out.signals.add(signal)
    if signal == "traces":
        out.rejections.extend(otlp_proto.decode_traces(msg, rec.record_no, settings, out.spans))
    elif signal == "metrics":
        out.rejections.extend(otlp_proto.decode_metrics(msg, rec.record_no, settings, out.points))
    else:
        out.skipped += otlp_proto.count_logs(msg)


def decode_batch(records: list[Record], fmt: str, settings: Settings, signal: str | None = None,
                 fast: bool | None = None) -> Decoded:
    """Decode records into span and point tables plus rejections (pure: no store access).

    Trace batches first try a fast path (ingest.files.fast_json in DuckDB, ingest.files.fast_proto columnar), which
    declines any batch it cannot prove it decodes exactly as the Python decoders below do. Each protobuf record's
    signal is told from its own content (one Collector file exporter may serve several pipelines) unless `signal`
    forces one for all.
    """
    use_fast = fast_json.enabled() if fast is None else fast
    if fmt in ("jsonl", "json") and use_fast:
        spans = fast_json.decode_traces(records, settings)
        if spans is not None:
            return Decoded(spans if spans.num_rows else None, None, (), 0, frozenset({"traces"}))
    if fmt == "proto" and signal in (None, "traces") and use_fast:  # it declines a batch holding any other signal
        spans = fast_proto.decode_traces(records, settings)
        if spans is not None:
            return Decoded(spans if spans.num_rows else None, None, (), 0, frozenset({"traces"}))
    out = _Batch()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived dicts make the cyclic collector the main cost
    try:
        for rec in records:
            if fmt == "proto":
                _decode_proto(rec, out, settings, signal)
            else:
                _decode_json(rec, out, settings, "line" if fmt == "jsonl" else "document")
        return Decoded(out.spans.to_arrow() if len(out.spans) else None,
                       out.points.to_arrow() if len(out.points) else None,
                       tuple(out.rejections), out.skipped, frozenset(out.signals))
    finally:
        if gc_was_enabled:
            gc.enable()
