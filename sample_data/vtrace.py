"""Trace building: many traces of one workload at once, spans as column groups (one numpy operation per column)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sample_data.estate import INCIDENTS, RTT_MS, SITES, WORKLOADS, Host
from sample_data.physics import utilization
from sample_data.spans import UNSET, Resource, Resources

F = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Ids = npt.NDArray[np.uint8]
EgressKey = tuple[int, str, str, str, str]  # (day, site, resource id or site, workload, direction)
TIERS = ("device", "edge", "regional", "hyperscale")
_RTT = np.array([[RTT_MS.get((a, b)) or RTT_MS.get((b, a), 1.0) for b in TIERS] for a in TIERS])
SITE_IDS = tuple(SITES) + ("retail-store-31",)


@dataclass(frozen=True)
class Choice:
    """A string attribute that takes one of a few values per row."""

    options: tuple[str, ...]
    idx: Int


Value = str | int | float | bool | np.ndarray | Choice  # ndarray: int64 → int, float64 → double (ms), bool
ColAttrs = tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Event:
    """One span event on every row of a group."""

    t_ns: Int
    name: str
    attrs: ColAttrs


@dataclass(frozen=True)
class SpanGroup:
    """Spans of equal shape (name, kind, scope, attribute keys), one per row; times are true time in ns."""

    w: int
    idx: Int  # trace of each row within its batch
    res: Int
    scope: int
    name: str
    kind: int
    sid: Ids
    parent: Ids | None
    start_ns: Int
    end_ns: Int
    status: Int
    attrs: ColAttrs
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class ResCols:
    """Per-resource lookups the columnar builders need (tier, site, clock skew)."""

    tier: Int
    site: Int
    skew_ns: Int
    provider: B

    @staticmethod
    def of(res: Resources) -> ResCols:
        rows = [_ROWS.get(r) or _row(r) for r in res.items]
        tier, site, skew, provider = zip(*rows, strict=True) if rows else ((), (), (), ())
        return ResCols(np.array(tier, dtype=np.int64), np.array(site, dtype=np.int64),
                       np.array(skew, dtype=np.int64), np.array(provider, dtype=np.bool_))


_ROWS: dict[Resource, tuple[int, int, int, bool]] = {}


def _row(r: Resource) -> tuple[int, int, int, bool]:
    got = _ROWS[r] = (TIERS.index(r.tier), SITE_IDS.index(r.site), r.skew_ns,
                      bool(SITES[r.site].provider) if r.site in SITES else False)
    return got


def incident_mask(name: str, t_h: F, days: int) -> B:
    """incident_active() for an array of hours."""
    inc = INCIDENTS[name]
    start = int(inc.start_frac * days) * 24.0 + (10.0 if inc.hours < 24 else 0.0)
    return (t_h >= start) & (t_h < start + inc.hours)


class Batch:
    """The traces of one workload in one chunk of hours, built column-wise with one seeded generator."""

    def __init__(self, g: np.random.Generator, w: str, t_h: F, t0_ns: int, res: Resources, adj: float, days: int,
                 weekday0: int) -> None:
        self.g, self.w, self.wi, self.t_h, self.res = g, w, list(WORKLOADS).index(w), t_h, res
        self._cols = ResCols.of(res)
        self.n = len(t_h)
        self.t0 = t0_ns + (t_h * 3600e9).astype(np.int64)
        self.tid = self.ids(2 * self.n).reshape(self.n, 16)
        self.failed = np.zeros(self.n, dtype=np.bool_)
        self.groups: list[SpanGroup] = []
        self.egress: dict[EgressKey, float] = {}
        self.adj, self.days, self.weekday0 = adj, days, weekday0
        self.all = np.arange(self.n, dtype=np.int64)

    @property
    def cols(self) -> ResCols:
        """Per-resource lookups, refreshed when builders registered new resources."""
        if len(self._cols.tier) != len(self.res.items):
            self._cols = ResCols.of(self.res)
        return self._cols

    def ids(self, k: int) -> Ids:
        return np.frombuffer(self.g.bytes(8 * k), dtype=np.uint8).reshape(k, 8)

    def u(self, k: int) -> F:
        return self.g.random(k)

    def lognorm(self, median: F | float, sigma: float, k: int) -> F:
        return median * np.exp(sigma * self.g.standard_normal(k))

    def expo(self, mean: F) -> F:
        return -mean * np.log1p(-self.g.random(len(mean)))

    def randint(self, lo: int, hi: int, k: int) -> Int:
        return self.g.integers(lo, hi + 1, k, dtype=np.int64)

    def incident(self, name: str, idx: Int) -> B:
        return incident_mask(name, self.t_h[idx], self.days)

    def util(self, host: Host, idx: Int) -> F:
        """The host's GPU utilization in each row's hour (the load model changes hourly)."""
        hours = self.t_h[idx].astype(np.int64)
        uniq, inv = np.unique(hours, return_inverse=True)
        vals = np.array([utilization(host, WORKLOADS[self.w].diurnal, int(h), self.weekday0, self.days) for h in uniq])
        return vals[inv] if len(uniq) else np.zeros(0)

    def add(self, idx: Int, res: Int | int, scope: int, name: str, kind: int, sid: Ids, parent: Ids | None,
            start_ms: F, end_ms: F, attrs: ColAttrs = (), status: Int | int = UNSET,
            events: tuple[tuple[F, str, ColAttrs], ...] = ()) -> None:
        if not len(idx):
            return
        t0 = self.t0[idx]
        s = t0 + (start_ms * 1e6).astype(np.int64)
        e = np.maximum(s, t0 + (end_ms * 1e6).astype(np.int64))
        k = len(idx)
        evs = tuple(Event(t0 + (t * 1e6).astype(np.int64), n, a) for t, n, a in events)
        self.groups.append(SpanGroup(self.wi, idx, np.broadcast_to(np.asarray(res, dtype=np.int64), (k,)), scope,
                                     name, kind, sid, parent, s, e,
                                     np.broadcast_to(np.asarray(status, dtype=np.int64), (k,)), attrs, evs))


def sub(a: ColAttrs, m: B) -> ColAttrs:
    """The attributes of the rows selected by mask `m`."""
    out: list[tuple[str, Value]] = []
    for k, v in a:
        if isinstance(v, np.ndarray):
            out.append((k, v[m]))
        elif isinstance(v, Choice):
            out.append((k, Choice(v.options, v.idx[m])))
        else:
            out.append((k, v))
    return tuple(out)
