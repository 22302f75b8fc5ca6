"""Runs a metric request: measures by dimensions under filters and a time range, one family query each, joined."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from queries.semantic import model
from queries.semantic.model import GRAINS, Dimension, Measure, ModelError
from queries.semantic.sql import Call, compile_call
from store.contract import TIERS

if TYPE_CHECKING:
    from queries.engines.engine import Engine

TIER_ORDER = (*TIERS, "unknown", "unallocated")
DAY_NS = 86_400 * 10**9
OFFSET = {"minute": "1m", "hour": "1h", "day": "1d", "week": "1w", "month": "1mo"}  # a time bucket's width (polars)


@dataclass(frozen=True)
class Currency:
    """`[currency]` in tierwise.toml: convert ledger currencies into `report` at the user's `rates` (units of report
    per one unit of that currency). Without it every currency stays apart."""

    report: str | None = None
    rates: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Request:
    """What `tierwise metric` and the pages ask: measures, grouping, filters (dimension = value), range and grain."""

    measures: tuple[str, ...]
    by: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()
    from_ns: int | None = None
    to_ns: int | None = None
    grain: str = "day"
    currency: Currency = field(default_factory=Currency)


def currency_config(raw: Mapping[str, Any]) -> Currency:
    """The `[currency]` table of a parsed tierwise.toml: `report = "USD"` and `[currency.rates] CAD = 0.73`."""
    table = raw.get("currency") or {}
    rates = {str(k).upper(): float(v) for k, v in (table.get("rates") or {}).items()}
    report = table.get("report")
    if rates and not report:
        raise ModelError("[currency] rates need `report = \"<ISO code>\"`, the currency they convert into")
    for code, rate in rates.items():
        if not rate > 0:
            raise ModelError(f"[currency.rates] {code} = {rate}: a rate must be above 0")
    return Currency(str(report).upper() if report else None, tuple(sorted(rates.items())))


def configured_currency(config: Path | None) -> Currency:
    """The `[currency]` of the config file tierwise uses (None: no conversion), parsed once per version of the file:
    every page asks for it on every run."""
    if config is None or not config.is_file():
        return Currency()
    return _currency_of(str(config), config.stat().st_mtime_ns)


@cache
def _currency_of(path: str, mtime_ns: int) -> Currency:
    return currency_config(tomllib.loads(Path(path).read_text(encoding="utf-8")))


def _plan(req: Request) -> tuple[tuple[Measure, ...], tuple[Dimension, ...], tuple[tuple[Dimension, str], ...]]:
    if not req.measures:
        raise ModelError("name at least one measure (`tierwise metric --list` shows them)")
    if req.grain not in GRAINS:
        raise ModelError(f"grain {req.grain!r}: use one of {', '.join(GRAINS)}")
    if req.grain == "minute" and "time" in req.by and any(
            "costs" in model.families_of(model.measure(n)) for n in req.measures):
        raise ModelError("money is prorated by the hour at the finest: use --grain hour or coarser for cost measures")
    if req.from_ns is not None and req.to_ns is not None and req.from_ns >= req.to_ns:
        raise ModelError("--from must be before --to (--from is inclusive, --to exclusive)")
    measures = tuple(model.measure(n) for n in dict.fromkeys(req.measures))
    by = tuple(model.dimension(n) for n in dict.fromkeys(req.by))
    where = tuple((model.dimension(k), v) for k, v in req.where)
    model.check_applies(measures, by, "grouped by")
    model.check_applies(measures, tuple(d for d, _ in where), "filtered on")
    return measures, by, where


def _base(measures: Sequence[Measure]) -> list[Measure]:
    """The family measures to compute: the requested ones and the parts of every ratio, once each."""
    out: dict[str, Measure] = {}
    for m in measures:
        if m.per_second is not None:
            part = model.measure(m.per_second)
            out.setdefault(part.name, part)
        elif m.ratio is None:
            out[m.name] = m
        else:
            for part in _base([model.measure(n) for n in m.ratio]):
                out.setdefault(part.name, part)
    return list(out.values())


def explain(req: Request, copies: bool = True) -> list[tuple[str, dict[str, object]]]:
    """The (SQL, parameters) of each family query `req` runs, in order."""
    measures, by, where = _plan(req)
    calls = []
    families = dict.fromkeys(m.family for m in _base(measures))
    for fam in families:
        assert fam is not None
        own = tuple(m for m in _base(measures) if m.family == fam)
        calls.append(compile_call(Call(fam, own, by, where, req.from_ns, req.to_ns, req.grain,
                                       dict(req.currency.rates), req.currency.report, copies)))
    return calls


def run(engine: Engine, req: Request) -> pl.DataFrame:
    """One row per group: the `by` dimensions, `currency` when a measure is money, then the measures asked for. The
    model's SQL is DuckDB's: on another engine, DuckDBOnly (queries/engines/duckdb_engine.py)."""
    measures, by, _ = _plan(req)
    con = engine.duckdb_connection("measures")
    keys = [d.name for d in by]
    copies = bool({m.family for m in _base(measures)} & {"usage", "hops"}) and bool(
        con.execute("SELECT count(*) FROM (SELECT 1 FROM span_dups LIMIT 1)").fetchall()[0][0])
    frames = [con.sql(sql, params=params).pl() for sql, params in explain(req, copies)]
    out = frames[0]
    for frame in frames[1:]:
        on = [k for k in keys if k in frame.columns]
        if not on:
            out = out.join(frame, how="cross")
            continue
        out = out.join(frame, on=on, how="full", coalesce=True, nulls_equal=True)
    for m in measures:
        if m.ratio is not None:
            num, den = (pl.col(n).cast(pl.Float64) for n in m.ratio)
            out = out.with_columns(pl.when(den > 0).then(num * m.scale / den).otherwise(None).alias(m.name))
    if any(m.per_second for m in measures):
        out = _per_second(out, measures, req, _extent(con, req))
    money = any(u.unit == "money" for u in _base(measures)) or any(m.unit == "money" for m in measures)
    cols = [*keys, *(["currency"] if money and "currency" not in keys else []), *(m.name for m in measures)]
    out = out.select(cols)
    return _sorted(out, keys)


def _extent(con: Any, req: Request) -> tuple[int | None, int | None]:
    """The range rates divide by: --from and --to, an open end at the start of the store's first UTC day with spans
    or the end of its last (the whole days the dashboard shows as "the whole store")."""
    lo, hi = req.from_ns, req.to_ns
    if lo is None or hi is None:
        first, last = con.execute("SELECT min(start_ns), max(start_ns) FROM spans").fetchone()
        if lo is None and first is not None:
            lo = first // DAY_NS * DAY_NS
        if hi is None and last is not None:
            hi = (last // DAY_NS + 1) * DAY_NS
    return lo, hi


def _per_second(out: pl.DataFrame, measures: Sequence[Measure], req: Request,
                extent: tuple[int | None, int | None]) -> pl.DataFrame:
    """Each per-second measure: its count ÷ the seconds of the row's time bucket inside the range (with time grouped),
    else ÷ the seconds of the whole range."""
    lo, hi = extent
    if lo is None or hi is None:
        return out.with_columns(pl.lit(None, dtype=pl.Float64).alias(m.name) for m in measures if m.per_second)
    if "time" in req.by and "time" in out.columns:
        start = pl.col("time").dt.epoch("ns")
        end = pl.col("time").dt.offset_by(OFFSET[req.grain]).dt.epoch("ns")
        seconds = (pl.min_horizontal(end, pl.lit(hi)) - pl.max_horizontal(start, pl.lit(lo))).cast(pl.Float64) / 1e9
    else:
        seconds = pl.lit((hi - lo) / 1e9)
    return out.with_columns(pl.when(seconds > 0).then(pl.col(m.per_second).cast(pl.Float64) / seconds)
                            .otherwise(None).alias(m.name) for m in measures if m.per_second)


def _sorted(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    if not frame.height:
        return frame
    order = []
    for k in [*keys, *(["currency"] if "currency" in frame.columns and "currency" not in keys else [])]:
        if k in ("tier", "to_tier"):
            rank = {t: i for i, t in enumerate(TIER_ORDER)}
            order.append(pl.col(k).replace_strict(rank, default=len(rank), return_dtype=pl.Int32))
        order.append(pl.col(k))
    return frame.sort(order, nulls_last=True)


def rows_for_output(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as JSON and CSV give it: time buckets as ISO-8601 UTC text."""
    if "time" in frame.columns and isinstance(frame.schema["time"], pl.Datetime):
        return frame.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return frame
