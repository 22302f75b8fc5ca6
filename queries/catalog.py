"""The catalogue's records: a query and its typed, checked parameters, and the parameters many queries share (a leaf)."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from store.contract import TIERS, UNKNOWN_TIER

ParamType = type[int] | type[float] | type[str]
Derive = Callable[[pl.LazyFrame, Mapping[str, object]], pl.LazyFrame]
INT64 = (-(2**63), 2**63 - 1)  # every int parameter binds as BIGINT
TIER_NAMES = (*TIERS, UNKNOWN_TIER)


class QueryError(ValueError):
    """A query or parameter that does not exist or does not parse."""


@dataclass(frozen=True)
class Shape:
    """The form a text parameter must have: a pattern its whole value matches, and that form in words."""

    pattern: re.Pattern[str]
    words: str


@dataclass(frozen=True)
class Param:
    """One `$named` parameter: its type, default (None = no filter) and the values it allows, checked before SQL runs:
    `choices` or `shape` for text, inclusive `low`..`high` for numbers (ints within BIGINT, floats finite)."""

    name: str
    type: ParamType
    help: str
    default: object = None  # or a zero-argument callable returning it
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    nullable: bool = True  # whether NULL (`name=` or `name=null`) means something: no filter, all, none
    shape: Shape | None = None

    def resolved_default(self) -> object:
        """The default value; a callable default (e.g. policy read from tierwise.toml) is asked each time."""
        return self.default() if callable(self.default) else self.default

    def bounds(self) -> tuple[float, float]:
        """The inclusive range of a number parameter."""
        if self.type is int:
            return (INT64[0] if self.low is None else int(self.low)), (INT64[1] if self.high is None else int(self.high))
        return (-math.inf if self.low is None else self.low), (math.inf if self.high is None else self.high)

    def allowed(self) -> str:
        """The values this parameter takes, in words."""
        lo, hi = self.bounds()
        if self.choices:
            text = f"one of {', '.join(self.choices)}"
        elif self.shape is not None:
            text = self.shape.words
        elif self.type is str:
            text = "any text"
        elif is_time(self):
            text = "Unix nanoseconds, a date (YYYY-MM-DD) or an ISO-8601 timestamp"
        elif self.type is int:
            text = f"a whole number from {int(lo)} to {int(hi)}"
        elif math.isinf(hi):
            text = "a finite number" + ("" if math.isinf(lo) else f", at least {lo:g}")
        else:
            text = f"a finite number from {lo:g} to {hi:g}"
        return text + (", or null" if self.nullable else "")

    def check(self, value: object, raw: str | None = None) -> object:
        """`value` when this parameter allows it, else QueryError naming the parameter, the value (as given, `raw`)
        and what is allowed."""
        shown = repr(raw if raw is not None else value)
        if value is None:
            if self.nullable:
                return None
            raise QueryError(f"parameter {self.name!r} must be {self.allowed()}, got {shown} (leave it out for the "
                             f"default, {self.resolved_default()!r})")
        lo, hi = self.bounds()
        if self.type is str:
            ok = isinstance(value, str) and (not self.choices or value in self.choices) and (
                self.shape is None or self.shape.pattern.fullmatch(value) is not None)
        elif self.type is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and lo <= int(value) <= hi
        else:
            ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
                  and lo <= float(value) <= hi)
        if not ok:
            raise QueryError(f"parameter {self.name!r} must be {self.allowed()}, got {shown}")
        return value


@dataclass(frozen=True)
class Query:
    """A runnable query: a SQL file, or a polars job (`derive`) over the rows of SQL query `source`."""

    name: str
    description: str
    params: tuple[Param, ...]
    units: tuple[tuple[str, str], ...] = ()
    sql: str | None = None
    source: str | None = None
    derive: Derive | None = field(default=None, compare=False)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryError(f"query {self.name!r} has no parameter {name!r} (known: {known})")


def setting(name: str, kind: ParamType, meaning: str, default: float, low: float, high: float | None = None) -> Param:
    """A tuning number with a default and an inclusive range; NULL would mean nothing for it, so it is refused."""
    return Param(name, kind, meaning, default, low=low, high=high, nullable=False)


TIER = Param("tier", str, "only this tier", choices=TIER_NAMES)
SITE = Param("site", str, "only this site")
WORKLOAD = Param("workload", str, "only this workload")
START = Param("start_ns", int, "from this time (inclusive)")
END = Param("end_ns", int, "until this time (exclusive)")
BUCKETS = ("minute", "hour", "day", "week", "month")
BUCKET = Param("bucket", str, "time bucket (UTC)", "hour", BUCKETS, nullable=False)
BAND = setting("band", float, "percentile band around p50 and p95 whose traces are averaged", 0.05, 0.0, 0.5)
TRACES_PER_BAND = Param("traces_per_band", int, "at most this many traces per workload and band, lowest "
                        "md5(trace_id) first (NULL = all; docs/analysis.md)", 200, low=1, high=1_000_000_000)


def workload_class(default: str, meaning: str) -> Param:
    """`workload_class`: interactive, batch or all (NULL = the SQL's own default, interactive)."""
    return Param("workload_class", str, meaning, default, ("interactive", "batch", "all"))


LATENCY_UNITS = (("error_rate", "fraction 0-1"), ("p50_ms", "ms"), ("p95_ms", "ms"), ("p99_ms", "ms"),
                 ("mean_ms", "ms"))
HOP_UNITS = (("p50_ms", "ms, client minus server duration"), ("p95_ms", "ms"), ("mean_ms", "ms"),
             ("request_bytes", "bytes"), ("response_bytes", "bytes"))


def is_time(p: Param) -> bool:
    """Whether `p` is an instant (an int named `*_ns`), which takes a date or ISO-8601 timestamp as well as Unix ns."""
    return p.type is int and p.name.endswith("_ns")
