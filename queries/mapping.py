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


def _cost_rule(provider: str | None, account: str | None, service: str | None) -> Rule:
    when = {k: {"exact": v} for k, v in (("ProviderName", provider), ("SubAccountId", account),
                                          ("ServiceName", service)) if v}
    name = " in ".join(v for v in (service, account or provider) if v) or "unallocated"
    return parse([{"name": name, "when": when, "set": {"workload": _slug(service or account or provider or "")}}],
                 "cost_map")[0]


def suggest(engine: Engine, limit: int = 20) -> list[Suggestion]:
    """The largest groups of unplaced spans, then of unallocated money (per currency), each with a proposed rule."""
    out: list[Suggestion] = []
    for row in registry.run(engine, "unmapped_span_groups", {"limit": limit}).iter_rows(named=True):
        if row["attribute"] is None or row["value"] is None:
            continue
        out.append(Suggestion("telemetry", f"{row['attribute']} = {row['value']} ({row['services']} service{'' if row['services'] == 1 else 's'})",
                              float(row["spans"]), "spans", _span_rule(row["attribute"], row["value"], row["has_cloud"])))
    for row in registry.run(engine, "unallocated_cost_groups", {"limit": limit}).iter_rows(named=True):
        if not (row["provider"] or row["account"] or row["service"]):
            continue
        group = " / ".join(str(v) for v in (row["provider"], row["account"], row["service"]) if v)
        out.append(Suggestion("costs", f"{group} ({row['rows']} rows)", float(row["effective_cost"]), row["currency"],
                              _cost_rule(row["provider"], row["account"], row["service"])))
    return out
