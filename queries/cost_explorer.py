"""The cost explorer's state: range (a preset or exact days), grain, group-by and filters; its URL form (pure, both
ways); the presets resolved against the ledger's latest charge; named saved views (`[[view]]` in tierwise.toml).

Presets are relative to the last day the ledger covers, not to the wall clock: a ledger that stops on Dec 6 has Dec
1–6 as its month to date, whatever today is.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from queries.semantic import metric as metrics
from queries.semantic import model
from queries.semantic.model import ModelError
from store import config_tables

RANGES = {"mtd": "Month to date", "last_month": "Last month", "last_3_months": "Last 3 months",
          "all": "Whole ledger", "custom": "Custom"}
GRAINS = ("day", "week", "month")
DIMENSIONS = ("tier", "provider", "cloud_service", "service_category", "account", "site", "workload",
              "charge_category")
FILTER_PREFIX = "w."  # URL key of a filter: w.<dimension>=<value>, e.g. w.cloud_service=Amazon SageMaker
KEYS = ("range", "from", "to", "grain", "by")
MAX_CHARS = 2000


class ViewError(ValueError):
    """A `[[view]]` that cannot be read, named by position and name, with the field at fault."""


@dataclass(frozen=True)
class Explore:
    """What the explorer shows. `start`/`end` (inclusive days) only count when range is `custom`."""

    range: str = "last_3_months"
    start: date | None = None
    end: date | None = None
    grain: str = "day"
    by: str = "tier"
    where: tuple[tuple[str, str], ...] = field(default=())

    def to_params(self) -> dict[str, str]:
        """The URL form: only what differs from the defaults, filters as w.<dimension>=<value>."""
        out: dict[str, str] = {}
        base = Explore()
        if self.range != base.range:
            out["range"] = self.range
        if self.range == "custom":
            out |= {k: d.isoformat() for k, d in (("from", self.start), ("to", self.end)) if d is not None}
        if self.grain != base.grain:
            out["grain"] = self.grain
        if self.by != base.by:
            out["by"] = self.by
        return out | {FILTER_PREFIX + k: v for k, v in self.where}



def cost_dimension(name: str) -> bool:
    """Whether `name` is a dimension money can be grouped or filtered by: the list above or tag:<key>."""
    if name in DIMENSIONS:
        return True
    if not name.startswith(model.TAG_PREFIX):
        return False
    try:
        model.dimension(name)
    except ModelError:
        return False
    return True


def _text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, str) or len(value) > MAX_CHARS:
        return None
    return value.strip() or None


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def parse(params: Mapping[str, Any]) -> Explore:
    """The explorer from URL parameters; anything malformed falls back to its default (never an error)."""
    base = Explore()
    chosen = _text(params, "range")
    start, end = _day(_text(params, "from")), _day(_text(params, "to"))
    if start and end and start > end:
        start, end = end, start
    rng = chosen if chosen in RANGES else base.range
    if rng == "custom" and not (start or end):
        rng = base.range
    grain = _text(params, "grain")
    by = _text(params, "by")
    where = []
    for key in sorted(params):
        dim, value = key.removeprefix(FILTER_PREFIX), _text(params, key)
        if key.startswith(FILTER_PREFIX) and value is not None and cost_dimension(dim):
            where.append((dim, value))
    return Explore(rng, start if rng == "custom" else None, end if rng == "custom" else None,
                   grain if grain in GRAINS else base.grain, by if by and cost_dimension(by) else base.by,
                   tuple(where))


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def days(e: Explore, first: date | None, last: date | None) -> tuple[date | None, date | None]:
    """The explorer's inclusive days for the ledger covering [first, last]: presets count back from `last`.
    month to date: the 1st of last's month to last; last month: the whole calendar month before; last 3 months: the
    two whole months before last's month and its days to date; custom: the days given (an open end: the ledger's)."""
    if e.range == "custom":
        return e.start or first, e.end or last
    if e.range == "all" or last is None:
        return first, last
    if e.range == "mtd":
        return _month_start(last), last
    if e.range == "last_month":
        return _month_start(last, 1), _month_start(last) - timedelta(days=1)
    return _month_start(last, 2), last


def tag_keys(rows: pl.LazyFrame) -> pl.LazyFrame:
    """The billing tag keys of a ledger (focus_export rows: Tags as JSON text), each with the charges carrying it."""
    texts = rows.select("Tags").collect()["Tags"].drop_nulls().to_list()
    counts: dict[str, int] = {}
    for text in texts:
        try:
            tags = json.loads(text)
        except ValueError:
            continue
        for key in tags if isinstance(tags, dict) else ():
            counts[str(key)] = counts.get(str(key), 0) + 1
    frame = pl.DataFrame({"tag_key": list(counts), "charges": list(counts.values())},
                         schema={"tag_key": pl.String, "charges": pl.Int64})
    return frame.sort("tag_key").lazy()


@dataclass(frozen=True)
class SavedView:
    """A `[[view]]`: a name and the explorer it opens."""

    name: str
    explore: Explore


VIEW_FIELDS = ("name", "range", "from", "to", "grain", "by", "where")


def _check_dimension(name: str, role: str, where_: str) -> None:
    if not cost_dimension(name):
        raise ViewError(f"{where_}: {role} {name!r} is not a cost dimension (use {', '.join(DIMENSIONS)} or "
                        "tag:<key>)")
    try:
        metrics.explain(metrics.Request(("effective_cost",), (name,)))
    except ModelError as e:
        raise ViewError(f"{where_}: {role} {name!r}: {e}") from None


def parse_views(raw: Any, config: str = "tierwise.toml") -> tuple[SavedView, ...]:
    """The `[[view]]` tables; ViewError names the view (position and name) and the field at fault."""
    out: list[SavedView] = []
    for where_, entry in config_tables.entries(raw, "view", VIEW_FIELDS, config, ViewError):
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or name.strip() in {v.name for v in out}:
            raise ViewError(f"{where_}: `name` must be a non-empty string no other view has")
        rng = entry.get("range", "custom" if "from" in entry or "to" in entry else Explore().range)
        if rng not in RANGES:
            raise ViewError(f"{where_}: `range` must be one of {', '.join(RANGES)}")
        bounds = {}
        for key in ("from", "to"):
            value = entry.get(key)
            if value is not None and not isinstance(value, date):
                value = _day(value) if isinstance(value, str) else None
                if value is None:
                    raise ViewError(f"{where_}: `{key}` must be a date such as 2026-11-01")
            bounds[key] = value
        if rng == "custom" and not (bounds["from"] or bounds["to"]):
            raise ViewError(f"{where_}: a custom `range` needs `from` or `to`")
        if rng != "custom" and (bounds["from"] or bounds["to"]):
            raise ViewError(f"{where_}: `from` and `to` go with range = \"custom\" only")
        grain = entry.get("grain", "day")
        if grain not in GRAINS:
            raise ViewError(f"{where_}: `grain` must be one of {', '.join(GRAINS)}")
        by = entry.get("by", Explore().by)
        if not isinstance(by, str):
            raise ViewError(f"{where_}: `by` must be a dimension name")
        _check_dimension(by, "`by`", where_)
        scope = config_tables.scope(entry.get("where"), where_, ViewError)
        for dim, _ in scope:
            _check_dimension(dim, "`where` key", where_)
        start, end = bounds["from"], bounds["to"]
        if start and end and start > end:
            raise ViewError(f"{where_}: `from` must not be after `to`")
        out.append(SavedView(name.strip(), Explore(rng, start, end, grain, by, tuple(sorted(scope)))))
    return tuple(out)


def configured_views(config: Path | None) -> tuple[SavedView, ...]:
    """The saved views of a tierwise.toml (none without one)."""
    if config is None or not config.is_file():
        return ()
    return parse_views(tomllib.loads(config.read_text(encoding="utf-8")).get("view"), str(config))
