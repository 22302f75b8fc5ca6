"""Mapping: how much of the store is placed (a strip on every page) and, on its own page, the largest unplaced groups
with the rule that would place each. The dashboard shows rules and the command; it never writes them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from app import charts_finops, components, data, plain
from app.views import common
from queries import mapping
from queries.mapping import Suggestion
from queries.semantic import present
from queries.units import MISSING, format_value

HEADING = "Mapping"
LIMIT = 20  # groups of each kind, largest first: what `tierwise map suggest` lists by default
APPLY = "tierwise map apply --config tierwise.toml"
ABOUT = ("Whole store: the sidebar's filters do not apply. A span or request is placed when its tier is not unknown; "
         "money, when it is linked to a workload (by tag, resource or site). The numbers of `tierwise query "
         "mapping_coverage`.")


def placed_everything(rows: pl.DataFrame) -> bool:
    """Whether every mapping_coverage row's placed amount reads the same as its total."""
    return all(charts_finops.coverage_number(r, "mapped") == charts_finops.coverage_number(r, "total")
               for r in rows.iter_rows(named=True))


def coverage_line(rows: pl.DataFrame) -> str:
    """mapping_coverage's rows in one line of Markdown: "Placed: 97.2 % of spans · 98.0 % of requests · 91.4 % of USD
    money (8,120.55 of 8,884.10 USD)"; money is left out when the store holds no costs."""
    if placed_everything(rows):
        what = "spans, requests and money" if "money" in set(rows["kind"]) else "spans and requests"
        return f":material/check_circle: **Placed:** everything (all {what})."
    parts = []
    for r in rows.iter_rows(named=True):
        if r["mapped_pct"] is None:  # no rows of this kind at all (a store with no server or root span)
            continue
        part = f"{format_value(r['mapped_pct'], 'pct')} of {charts_finops.coverage_label(r)}"
        parts.append(plain.md(part + (f" ({charts_finops.coverage_amounts(r)})" if r["kind"] == "money" else "")))
    return ":material/rule: **Placed:** " + " · ".join(parts)


def strip(link: bool = True) -> None:
    """The placed share of spans, requests and money, drawn above every page, with a link to this page (`link`) when
    anything is unplaced."""
    rows = data.query("mapping_coverage")
    line = coverage_line(rows)
    if link and not placed_everything(rows):
        to = "mapping?" + urlencode(common.current().to_query_params())
        line += f" · [What is unplaced, and rules to place it →]({to.rstrip('?')})"
    st.caption(line, help=ABOUT)


def view() -> None:
    st.title(HEADING)
    st.caption("What is not placed yet, largest first: spans of tier unknown, grouped by the strongest attribute of "
               "where they run, and money linked to no workload, per currency, provider, account and service. Each group "
               "comes with a proposed rule: a starting point to review (telemetry outside any cloud is proposed as "
               "edge). Whole store: the sidebar's filters do not apply. The dashboard only reads the store: it shows "
               "rules, it never writes them.")
    components.chart(charts_finops.coverage(data.query("mapping_coverage")), "mapping_coverage")
    spans = data.query("unmapped_span_groups", {"limit": LIMIT})
    money = data.query("unallocated_cost_groups", {"limit": LIMIT})
    if spans.height == 0 and money.height == 0:
        st.success("Everything is placed: no span of tier unknown and no money linked to no workload.",
                   icon=":material/check_circle:")
        return
    found = mapping.from_rows(spans, money)
    st.markdown("Copy the rules you want into `tierwise.toml` (first match wins; change a name or a value as you see "
                "fit), then apply them to everything stored, in one transaction:")
    st.code(APPLY, language="sh")
    _section("Unplaced spans", "groups of spans of tier unknown", spans, [s for s in found if s.kind == "telemetry"],
             "unmapped_span_groups", "spans; services: distinct service.name values")
    _section("Unallocated money", "groups of money linked to no workload", money, [s for s in found if s.kind == "costs"],
             "unallocated_cost_groups", "effective and billed cost in the row's currency")


def _size(s: Suggestion) -> str:
    if s.kind == "telemetry":
        return f"{format_value(s.size, 'count')} span{'' if s.size == 1 else 's'}"
    return f"{format_value(s.size, 'money')} {s.unit}"


def _section(title: str, what: str, rows: pl.DataFrame, found: list[Suggestion], query: str, units: str) -> None:
    """The groups as the query returns them (a table with its CSV), then every proposed rule in one block to copy,
    each under a comment naming its group and size, as `tierwise map suggest` prints them."""
    if rows.height == 0:
        return
    st.subheader(title)
    more = f"; `tierwise map suggest --limit 100` lists more than these {LIMIT}" if rows.height == LIMIT else ""
    shown = rows.with_columns(pl.col(c).fill_null(MISSING) for c in ("attribute", "value", "provider", "account",
                                                                     "service") if c in rows.columns)
    cents: dict[str, Any] = {c: st.column_config.NumberColumn(present.header(c, True), format="accounting")
                             for c in ("effective_cost", "billed_cost") if c in rows.columns}  # to the cent
    components.table(shown, f"mapping_{query}", f"{query}.csv", f"The {rows.height} largest {what}{more} ({query}: "
                     f"{units}).", column_config=cents, download=rows)
    ruleless = rows.height - len(found)
    alone = f" ({ruleless} with nothing to match on get none)" if ruleless else ""
    st.markdown(f"Proposed rules, largest group first{alone}:")
    st.code("\n\n".join(f"# {s.group}: {_size(s)}\n{s.toml.rstrip()}" for s in found), language="toml", wrap_lines=True)
