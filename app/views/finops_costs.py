"""FinOps sections drawn from the semantic model: cost per month with months to date labelled, and the breakdown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
import streamlit as st

from app import charts_finops, components, data
from app.state import Filters
from app.views import url_controls
from queries.semantic import metric as metrics
from queries.semantic import present
from queries.units import format_value
from store.contract import TIERS

BREAKDOWN = ("workload", "tier", "provider", "cloud_service", "service_category", "site", "account", "charge_category")
BREAKDOWN_KEY = "breakdown"  # "Break cost down by" in the URL, absent at its default
DEFAULT_BREAKDOWN = "workload"


def pick_breakdown(options: Sequence[str], format_func: Callable[[str], str] = str) -> str:
    """"Break cost down by", seeded from the link that opened the page and kept in the URL, so a view can be shared."""
    asked = url_controls.text(url_controls.opened_with([BREAKDOWN_KEY]), BREAKDOWN_KEY)
    url_controls.seed({"finops_dim": asked if asked in options else DEFAULT_BREAKDOWN})
    chosen = st.segmented_control("Break cost down by", options, key="finops_dim", format_func=format_func)
    by = chosen if chosen is not None and chosen in options else DEFAULT_BREAKDOWN
    url_controls.write({BREAKDOWN_KEY: by} if by != DEFAULT_BREAKDOWN else {}, (BREAKDOWN_KEY,))
    return by


def _coverage() -> tuple[date | None, date | None]:
    """The first and last day the ledger's charges reach (its last charge end is exclusive)."""
    rows = data.query("ledger_coverage")
    start = rows["first_charge_start"][0] if rows.height else None
    end = rows["last_charge_end"][0] if rows.height else None
    return (None if start is None else start.date(),
            None if end is None else (end - timedelta(microseconds=1)).date())


def _month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@dataclass(frozen=True)
class Months:
    """Effective cost per month and tier (semantic-model rows) with each month's label, billed days and partiality."""

    rows: pl.DataFrame
    labels: dict[datetime, str]
    days: dict[datetime, int]
    partial: frozenset[datetime]


def months(f: Filters) -> Months:
    """Every filter applied; a month the bills have not reached the end of (or the time range cuts) is labelled with
    the days it covers, so it is never read as a whole month."""
    rows = data.metric(("effective_cost",), ("time", "tier"), f.where(), f.start_ns, f.end_ns, grain="month")
    begin, last = _coverage()
    if f.start is not None:
        begin = max(begin, f.start) if begin else f.start
    if f.end is not None:
        last = min(last, f.end) if last else f.end
    labels: dict[datetime, str] = {}
    days: dict[datetime, int] = {}
    partial: set[datetime] = set()
    for t in rows["time"].unique().sort().to_list() if rows.height else []:
        first = t.date()
        start = max(first, begin) if begin else first
        end = _month_end(first)
        stop = min(end.toordinal() - 1, last.toordinal()) if last else end.toordinal() - 1
        days[t] = max(0, stop - start.toordinal() + 1)
        cut = start != first or stop != end.toordinal() - 1
        labels[t] = f"{first:%b %Y}" + (f" ({present.period_label(start, end, date.fromordinal(stop))})" if cut else "")
        if cut:
            partial.add(t)
    return Months(rows, labels, days, frozenset(partial))


def months_chart(m: Months) -> None:
    for currency in m.rows["currency"].unique().sort().to_list():
        part = m.rows.filter(currency=currency)
        components.chart(charts_finops.cost_by_period(part, m.labels, set(m.partial), currency),
                         f"finops_months_{currency}")


def months_table(m: Months) -> None:
    """Per month and currency: cost, billed days, cost per day and its change on the month before (like with like)."""
    st.caption("Hatched months are partial: the bills or the time range stop inside them, so their bar covers only "
               "the days in its label. The change compares cost per billed day, like with like.")
    totals = m.rows.group_by("time", "currency").agg(pl.col("effective_cost").sum()).sort("currency", "time")
    table = []
    previous: dict[str, float] = {}
    for r in totals.iter_rows(named=True):
        per_day = r["effective_cost"] / m.days[r["time"]] if m.days[r["time"]] > 0 else None
        before = previous.get(r["currency"])
        change = (per_day / before - 1) * 100 if per_day is not None and before else None
        table.append({"Month": m.labels[r["time"]], "Days billed": format_value(m.days[r["time"]], "count"),
                      "Effective cost": format_value(r["effective_cost"], "money", r["currency"]),
                      "Per day": format_value(per_day, "money", r["currency"]),
                      "Change per day": format_value(change, "pct")})
        if per_day is not None:
            previous[r["currency"]] = per_day
    st.dataframe(pl.DataFrame(table), key="finops_mom_table", hide_index=True)
    st.download_button("Download CSV", metrics.rows_for_output(m.rows).write_csv(),
                       file_name="effective_cost_by_month_tier.csv", mime="text/csv", key="finops_mom_csv",
                       icon=":material/download:")


def breakdown_section(f: Filters) -> None:
    """Effective cost by one dimension (stacked by tier), every filter applied."""
    by = pick_breakdown(BREAKDOWN, lambda d: present.labels([d])[d])
    keys = (by,) if by == "tier" else (by, "tier")
    rows = data.metric(("effective_cost", "billed_cost"), keys, f.where(), f.start_ns, f.end_ns)
    if rows.height == 0:
        components.no_rows("costs")
        return
    label = present.labels([by])[by]
    for currency in rows["currency"].unique().sort().to_list():
        components.chart(charts_finops.cost_by_dimension(rows.filter(currency=currency), by, label, currency),
                         f"finops_by_{currency}")
    components.measure_table(present.with_totals(rows, keys), keys, "finops_detail", f"cost_by_{by}.csv",
                             f"Effective and billed cost by {label.lower()} and tier (`tierwise metric "
                             f"effective_cost,billed_cost --by {','.join(keys)}`), every filter applied", download=rows)



def unit_costs_section(f: Filters) -> None:
    """Cost per 1k requests and per 1M tokens per tier: the model's requests (entries into the tier) and tokens."""
    keys = ("tier",)
    rows = data.metric(("effective_cost", "requests", "tokens", "cost_per_1k_requests", "cost_per_1m_tokens"), keys,
                       f.where(), f.start_ns, f.end_ns)
    for currency in rows["currency"].drop_nulls().unique().sort().to_list():
        part = rows.filter(pl.col("currency") == currency, pl.col("tier").is_in(TIERS))
        if part.height:
            components.chart(charts_finops.unit_costs(part, "cost_per_1k_requests", "cost_per_1m_tokens", currency),
                             f"finops_units_{currency}")
    components.measure_table(rows, keys, "finops_units", "unit_costs_by_tier.csv",
                             "Unit costs per tier: effective cost ÷ requests entering the tier and ÷ tokens, both "
                             "sampling-adjusted, every filter applied (`tierwise metric cost_per_1k_requests,"
                             "cost_per_1m_tokens --by tier`)")


def egress_section(f: Filters) -> None:
    """Observed (traced) and billed transfer side by side per tier, with their ratio: a gap is a finding."""
    rows = data.metric(("egress_gb_observed", "egress_gb_billed", "egress_billed_to_observed"), ("tier",), f.where(),
                       f.start_ns, f.end_ns)
    components.measure_table(rows, ("tier",), "finops_egress_gap", "egress_observed_billed.csv",
                             "Transfer per tier: what the traced calls carried (sampling-adjusted, both directions, "
                             "by the calling tier) beside what the bills charge for, every filter applied. A ratio "
                             "far above 1 is traffic the traces do not see (untraced calls, replication, retries).")
