"""The Collector exporter's table layouts as found in a database, and the adapter views that read each as one layout.

The exporter's DDL changed over its versions: nanosecond `DateTime64(9)` or whole-second `DateTime` times, metric
tables without `ServiceName`, `AggTemp` instead of `AggregationTemporality`, spans whose scope lives in
`SpanAttributes`, bloom-filter or text indexes. Each table is read from `system.columns` and mapped column by column
onto the layout of schema 0001/0002 by an adapter view (`tierwise_<table>`), which the contract views read. A table
whose columns cannot be mapped is reported by name, and its adapter is an empty view with the right columns, so
every other view is still created.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from store.clickhouse.client import ClickHouseClient

NS = "DateTime64(9)"
STR_MAP = "Map(LowCardinality(String), String)"
SCOPE_KEYS = ("otel.scope.name", "otel.scope.version")  # where exporters before the Scope columns put the scope

# A canonical column: (name, type, fallback used when the table lacks it; None: the column is required).
Column = tuple[str, str, "Callable[[Mapping[str, str]], str] | None"]


def _const(sql: str) -> Callable[[Mapping[str, str]], str]:
    return lambda _cols: sql


def _temporality(cols: Mapping[str, str]) -> str:
    return "toInt32(AggTemp)" if "AggTemp" in cols else "toInt32(0)"  # absent: the exporter did not store it


# the table's own column: inside the adapter, `SpanAttributes` names the filtered map it outputs
_RAW_ATTRS = "`otel_traces`.`SpanAttributes`"
_SCOPE_IN_ATTRS = f"mapFilter((k, v) -> k NOT IN {SCOPE_KEYS!r}, {_RAW_ATTRS})"

TRACE_COLUMNS: tuple[Column, ...] = (
    ("Timestamp", NS, None), ("TraceId", "String", None), ("SpanId", "String", None),
    ("ParentSpanId", "String", None), ("TraceState", "String", _const("''")), ("SpanName", "String", None),
    ("SpanKind", "String", None), ("ServiceName", "String", _const("ResourceAttributes['service.name']")),
    ("ResourceAttributes", STR_MAP, None),
    ("ScopeName", "String", _const(f"{_RAW_ATTRS}['{SCOPE_KEYS[0]}']")),
    ("ScopeVersion", "String", _const(f"{_RAW_ATTRS}['{SCOPE_KEYS[1]}']")),
    ("SpanAttributes", STR_MAP, None), ("Duration", "UInt64", None), ("StatusCode", "String", None),
    ("StatusMessage", "String", _const("''")),
    ("Events.Timestamp", f"Array({NS})", None), ("Events.Name", "Array(String)", None),
    ("Events.Attributes", f"Array({STR_MAP})", None), ("Links.TraceId", "Array(String)", None),
    ("Links.SpanId", "Array(String)", None), ("Links.TraceState", "Array(String)", None),
    ("Links.Attributes", f"Array({STR_MAP})", None),
)
_COMMON: tuple[Column, ...] = (
    ("ResourceAttributes", STR_MAP, None), ("ScopeName", "String", _const("''")),
    ("ScopeVersion", "String", _const("''")), ("ServiceName", "String", _const("ResourceAttributes['service.name']")),
    ("MetricName", "String", None), ("MetricDescription", "String", _const("''")),
    ("MetricUnit", "String", _const("''")), ("Attributes", STR_MAP, None), ("StartTimeUnix", NS, None),
    ("TimeUnix", NS, None), ("Flags", "UInt32", _const("toUInt32(0)")),
)
_EXEMPLARS: tuple[Column, ...] = (
    ("Exemplars.FilteredAttributes", f"Array({STR_MAP})", None), ("Exemplars.TimeUnix", f"Array({NS})", None),
    ("Exemplars.Value", "Array(Float64)", None), ("Exemplars.SpanId", "Array(String)", None),
    ("Exemplars.TraceId", "Array(String)", None),
)
_TEMPORALITY: Column = ("AggregationTemporality", "Int32", _temporality)
_COUNTS: tuple[Column, ...] = (("Count", "UInt64", None), ("Sum", "Float64", None))
_MIN_MAX: tuple[Column, ...] = (("Min", "Float64", _const("toFloat64(0)")), ("Max", "Float64", _const("toFloat64(0)")))

# table → (adapter columns): what metric_points and spans read, in the layout of schema 0001/0002
TABLES: dict[str, tuple[Column, ...]] = {
    "otel_traces": TRACE_COLUMNS,
    "otel_metrics_gauge": (*_COMMON, ("Value", "Float64", None), *_EXEMPLARS),
    "otel_metrics_sum": (*_COMMON, ("Value", "Float64", None), *_EXEMPLARS, _TEMPORALITY,
                         ("IsMonotonic", "Bool", None)),
    "otel_metrics_histogram": (*_COMMON, *_COUNTS, ("BucketCounts", "Array(UInt64)", None),
                               ("ExplicitBounds", "Array(Float64)", None), *_EXEMPLARS, *_MIN_MAX, _TEMPORALITY),
    "otel_metrics_exponential_histogram": (
        *_COMMON, *_COUNTS, ("Scale", "Int32", None), ("ZeroCount", "UInt64", None), ("PositiveOffset", "Int32", None),
        ("PositiveBucketCounts", "Array(UInt64)", None), ("NegativeOffset", "Int32", None),
        ("NegativeBucketCounts", "Array(UInt64)", None), *_EXEMPLARS, *_MIN_MAX, _TEMPORALITY),
    "otel_metrics_summary": (*_COMMON, *_COUNTS, ("ValueAtQuantiles.Quantile", "Array(Float64)", None),
                             ("ValueAtQuantiles.Value", "Array(Float64)", None)),
}


@dataclass(frozen=True)
class Layout:
    """One exporter table as this database holds it: its columns, how it differs from schema 0001/0002, and the
    SELECT that reads it in that layout (None when a column cannot be mapped: `problem` says which)."""

    table: str
    columns: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()
    select: str | None = None
    problem: str | None = None
    seconds: bool = False  # times stored as whole seconds (`DateTime`), as some exporter versions make them

    def types(self) -> dict[str, str]:
        return dict(self.columns)


_LOW_CARDINALITY = re.compile(r"LowCardinality\(((?:[^()]|\([^()]*\))*)\)")


def bare(type_name: str) -> str:
    """A type without LowCardinality wrappers: LowCardinality(String) and String store the same values."""
    return _LOW_CARDINALITY.sub(r"\1", type_name)


_DATETIME = re.compile(r"^DateTime(64\((\d)(, *'[^']*')?\)|\('[^']*'\))?$")
_INTS = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}


def convert(name: str, actual: str, wanted: str) -> tuple[str, str | None] | None:
    """The expression reading column `name` of type `actual` as `wanted`, with a note when it differs in meaning;
    None when no mapping is known."""
    col, have, want = f"`{name}`", bare(actual), bare(wanted)
    if have == want:
        return col, None
    if want == NS and (m := _DATETIME.match(have)):
        note = f"{name} {actual} (seconds)" if not m.group(1) or m.group(1).startswith("(") else None
        return f"toDateTime64({col}, 9)", note
    if want == f"Array({NS})" and have.startswith("Array(") and _DATETIME.match(have[6:-1]):
        return f"arrayMap(t -> toDateTime64(t, 9), {col})", None
    casts = {"UInt64": "toUInt64", "Int32": "toInt32", "UInt32": "toUInt32", "Float64": "toFloat64", "Bool": "toBool"}
    if want in casts and (have in _INTS or have in ("Float32", "Float64", "Bool")):
        return f"{casts[want]}({col})", None
    if want == "Array(UInt64)" and have in {f"Array({t})" for t in _INTS}:
        return f"arrayMap(x -> toUInt64(x), {col})", None
    if want == "Array(Float64)" and have == "Array(Float32)":
        return f"arrayMap(x -> toFloat64(x), {col})", None
    return None


def detect(table: str, columns: tuple[tuple[str, str], ...]) -> Layout:
    """How to read `table` (its `system.columns` rows) as the layout of schema 0001/0002."""
    have = dict(columns)
    exprs, notes, seconds = [], [], False
    for name, wanted, fallback in TABLES[table]:
        if name not in have:
            if fallback is None:
                return Layout(table, columns, problem=f"has no {name} column")
            exprs.append(f"{fallback(have)} AS `{name}`")
            notes.append(f"no {name}")
            continue
        mapped = convert(name, have[name], wanted)
        if mapped is None:
            return Layout(table, columns, problem=f"{name} is {have[name]}, not a type tierwise reads as {wanted}")
        expr, note = mapped
        if table == "otel_traces" and name == "SpanAttributes" and "ScopeName" not in have:
            expr = _SCOPE_IN_ATTRS  # the older exporter wrote the scope as two span attributes
        if note:
            notes.append(note)
            seconds = seconds or "seconds" in note
        exprs.append(f"{expr} AS `{name}`" if expr != f"`{name}`" else expr)
    if "AggTemp" in have:
        notes.append("AggTemp for AggregationTemporality")
    return Layout(table, columns, tuple(notes), f"SELECT {', '.join(exprs)} FROM `{table}`", seconds=seconds)


def empty_select(table: str) -> str:
    """An adapter that yields no rows but has every column: for a table whose layout is not understood."""
    cols = ", ".join(f"defaultValueOfTypeName('{t}') AS `{n}`" for n, t, _ in TABLES[table])
    return f"SELECT {cols} FROM system.one WHERE 0"


def read(client: ClickHouseClient) -> dict[str, Layout]:
    """Every exporter table of the current database, detected (tables that do not exist are left out)."""
    rows = client.query_arrow(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN {t:Array(String)} "
        "ORDER BY table, position", {"t": list(TABLES)}).to_pylist()
    found: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        found.setdefault(str(r["table"]), []).append((str(r["name"]), str(r["type"])))
    return {t: detect(t, tuple(found[t])) for t in TABLES if t in found}


def create_adapters(client: ClickHouseClient) -> dict[str, Layout]:
    """(Re)create `tierwise_<table>` for every exporter table as it is now; returns the layouts found. An adapter
    ClickHouse refuses is replaced by the empty one, and its table reported with ClickHouse's message."""
    layouts = read(client)
    for table in TABLES:
        layout = layouts.get(table)
        if layout is not None and layout.select is not None:
            try:
                client.command(f"CREATE OR REPLACE VIEW `tierwise_{table}` AS {layout.select}")
                continue
            except Exception as e:  # a mapping this server cannot run: the table is not read, the rest still is
                message = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
                layouts[table] = replace(layout, select=None, problem=f"cannot be read here: {message}")
        client.command(f"CREATE OR REPLACE VIEW `tierwise_{table}` AS {empty_select(table)}")
    return layouts
