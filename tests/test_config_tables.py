"""The checks [[budget]], [[view]], [[map]] and [[cost_map]] share: each names the file, the entry and the field."""

from __future__ import annotations

from typing import Any

import pytest

from queries.budgets import BudgetError
from queries.budgets import parse as parse_budgets
from queries.cost_explorer import ViewError, parse_views
from store import config_tables
from store.map_rules import RuleError
from store.map_rules import parse as parse_rules


class Oops(ValueError):
    pass


def test_entries_label_each_table_and_pass_only_known_fields() -> None:
    got = list(config_tables.entries([{"name": "a"}, {"x": 1}], "thing", ("name", "x"), "t.toml", Oops))
    assert got == [("t.toml [[thing]] #1 ('a')", {"name": "a"}), ("t.toml [[thing]] #2", {"x": 1})]
    assert list(config_tables.entries(None, "thing", ("name",), "t.toml", Oops)) == []


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "a"}, "t.toml: [[thing]] must be an array of tables"),
    (["a"], "t.toml [[thing]] #1: must be a table with name, x and y"),
    ([{"name": "b", "colour": 1}], "t.toml [[thing]] #1 ('b'): unknown field 'colour' (known: name, x, y)"),
])
def test_entries_refuse_what_is_not_an_array_of_known_tables(raw: Any, message: str) -> None:
    with pytest.raises(Oops) as e:
        list(config_tables.entries(raw, "thing", ("name", "x", "y"), "t.toml", Oops))
    assert str(e.value) == message


def test_scope_keeps_the_files_order_and_refuses_what_is_not_text() -> None:
    assert config_tables.scope({"tier": "edge", "site": "a"}, "L", Oops) == (("tier", "edge"), ("site", "a"))
    assert config_tables.scope(None, "L", Oops) == ()
    for bad in ({"tier": 1}, {"tier": ""}, ["tier"]):
        with pytest.raises(Oops, match=r'^L: `where` must be a table of dimension = "value"$'):
            config_tables.scope(bad, "L", Oops)


@pytest.mark.parametrize(("parse", "error", "raw", "table"), [
    (lambda raw: parse_budgets(raw, "t.toml"), BudgetError, [{"name": "b", "amount": 1, "currency": "USD", "x": 1}],
     "budget"),
    (lambda raw: parse_views(raw, "t.toml"), ViewError, [{"name": "b", "x": 1}], "view"),
    (lambda raw: parse_rules(raw, "map", "t.toml"), RuleError, [{"name": "b", "x": 1}], "map"),
    (lambda raw: parse_rules(raw, "cost_map", "t.toml"), RuleError, [{"name": "b", "x": 1}], "cost_map"),
])
def test_every_parser_says_it_the_same_way(parse: Any, error: type[ValueError], raw: Any, table: str) -> None:
    with pytest.raises(error, match=rf"^t\.toml \[\[{table}\]\] #1 \('b'\): unknown field 'x' \(known: name, "):
        parse(raw)
    with pytest.raises(error, match=rf"^t\.toml: \[\[{table}\]\] must be an array of tables$"):
        parse({"name": "b"})
