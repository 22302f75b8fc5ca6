"""Where a span or metric point runs: the built-in derivation of its placement columns, then the first matching rule.

One definition for both moments a placement is decided: a batch being ingested (ingest.remap.batches) and every
row already stored (`tierwise map apply`, ingest.remap.stored), so applying rules later gives what ingesting with
them would have given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ingest.otlp.rows import resource_context
from store import contract as c
from store.map_rules import Rule, first_match
from store.settings import Settings

# Span attributes that override the resource's placement (as ingest.otlp.rows.SpanColumns.add promotes them).
SPAN_DECLARED = (c.ATTR_TIER, c.ATTR_SITE, c.ATTR_WORKLOAD, c.ATTR_WORKLOAD_TYPE, c.ATTR_DATA_CLASS)


@dataclass(frozen=True)
class Placement:
    """The placement columns of one row (metric points have no workload_type or data_class: None there)."""

    tier: str
    tier_source: str
    site: str | None
    workload: str | None
    workload_type: str | None = None
    data_class: str | None = None


def lookup(resource: Mapping[str, Any], row: Mapping[str, Any]) -> Callable[[str], Any]:
    """A rule key's value: the row's own attribute (span or point), else the resource's."""
    def get(key: str) -> Any:
        value = row.get(key)
        return resource.get(key) if value is None else value
    return get


def decide(rules: Sequence[Rule], resource: Mapping[str, Any], row: Mapping[str, Any]) -> Rule | None:
    """The rule that places a row: the first whose conditions all hold."""
    return first_match(rules, lookup(resource, row)) if rules else None


def overlay(p: Placement, rule: Rule | None, has_class: bool = True) -> Placement:
    """`p` with what the rule sets; the rule's name becomes the tier_source when it sets the tier."""
    if rule is None:
        return p
    tier, dclass = rule.value("tier"), rule.value("data_class")
    return replace(p, tier=tier or p.tier, tier_source=rule.name if tier else p.tier_source,
                   site=rule.value("site") or p.site, workload=rule.value("workload") or p.workload,
                   data_class=(dclass or p.data_class) if has_class else None)


def _text(v: Any) -> str | None:
    return v if type(v) is str and v else None


def builtin_span(resource: dict[str, Any], span: Mapping[str, Any], settings: Settings) -> Placement:
    """A span's placement before rules: its declared tierwise.* attributes, else its resource's."""
    ctx = resource_context(resource, settings)
    tier = c.normalize_tier(span.get(c.ATTR_TIER))
    wtype, dclass = span.get(c.ATTR_WORKLOAD_TYPE), span.get(c.ATTR_DATA_CLASS)
    return Placement(
        tier=tier or ctx.tier, tier_source="declared" if tier else ctx.tier_source,
        site=_text(span.get(c.ATTR_SITE)) or ctx.site, workload=_text(span.get(c.ATTR_WORKLOAD)) or ctx.workload,
        workload_type=(None if wtype is None else c.normalize_enum(wtype, c.WORKLOAD_TYPES)) or ctx.workload_type,
        data_class=(None if dclass is None else c.normalize_enum(dclass, c.DATA_CLASSES)) or ctx.data_class)


def builtin_point(resource: dict[str, Any], settings: Settings) -> Placement:
    """A metric point's placement before rules: its resource's."""
    ctx = resource_context(resource, settings)
    return Placement(ctx.tier, ctx.tier_source, ctx.site, ctx.workload)
