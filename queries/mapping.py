"""Proposed mapping rules for the largest unplaced groups: what `tierwise map suggest` prints and the Mapping view shows.

A proposal is a starting point the user reviews: telemetry with no cloud attributes is proposed as `edge` (a cluster,
node or host outside any cloud detector is on-premises or an edge site), named after what identifies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from queries import registry
from store.map_rules import Rule, parse

if TYPE_CHECKING:
    import polars as pl

    from queries.engines.engine import Engine

# The attribute a span group is known by, with the word its proposed rule is named with and whether it names a site.
KNOWN_BY = {"k8s.cluster.name": ("cluster", True), "k8s.node.name": ("node", True),
            "cloud.availability_zone": ("zone", True), "cloud.region": ("region", True),
            "cloud.platform": ("platform", False), "host.name": ("host", True), "service.name": ("service", False)}


@dataclass(frozen=True)
class Suggestion:
    """One unplaced group, its size (spans, or money in `unit`) and the rule that would place it."""

    kind: str        # "telemetry" ([[map]]) or "costs" ([[cost_map]])
    group: str       # what the group is, in words
    size: float
    unit: str        # "spans" or the billing currency
    rule: Rule

    @property
    def toml(self) -> str:
        return self.rule.toml("map" if self.kind == "telemetry" else "cost_map")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "group": self.group, "size": self.size, "unit": self.unit,
                "rule": {"name": self.rule.name, "when": {c.key: c.pattern for c in self.rule.when},
                         "set": dict(self.rule.sets)}, "toml": self.toml}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "workload"


def _span_rule(attribute: str, value: str, has_cloud: bool) -> Rule:
    word, is_site = KNOWN_BY[attribute]
    sets = {"tier": "hyperscale" if has_cloud else "edge", **({"site": value} if is_site else {})}
    return parse([{"name": f"{value} {word}", "when": {attribute: {"exact": value}}, "set": sets}], "map")[0]


def _cost_rule(provider: str | None, account: str | None, service: str | None, resource: str | None = None) -> Rule:
    when = {k: {"exact": v} for k, v in (("ProviderName", provider), ("SubAccountId", account),
                                          ("ServiceName", service), ("ResourceId", resource)) if v}
    name = " in ".join(v for v in (service, account or provider) if v) or "unallocated"
    return parse([{"name": name, "when": when, "set": {"workload": _slug(service or account or provider or "")}}],
                 "cost_map")[0]


def suggest(engine: Engine, limit: int = 20) -> list[Suggestion]:
    """The largest groups of unplaced spans, then of unallocated money (per currency), each with a proposed rule."""
    return from_rows(registry.run(engine, "unmapped_span_groups", {"limit": limit}),
                     registry.run(engine, "unallocated_cost_groups", {"limit": limit}))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def from_rows(span_groups: pl.DataFrame, cost_groups: pl.DataFrame) -> list[Suggestion]:
    """suggest() from rows of unmapped_span_groups and unallocated_cost_groups already read (the dashboard's cached
    ones); a group with nothing to match on (no attribute; no provider, account or service) gets no rule."""
    out: list[Suggestion] = []
    for row in span_groups.iter_rows(named=True):
        if row["attribute"] is None or row["value"] is None:
            continue
        group = f"{row['attribute']} = {row['value']} ({_plural(row['services'], 'service')})"
        out.append(Suggestion("telemetry", group, float(row["spans"]), "spans",
                              _span_rule(row["attribute"], row["value"], row["has_cloud"])))
    seen: set[tuple[object, ...]] = set()
    for row in cost_groups.iter_rows(named=True):
        if not (row["provider"] or row["account"] or row["service"]):
            continue
        # a rule on provider, account and service alone would take over the money of theirs already linked: then
        # only a rule on the group's one resource is safe, and a group of several resources gets none
        resource = row["resource"] if row["linked_rows"] else None
        if row["linked_rows"] and resource is None:
            continue
        rule = _cost_rule(row["provider"], row["account"], row["service"], resource)
        if rule.when in seen:  # the same group in another currency: one rule places both
            continue
        seen.add(rule.when)
        group = " / ".join(str(v) for v in (row["provider"], row["account"], row["service"], resource) if v)
        out.append(Suggestion("costs", f"{group} ({_plural(row['rows'], 'row')})", float(row["effective_cost"]),
                              row["currency"], rule))
    return out
