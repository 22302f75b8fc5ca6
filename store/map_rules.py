"""Mapping rules as data: `[[map]]` (telemetry) and `[[cost_map]]` (ledger) tables of tierwise.toml, parsed and matched.

A rule names itself, lists conditions (`when`, all must hold) and the placement fields it sets (`set`). Rules are
tried in file order and the first whose conditions all hold decides; its name becomes the row's `tier_source`
when it sets the tier. A condition is an exact value, a glob (`*`, `?`, `[...]`), a full-match regex or a CIDR.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from store import config_tables
from store.contract import DATA_CLASSES, TIERS, normalize_tier

TELEMETRY_TARGETS = ("tier", "site", "workload", "data_class")
COST_TARGETS = ("tier", "site", "workload")
# Ledger columns a cost rule may test (besides `tag:<key>`, a key of the row's Tags): who billed, what and where.
COST_KEYS = ("BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "ProviderName",
             "ServiceName", "ServiceCategory", "SkuId", "SkuMeter", "ResourceId", "ResourceName", "ResourceType",
             "RegionId", "AvailabilityZone", "ChargeDescription", "x_CostComponent", "x_SiteId")
TAG_PREFIX = "tag:"
RESERVED_SOURCES = ("declared", "unknown")  # built-in tier_source values a rule name may not take
RULE_FIELDS = ("name", "when", "set")  # what a [[map]] or [[cost_map]] rule holds
KINDS = ("exact", "glob", "regex", "cidr")
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


class RuleError(ValueError):
    """A rule that cannot be used, named by table, position and field."""


@dataclass(frozen=True)
class Condition:
    """One `when` entry: the attribute (or ledger column, or `tag:key`) and how its value must match."""

    key: str
    kind: str
    pattern: str
    regex: re.Pattern[str] | None = None
    network: Net | None = None

    def holds(self, value: Any) -> bool:
        """Whether an attribute value matches; a list matches when any element does, a missing value never."""
        if isinstance(value, list | tuple):
            return any(self.holds(v) for v in value)
        if value is None or isinstance(value, dict):
            return False
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if self.kind == "exact":
            return text == self.pattern
        if self.kind == "glob":
            return fnmatch.fnmatchcase(text, self.pattern)
        if self.kind == "regex":
            return self.regex is not None and self.regex.fullmatch(text) is not None
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return False
        return self.network is not None and address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class Rule:
    """One mapping rule: first match wins; `sets` holds (field, value) pairs in TELEMETRY_TARGETS / COST_TARGETS."""

    name: str
    when: tuple[Condition, ...]
    sets: tuple[tuple[str, str], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.when)

    def value(self, target: str) -> str | None:
        return dict(self.sets).get(target)

    def matches(self, lookup: Callable[[str], Any]) -> bool:
        return all(c.holds(lookup(c.key)) for c in self.when)

    def toml(self, table: str = "map") -> str:
        """The rule as tierwise.toml text (what `tierwise map suggest` prints and the Mapping view shows)."""
        def literal(text: str) -> str:  # a TOML basic string: control characters may not appear as they are
            return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if ch < " " or ch == "\x7f" else ch)
                                 for ch in text) + '"'

        def cond(c: Condition) -> str:
            shown = literal(c.pattern)
            globbing = any(ch in c.pattern for ch in "*?[")  # how parse reads a plain string back
            plain = (c.kind == "glob" and globbing) or (c.kind == "exact" and not globbing)
            return shown if plain else f"{{ {c.kind} = {shown} }}"

        when = ", ".join(f"{literal(c.key)} = {cond(c)}" for c in self.when)
        sets = ", ".join(f"{k} = {literal(v)}" for k, v in self.sets)
        return f"[[{table}]]\nname = {literal(self.name)}\nwhen = {{ {when} }}\nset = {{ {sets} }}\n"


def first_match(rules: Sequence[Rule], lookup: Callable[[str], Any]) -> Rule | None:
    """The first rule whose conditions all hold, else None."""
    for rule in rules:
        if rule.matches(lookup):
            return rule
    return None


def referenced_keys(rules: Sequence[Rule]) -> tuple[str, ...]:
    """Every key the rules test, each once, in first-use order."""
    return tuple(dict.fromkeys(k for r in rules for k in r.keys))


def _condition(key: str, raw: Any, where: str) -> Condition:
    if isinstance(raw, bool | int | float | str):
        text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        kind = "glob" if isinstance(raw, str) and any(ch in text for ch in "*?[") else "exact"
        return Condition(key, kind, text)
    if not (isinstance(raw, Mapping) and len(raw) == 1 and next(iter(raw)) in KINDS):
        raise RuleError(f"{where}: when[{key!r}] must be a value or one of {{ exact | glob | regex | cidr = \"…\" }}")
    kind, pattern = next(iter(raw.items()))
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: when[{key!r}].{kind} must be a non-empty string")
    if kind == "regex":
        try:
            return Condition(key, kind, pattern, regex=re.compile(pattern))
        except re.error as e:
            raise RuleError(f"{where}: when[{key!r}].regex {pattern!r} is not a regular expression ({e})") from None
    if kind == "cidr":
        try:
            return Condition(key, kind, pattern, network=ipaddress.ip_network(pattern, strict=False))
        except ValueError:
            raise RuleError(f"{where}: when[{key!r}].cidr {pattern!r} is not a network such as 10.0.0.0/8") from None
    return Condition(key, kind, pattern)


def _sets(raw: Any, targets: tuple[str, ...], where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise RuleError(f"{where}: `set` must be a table naming at least one of {', '.join(targets)}")
    out = []
    for field, value in raw.items():
        if field not in targets:
            raise RuleError(f"{where}: set.{field} is not settable; use {', '.join(targets)}")
        if not isinstance(value, str) or not value.strip():
            raise RuleError(f"{where}: set.{field} must be a non-empty string")
        if field == "tier":
            tier = normalize_tier(value)
            if tier is None:
                raise RuleError(f"{where}: set.tier {value!r} is not one of {', '.join(TIERS)}")
            value = tier
        if field == "data_class" and value.strip().lower() not in DATA_CLASSES:
            raise RuleError(f"{where}: set.data_class {value!r} is not one of {', '.join(DATA_CLASSES)}")
        out.append((field, value.strip().lower() if field == "data_class" else value.strip()))
    return tuple(out)


def parse(raw: Any, table: str, config: str = "tierwise.toml") -> tuple[Rule, ...]:
    """The rules of one array of tables (`map` or `cost_map`); RuleError names the rule and field at fault."""
    cost = table == "cost_map"
    rules: list[Rule] = []
    for where, entry in config_tables.entries(raw, table, RULE_FIELDS, config, RuleError):
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RuleError(f"{where}: `name` must be a non-empty string (it becomes the tier_source)")
        name = name.strip()  # as stored: the checks below see the name rows will carry
        if name in RESERVED_SOURCES or name.startswith("derived:") or name in {r.name for r in rules}:
            raise RuleError(f"{where}: name {name!r} is taken (built-in tier_source or an earlier rule)")
        when = entry.get("when")
        if not isinstance(when, Mapping) or not when:
            raise RuleError(f"{where}: `when` must be a table with at least one condition")
        if cost:
            bad = [k for k in when if not (k in COST_KEYS or (k.startswith(TAG_PREFIX) and len(k) > len(TAG_PREFIX)))]
            if bad:
                raise RuleError(f"{where}: when[{bad[0]!r}] is not a ledger column ({', '.join(COST_KEYS)}) "
                                f"or {TAG_PREFIX}<key>")
        conditions = tuple(_condition(str(k), v, where) for k, v in when.items())
        rules.append(Rule(name, conditions,
                          _sets(entry.get("set"), COST_TARGETS if cost else TELEMETRY_TARGETS, where)))
    return tuple(rules)
