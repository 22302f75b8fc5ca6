"""Trace search, the Jaeger/Tempo habit: filters in words, read into queries/trace_search.sql's parameters.

One definition for `tierwise traces` and the dashboard's Trace search page: both build a TraceFilter (from flags or
from the URL); the CLI calls `search`, the page runs the registered query through its cache; both shape the rows with
`result`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
import polars as pl

from queries import registry
from queries.registry_traces import MAX_LIMIT, SLACK_NS

__all__ = ["COLUMNS", "MAX_LIMIT", "PRESETS", "SORTS", "STATUSES", "Condition", "TraceFilter", "checked", "parse_condition",
           "result", "search", "window"]
from queries.timeparse import parse_instant_ns
from store.contract import TIERS, UNKNOWN_TIER

if TYPE_CHECKING:
    from queries.engines.engine import Engine

OPS = ("!=", ">=", "<=", "=", ">", "<")  # longest first, so `a>=1` is not read as `a>` `=1`
SORTS = ("recent", "slowest")
STATUSES = ("error", "ok")
PRESETS = ("15m", "1h", "6h", "24h", "7d", "30d")  # the windows a time picker offers, ending now
COLUMNS = ("trace_id", "start", "duration_ms", "root_service", "root_operation", "span_count", "tiers", "error_count")
_DURATION = re.compile(r"([0-9]+)\s*(m|h|d)", re.ASCII)


@dataclass(frozen=True)
class Condition:
    """`key op value` on a span attribute (else its resource's): = and != compare text, the others numbers."""

    key: str
    op: str
    value: str

    @property
    def text(self) -> str:
        return f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True)
class TraceFilter:
    """A trace search. Span conditions hold on one span of the trace; status, duration and time on the trace."""

    service: str | None = None
    operation: str | None = None
    tier: str | None = None
    site: str | None = None
    workload: str | None = None
    where: tuple[Condition, ...] = field(default_factory=tuple)
    status: str | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    sort: str = "recent"
    limit: int = 20

    def params(self) -> dict[str, object]:
        return {"service": self.service, "operation": self.operation, "tier": self.tier, "site": self.site,
                "workload": self.workload, "status": self.status, "min_ms": self.min_ms, "max_ms": self.max_ms,
                "start_ns": self.start_ns, "end_ns": self.end_ns, "sort": self.sort, "limit_count": self.limit,
                "slack_ns": SLACK_NS,
                "where": orjson.dumps([{"k": c.key, "op": c.op, "v": c.value}
                                       for c in self.where]).decode() if self.where else None}


def parse_condition(text: str) -> Condition:
    """`key=value`, `key!=value`, `key>n`, `key>=n`, `key<n` or `key<=n`; ValueError says which form was expected."""
    for op in OPS:
        key, sep, value = text.partition(op)
        if sep and key.strip() and not any(o in key for o in ("=", ">", "<", "!")):
            value = value.strip()
            if op not in ("=", "!=") and _number(value) is None:
                raise ValueError(f"{text!r}: {op} compares numbers, and {value!r} is not one")
            return Condition(key.strip(), op, value)
    raise ValueError(f"{text!r} is not a condition: use key=value, key!=value, key>n, key>=n, key<n or key<=n")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def window(last: str | None, start: str | None, end: str | None, now_ns: int | None = None) -> tuple[int | None, int | None]:
    """The time window from a preset (`1h`, `90m`, `7d`: ending now) or exact instants (UTC date or ISO-8601)."""
    if last is not None:
        if start is not None or end is not None:
            raise ValueError("give either a preset (last) or --from/--to, not both")
        m = _DURATION.fullmatch(last.strip())
        if m is None:
            raise ValueError(f"{last!r} is not a duration such as 15m, 1h, 6h, 24h or 7d")
        seconds = int(m.group(1)) * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]
        now = now_ns if now_ns is not None else int(datetime.now(UTC).timestamp() * 10**9)
        return now - seconds * 10**9, now + 1
    lo = parse_instant_ns(start) if start else None
    hi = parse_instant_ns(end) if end else None
    if lo is not None and hi is not None and hi <= lo:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    return lo, hi


def checked(f: TraceFilter) -> TraceFilter:
    """The filter, or ValueError naming the field that cannot be searched for."""
    if f.tier is not None and f.tier not in (*TIERS, "unknown"):
        raise ValueError(f"tier {f.tier!r} is not one of {', '.join((*TIERS, 'unknown'))}")
    if f.status is not None and f.status not in STATUSES:
        raise ValueError(f"status {f.status!r} is not one of {', '.join(STATUSES)}")
    if f.sort not in SORTS:
        raise ValueError(f"sort {f.sort!r} is not one of {', '.join(SORTS)}")
    if not 1 <= f.limit <= MAX_LIMIT:
        raise ValueError(f"limit {f.limit} is not between 1 and {MAX_LIMIT}")
    if f.min_ms is not None and f.max_ms is not None and f.max_ms < f.min_ms:
        raise ValueError(f"the longest duration ({f.max_ms} ms) is below the shortest ({f.min_ms} ms)")
    return replace(f, service=f.service or None, operation=f.operation or None, site=f.site or None,
                   workload=f.workload or None)


def search(engine: Engine, f: TraceFilter) -> pl.DataFrame:
    """The matching traces (COLUMNS), most recent or slowest first; `start` is a UTC datetime."""
    return result(registry.fetch(engine, "trace_search", checked(f).params()))


def result(rows: pl.DataFrame) -> pl.DataFrame:
    """trace_search's rows as the trace list (COLUMNS): `start` a UTC datetime, `tiers` the names of the tiers crossed."""
    names = pl.Series([*TIERS, UNKNOWN_TIER])  # tier_rank 1..n, then n + 1: the contract knows no other tier
    return rows.with_columns(
        pl.from_epoch(pl.col("start_ns"), time_unit="ns").dt.replace_time_zone("UTC").alias("start"),
        pl.col("tier_ranks").list.eval(pl.element().cast(pl.Int64).clip(1, len(names)) - 1)
        .list.eval(pl.lit(names).gather(pl.element())).alias("tiers")).select(COLUMNS)
