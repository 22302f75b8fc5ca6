"""The dashboard's global filters: typed, validated against the store's values, and kept in the URL query string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from queries.timeparse import parse_instant_ns

TRACE_ID = re.compile(r"[0-9a-f]{32}")
MAX_PARAM_CHARS = 200  # longer query-string values are never a tier, site, workload or date: ignored unread
# The time presets: the last this-many seconds of the store's data (ending at its last span, not at the wall clock).
PRESETS = {"15m": 15 * 60, "1h": 3600, "6h": 6 * 3600, "24h": 86_400, "7d": 7 * 86_400}
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Dimensions:
    """The values the filters may take in this store: tiers, sites and workloads seen, and the first and last day."""

    tiers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    last_ns: int | None = None  # the last span's start (Unix ns): where the presets end; None until asked for


@dataclass(frozen=True)
class Filters:
    """What every page is narrowed to; None means no filter. `end` is inclusive (a whole UTC day). A preset (`last`,
    resolved against `anchor_ns`, the store's last data) or exact instants (`from_ns` inclusive, `to_ns` exclusive)
    take precedence over the days; then `start`/`end` are the UTC days the window touches, for daily views."""

    start: date | None = None
    end: date | None = None
    tier: str | None = None
    site: str | None = None
    workload: str | None = None
    trace_id: str | None = None
    last: str | None = None
    from_ns: int | None = None
    to_ns: int | None = None
    anchor_ns: int | None = None

    @property
    def start_ns(self) -> int | None:
        if self.last in PRESETS:
            return None if self.anchor_ns is None else self.anchor_ns + 1 - PRESETS[self.last] * 10**9
        if self.from_ns is not None or self.to_ns is not None:
            return self.from_ns
        return _day_ns(self.start)

    @property
    def end_ns(self) -> int | None:
        """Exclusive end: just after the store's last span for a preset, else the exact end, else midnight after the
        last day."""
        if self.last in PRESETS:
            return None if self.anchor_ns is None else self.anchor_ns + 1
        if self.from_ns is not None or self.to_ns is not None:
            return self.to_ns
        return _day_ns(self.end + timedelta(days=1)) if self.end else None

    def span_s(self) -> float | None:
        """How long the window is, in seconds (None when open-ended)."""
        lo, hi = self.start_ns, self.end_ns
        return None if lo is None or hi is None else (hi - lo) / 1e9

    def describe(self) -> str:
        """The window in words, UTC."""
        lo, hi = self.start_ns, self.end_ns
        if self.last in PRESETS and lo is not None and hi is not None:
            return f"last {self.last} of data: {instant_text(lo)[:16]} to {instant_text(hi)[:16]} UTC"
        if lo is None and hi is None:
            return "all data"
        return f"{instant_text(lo) if lo is not None else 'the first data'} to " \
               f"{instant_text(hi) if hi is not None else 'the last data'} UTC"

    def window(self) -> dict[str, object]:
        """The `start_ns`/`end_ns` parameters every query takes."""
        return {"start_ns": self.start_ns, "end_ns": self.end_ns}

    def scope(self) -> dict[str, object]:
        """Window plus tier, site and workload, for queries that take all four."""
        return {**self.window(), "tier": self.tier, "site": self.site, "workload": self.workload}

    def where(self) -> tuple[tuple[str, str], ...]:
        """Tier, site and workload as the semantic model's filters (queries/semantic): they apply to every measure."""
        return tuple((k, v) for k, v in (("tier", self.tier), ("site", self.site), ("workload", self.workload)) if v)

    def to_query_params(self) -> dict[str, str]:
        """The URL form: only set filters; a preset as `last`, exact instants as ISO-8601 UTC `from`/`to`, else dates as
        YYYY-MM-DD `start`/`end`."""
        days = self.last is None and self.from_ns is None and self.to_ns is None
        raw = {"last": self.last,
               "from": instant_text(self.from_ns, "T", "Z") if self.from_ns is not None and not self.last else None,
               "to": instant_text(self.to_ns, "T", "Z") if self.to_ns is not None and not self.last else None,
               "start": self.start.isoformat() if self.start and days else None,
               "end": self.end.isoformat() if self.end and days else None,
               "tier": self.tier, "site": self.site, "workload": self.workload, "trace_id": self.trace_id}
        return {k: v for k, v in raw.items() if v is not None}

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]


def instant_text(ns: int, sep: str = " ", zone: str = "") -> str:
    """Unix ns as UTC `YYYY-MM-DD HH:MM:SS` (fraction only when not whole seconds); `T` and `Z` for the URL form."""
    seconds, frac = divmod(ns, 10**9)
    text = datetime.fromtimestamp(seconds, UTC).strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    return text + (f".{frac:09d}".rstrip("0") if frac else "") + zone


def covering_days(lo: int | None, hi: int | None) -> tuple[date | None, date | None]:
    """The UTC days a window [lo, hi) touches."""
    def day(ns: int) -> date:
        return datetime.fromtimestamp(ns // 10**9, UTC).date()
    return (day(lo) if lo is not None else None), (day(hi - 1) if hi is not None else None)


def windowed(f: Filters) -> Filters:
    """`f` with `start`/`end` set to the days its preset or exact window touches (unchanged for whole days)."""
    if f.last is None and f.from_ns is None and f.to_ns is None:
        return f
    start, end = covering_days(f.start_ns, f.end_ns)
    return replace(f, start=start, end=end)


def _instant(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return parse_instant_ns(raw)
    except ValueError:
        return None


def _day_ns(day: date | None) -> int | None:
    if day is None:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000_000


def param_text(params: Mapping[str, str | list[str]], key: str, limit: int = MAX_PARAM_CHARS) -> str | None:
    """One URL value of `key` (the last, when repeated), stripped; None when absent, empty or longer than `limit`."""
    value = params.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or len(value) > limit:
        return None
    return value.strip() or None


def _day(raw: str | None, dims: Dimensions) -> date | None:
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    if dims.first_day and dims.last_day:
        day = min(max(day, dims.first_day), dims.last_day)
    return day


def _one_of(raw: str | None, allowed: tuple[str, ...]) -> str | None:
    return raw if raw is not None and raw in allowed else None


def parse(params: Mapping[str, str | list[str]], dims: Dimensions) -> Filters:
    """Filters from URL query parameters; any value the store does not hold (or that is malformed) is dropped."""
    start, end = _day(param_text(params, "start"), dims), _day(param_text(params, "end"), dims)
    if start and end and start > end:
        start, end = end, start
    trace = param_text(params, "trace_id")
    last = _one_of(param_text(params, "last"), tuple(PRESETS))
    lo, hi = (None, None) if last else (_instant(param_text(params, "from")), _instant(param_text(params, "to")))
    if lo is not None and hi is not None and lo >= hi:
        lo = hi = None
    f = Filters(start=start, end=end,
                tier=_one_of(param_text(params, "tier"), dims.tiers),
                site=_one_of(param_text(params, "site"), dims.sites),
                workload=_one_of(param_text(params, "workload"), dims.workloads),
                trace_id=trace.lower() if trace and TRACE_ID.fullmatch(trace.lower()) else None,
                last=last, from_ns=lo, to_ns=hi, anchor_ns=dims.last_ns if last else None)
    return windowed(f)
