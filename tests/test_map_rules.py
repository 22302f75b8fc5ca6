"""[[map]] and [[cost_map]] rules: every refused rule is named with its field, matching kinds, first match, TOML text."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.map_rules import RuleError, first_match, parse
from store.settings import load_settings


def rule(when: dict[str, Any], sets: dict[str, Any] | None = None, name: str = "r", table: str = "map") -> Any:
    return parse([{"name": name, "when": when, "set": sets or {"tier": "edge"}}], table)[0]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '[[map]]\nname = "a"\nwhen = { "k8s.cluster.name" = "f-1" }\nset = { tier = "edge" }\n'
# (config text after GOOD, the rule number and field the message must name)
REFUSED = [
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = { tier = "moon" }\n', "#2 ('b')", "set.tier 'moon'"),
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = { colour = "red" }\n', "#2 ('b')", "set.colour"),
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = { data_class = "secret" }\n', "#2 ('b')", "set.data_class"),
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = { site = "" }\n', "#2 ('b')", "set.site"),
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = {}\n', "#2 ('b')", "`set`"),
    ('[[map]]\nname = "b"\nwhen = {}\nset = { tier = "edge" }\n', "#2 ('b')", "`when`"),
    ('[[map]]\nname = "b"\nset = { tier = "edge" }\n', "#2 ('b')", "`when`"),
    ('[[map]]\nname = "b"\nwhen = { x = { regex = "a(" } }\nset = { tier = "edge" }\n', "#2 ('b')",
     "when['x'].regex 'a('"),
    ('[[map]]\nname = "b"\nwhen = { ip = { cidr = "10.0.0.0/33" } }\nset = { tier = "edge" }\n', "#2 ('b')",
     "when['ip'].cidr '10.0.0.0/33'"),
    ('[[map]]\nname = "b"\nwhen = { ip = { cidr = "" } }\nset = { tier = "edge" }\n', "#2 ('b')", "when['ip'].cidr"),
    ('[[map]]\nname = "b"\nwhen = { x = { like = "a" } }\nset = { tier = "edge" }\n', "#2 ('b')", "when['x']"),
    ('[[map]]\nname = "b"\nwhen = { x = ["a", "b"] }\nset = { tier = "edge" }\n', "#2 ('b')", "when['x']"),
    ('[[map]]\nname = "a"\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 ('a')", "name 'a' is taken"),
    ('[[map]]\nname = "a "\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 ('a ')", "name 'a' is taken"),
    ('[[map]]\nname = "unknown"\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 ('unknown')", "taken"),
    ('[[map]]\nname = " declared"\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 (' declared')", "taken"),
    ('[[map]]\nname = "derived:cloud"\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 ('derived:cloud')",
     "taken"),
    ('[[map]]\nname = ""\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2 ('')", "`name`"),
    ('[[map]]\nwhen = { x = "1" }\nset = { tier = "edge" }\n', "#2", "`name`"),
    ('[[map]]\nname = "b"\nwhen = { x = "1" }\nset = { tier = "edge" }\nthen = 1\n', "#2 ('b')", "'then'"),
    ('[[cost_map]]\nname = "c"\nwhen = { Colour = "x" }\nset = { workload = "w" }\n', "[[cost_map]] #1 ('c')",
     "when['Colour']"),
    ('[[cost_map]]\nname = "c"\nwhen = { "tag:" = "x" }\nset = { workload = "w" }\n', "[[cost_map]] #1 ('c')",
     "when['tag:']"),
    ('[[cost_map]]\nname = "c"\nwhen = { ServiceName = "x" }\nset = { data_class = "public" }\n',
     "[[cost_map]] #1 ('c')", "set.data_class"),
]


@pytest.mark.parametrize(("text", "rule_at", "field"), REFUSED, ids=[f"{i}-{r[2][:24]}" for i, r in enumerate(REFUSED)])
def test_a_refused_rule_is_named_by_file_number_and_field(tmp_path: Path, text: str, rule_at: str, field: str) -> None:
    path = config(tmp_path, GOOD + text)
    with pytest.raises(RuleError) as e:
        load_settings(config=path, env={})
    message = str(e.value)
    assert str(path) in message and rule_at in message and field in message, message


def test_settings_carry_both_tables_in_file_order(tmp_path: Path) -> None:
    path = config(tmp_path, GOOD + '[[cost_map]]\nname = "c"\nwhen = { "tag:team" = "ml" }\nset = { workload = "w" }\n'
                  + GOOD.replace('"a"', '"z"'))
    s = load_settings(config=path, env={})
    assert [r.name for r in s.map_rules] == ["a", "z"] and [r.name for r in s.cost_rules] == ["c"]
    assert s.cost_rules[0].keys == ("tag:team",) and s.cost_rules[0].sets == (("workload", "w"),)


def test_set_values_are_normalized() -> None:
    r = rule({"x": "1"}, {"tier": " Edge ", "data_class": "Confidential", "site": " s-1 "})
    assert r.sets == (("tier", "edge"), ("data_class", "confidential"), ("site", "s-1"))


@pytest.mark.parametrize(("when", "value", "holds"), [
    ("f-1", "f-1", True), ("f-1", "f-10", False), ("f-1", "F-1", False),
    ("factory-*", "factory-12", True), ("factory-?", "factory-12", False), ("rack-[ab]", "rack-b", True),
    ("rack-[ab]", "rack-c", False),
    ({"exact": "a*"}, "a*", True), ({"exact": "a*"}, "ab", False), ({"glob": "a*"}, "ab", True),
    ({"regex": "lab-[0-9]+"}, "lab-12", True), ({"regex": "lab-[0-9]+"}, "my-lab-12", False),
    ({"regex": "lab-[0-9]+"}, "lab-12x", False), ({"regex": "a|b"}, "ab", False), ({"regex": "a|b"}, "b", True),
    ({"cidr": "10.1.2.0/30"}, "10.1.2.3", True), ({"cidr": "10.1.2.0/30"}, "10.1.2.4", False),
    ({"cidr": "10.1.2.1/30"}, "10.1.2.2", True), ({"cidr": "10.0.0.0/8"}, "not an address", False),
    ({"cidr": "10.0.0.0/8"}, "::ffff:10.0.0.1", False), ({"cidr": "fd00::/8"}, "fd12:3456::1", True),
    ({"cidr": "fe80::/10"}, "fe80::1%eth0", True), ({"cidr": "fd00::/8"}, "10.0.0.1", False),
    ({"cidr": "10.1.2.0/30"}, ["192.168.0.1", "fe80::1", "10.1.2.1"], True),
    ({"cidr": "10.1.2.0/30"}, ["192.168.0.1", "fe80::1"], False), ("b", ["a", "b"], True), ("c", [], False),
    (True, True, True), (True, False, False), (True, "true", True), (False, False, True), ("true", True, True),
    (3, 3, True), (3, "3", True), (3, 3.5, False), ("3", 3, True), (1.5, 1.5, True),
    ("x", None, False), ("*", None, False), ("*", {"x": 1}, False), ("*", "", True),
])
def test_condition_kinds(when: Any, value: Any, holds: bool) -> None:
    r = rule({"k": when})
    assert r.matches({"k": value}.get) is holds


def test_all_conditions_must_hold_and_the_first_match_wins() -> None:
    rules = parse([{"name": "route", "when": {"http.route": "/v2/*", "service.name": "lab"}, "set": {"tier": "regional"}},
                   {"name": "net", "when": {"host.ip": {"cidr": "10.0.0.0/8"}}, "set": {"tier": "edge"}},
                   {"name": "any lab", "when": {"service.name": "lab"}, "set": {"site": "lab"}}], "map")
    both = {"http.route": "/v2/y", "service.name": "lab", "host.ip": ["10.0.0.1"]}

    def name(row: dict[str, Any]) -> str | None:
        found = first_match(rules, row.get)
        return None if found is None else found.name

    assert name(both) == "route"
    assert name({**both, "service.name": "api"}) == "net"
    assert name({**both, "http.route": "/v1/x", "host.ip": "192.168.1.1"}) == "any lab"
    assert first_match(rules, {"service.name": "api"}.get) is None
    assert first_match((), both.get) is None


WHENS = [{"k8s.cluster.name": "factory-1"}, {"k": "f-*"}, {"k": {"exact": "a*b"}}, {"k": {"glob": "plain"}},
         {"k": {"regex": "lab-[0-9]+|x\\d"}}, {"ip": {"cidr": "10.1.2.0/30"}}, {"ip": {"cidr": "fd00::/8"}},
         {"b": True}, {"n": 42}, {"a": "1", "b": {"regex": "q\"uote\\\\"}}]


@pytest.mark.parametrize("when", WHENS)
@pytest.mark.parametrize("table", ["map", "cost_map"])
def test_toml_round_trips_through_parse(when: dict[str, Any], table: str) -> None:
    sets = {"tier": "edge", "site": "s-1", "workload": "w"}
    when = {f"tag:{k}": v for k, v in when.items()} if table == "cost_map" else when
    original = rule(when, sets, "my rule", table)
    again = parse(tomllib.loads(original.toml(table))[table], table)
    assert again == (original,)
    probe = {k: v for k, v in [("k8s.cluster.name", "factory-1"), ("k", "a*b"), ("ip", "10.1.2.2"), ("b", True)]}
    probe = {f"tag:{k}": v for k, v in probe.items()} if table == "cost_map" else probe
    assert again[0].matches(probe.get) is original.matches(probe.get)


@settings(max_examples=300, deadline=None)
@given(name=st.text(min_size=1).filter(lambda s: s.strip() and s.strip() not in ("unknown", "declared")
                                       and not s.strip().startswith("derived:")),
       key=st.text(min_size=1), value=st.text(min_size=1), site=st.text(min_size=1).filter(str.strip))
def test_toml_of_any_text_parses_back_to_the_same_rule(name: str, key: str, value: str, site: str) -> None:
    original = rule({key: {"exact": value}}, {"site": site}, name)
    assert parse(tomllib.loads(original.toml())["map"], "map") == (original,)
