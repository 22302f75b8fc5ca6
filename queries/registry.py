"""The catalogue of queries the CLI and dashboard can run: name, SQL or polars job, typed parameters and units."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from queries import critical_path
from queries.catalog import (
    BAND,
    BUCKET,
    END,
    HOP_UNITS,
    LATENCY_UNITS,
    SITE,
    START,
    TIER,
    TRACES_PER_BAND,
    WORKLOAD,
    Param,
    ParamType,
    Query,
    QueryError,
    is_time,
    workload_class,
)
from queries.registry_finops import FINOPS
from queries.registry_mapping import MAPPING
from queries.registry_rollup import ROLLUP
from queries.registry_sre import SRE
from queries.registry_traces import TRACES
from queries.timeparse import parse_instant_ns

if TYPE_CHECKING:
    from queries.engines.engine import Engine

def _shares(spans: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    band = params.get("band")
    return critical_path.critical_path_shares(spans, band=float(band) if isinstance(band, int | float) else 0.05)


DECLARED: tuple[Query, ...] = (
    Query("latency_by_tier", "Requests, error rate and exact p50/p95/p99 per tier (server, consumer, root spans).",
          (START, END, workload_class("interactive", "interactive (serving paths; not training/batch/embedding), "
                                      "batch (only those) or all")), LATENCY_UNITS, sql="latency_by_tier"),
    Query("latency_by_group", "RED per time bucket, tier, site, workload, service and operation.",
          (BUCKET, TIER, SITE, WORKLOAD, START, END), LATENCY_UNITS, sql="latency_by_group"),
    Query("hops_by_tier_pair", "Network+queue time of calls between tiers or sites, per tier pair.",
          (WORKLOAD, START, END), HOP_UNITS, sql="hops_by_tier_pair"),
    Query("hops_by_site_pair", "Network+queue time of calls between tiers or sites, per site pair.",
          (WORKLOAD, START, END), HOP_UNITS, sql="hops_by_site_pair"),
    Query("trace_spans", "The spans of every trace whose root starts in the window (the critical path reads band_trace_spans).",
          (WORKLOAD, START, END), (("start_ns", "Unix ns"), ("end_ns", "Unix ns")), sql="trace_spans"),
    Query("filter_values", "Each tier, site, workload and day the dashboard's filters may take, with its spans.", (),
          (("value", "text; day as YYYY-MM-DD (UTC)"), ("spans", "spans")), sql="filter_values"),
    Query("band_trace_spans", "The spans of the traces near each workload's p50 and p95 (critical-path input).",
          (WORKLOAD, START, END, BAND, TRACES_PER_BAND), (("start_ns", "Unix ns"), ("end_ns", "Unix ns")),
          sql="band_trace_spans"),
    Query("critical_path_shares",
          "Share of p50 and p95 end-to-end time per tier's compute and per hop, on the critical path, per workload.",
          (WORKLOAD, START, END, BAND, TRACES_PER_BAND), (("share_pct", "% of end-to-end time"), ("e2e_ms", "ms")),
          source="band_trace_spans", derive=_shares),
)

@cache
def _catalogue() -> dict[str, Query]:
    return {q.name: q for q in DECLARED + SRE + FINOPS + ROLLUP + MAPPING + TRACES}


def queries() -> list[Query]:
    """Every registered query, by name."""
    return sorted(_catalogue().values(), key=lambda q: q.name)


def get(name: str) -> Query:
    try:
        return _catalogue()[name]
    except KeyError:
        raise QueryError(f"no query {name!r}; `tierwise query --list` shows them") from None


def _convert(p: Param, raw: str) -> object:
    if raw.strip().lower() in ("", "null", "none"):
        return p.check(None, raw)
    if is_time(p):
        try:
            instant = parse_instant_ns(raw)
        except ValueError as e:
            raise QueryError(f"parameter {p.name!r} expects int Unix nanoseconds or a time: {e}") from None
        return p.check(instant, raw)
    try:
        value = p.type(raw)
    except ValueError:
        raise QueryError(f"parameter {p.name!r} expects {p.type.__name__}, got {raw!r}; allowed: {p.allowed()}") from None
    return p.check(value, raw)


def parse_params(query: Query, pairs: Sequence[str]) -> dict[str, object]:
    """`key=value` strings to typed values, each checked against what its parameter allows (empty or `null` = no
    filter, where the parameter has one); unknown keys are refused."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise QueryError(f"parameter {pair!r} is not key=value")
        out[key.strip()] = _convert(query.param(key.strip()), raw)
    return out


def _values(query: Query, params: Mapping[str, object] | None) -> dict[str, object]:
    """Every parameter of `query`: the given ones (unknown names and disallowed values raise), the rest at their
    defaults."""
    given = dict(params or {})
    for key, value in given.items():
        query.param(key).check(value)
    return {p.name: given[p.name] if p.name in given else p.resolved_default() for p in query.params}


def _source(query: Query, values: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """(the SQL query, its parameters) whose rows polars job `query` derives from, with its own parameters `values`."""
    if query.source is None or query.derive is None:
        raise QueryError(f"query {query.name!r} has neither SQL nor a polars job")
    source = get(query.source)
    return query.source, {p.name: values[p.name] if p.name in values else p.resolved_default() for p in source.params}


def source_call(name: str, params: Mapping[str, object] | None = None) -> tuple[str, dict[str, object]] | None:
    """(the SQL query, its parameters) whose rows polars job `name` derives from with `params`; None for SQL queries.
    Jobs over the same rows (critical_path_shares, slow_path) name the same call, so a cache can fetch it once."""
    query = get(name)
    return None if query.sql is not None else _source(query, _values(query, params))


def derive(name: str, rows: pl.DataFrame, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    """Rows of polars job `name` with `params`, from the rows of its source_call."""
    query = get(name)
    if query.derive is None:
        raise QueryError(f"query {name!r} is not a polars job")
    return query.derive(rows.lazy(), _values(query, params)).collect()


def types(query: Query) -> dict[str, ParamType]:
    """The declared type of each parameter of `query`: what an engine binds its values as."""
    return {p.name: p.type for p in query.params}


def sql_types(sql_name: str) -> dict[str, ParamType]:
    """The declared parameter types of queries/<sql_name>.sql, from the query in the catalogue that runs it."""
    declared = next((q for q in _catalogue().values() if q.sql == sql_name), None)
    if declared is None:
        raise QueryError(f"queries/{sql_name}.sql is not in the registry: declare it and its parameters")
    return types(declared)


def run(engine: Engine, name: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    """Rows of query `name` with `params` (missing ones take their defaults) on an engine."""
    query = get(name)
    values = _values(query, params)
    if query.sql is not None:
        return engine.fetch(query.sql, values, types(query))
    source, source_values = _source(query, values)
    return derive(name, engine.fetch(source, source_values, types(get(source))), values)


def fetch(engine: Engine, sql_name: str, params: Mapping[str, object]) -> pl.DataFrame:
    """Rows of queries/<sql_name>.sql with `params` as given (not checked, no defaults: missing ones are NULL), typed
    as the catalogue declares them: the SQL alone, for tests and benchmarks."""
    return engine.fetch(sql_name, params, sql_types(sql_name))


def render(frame: pl.DataFrame, fmt: str) -> str:
    """Rows as JSON (a list of objects) or CSV; tables are drawn by the CLI."""
    if fmt == "json":
        return frame.write_json()
    if fmt == "csv":
        return frame.write_csv()
    raise QueryError(f"unknown format {fmt!r}")
