"""Catalogue entries for FinOps: the cost ledger by month and tier, reconciliation, allocated cost per day, unit costs,
cost anomalies, forecast, scorecard inputs and the FOCUS export."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from queries import allocation_table, cost_explorer, forecast, scorecard
from queries.catalog import TIER, WORKLOAD, Param, Query, setting
from queries.cost_by_workload_day import cost_by_workload_day

USD = (("*_usd", "USD (BillingCurrency)"),)
MONTH = (("*_usd_month", "USD per 730-hour month"), ("*_ratio", "fraction 0-1"), ("gpu_seconds", "s"),
         ("egress_gb", "GB (1e9 bytes)"))
K = setting("k", float, "how many scaled MADs above the baseline is an anomaly", 3.0, 0.0)
WINDOW = setting("window_days", int, "baseline: the previous this-many days", 7, 1, 3650)
HISTORY = setting("min_history_days", int, "days with cost needed before a day is judged", 3, 0, 3650)
RISE = setting("min_rise_ratio", float, "and at least this relative rise over the baseline", 0.1, 0.0)


def _allocated(rows: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    return cost_by_workload_day(rows)


def _allocation_table(rows: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    return allocation_table.table(rows)


def _tag_keys(rows: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    return cost_explorer.tag_keys(rows)


def _scorecard(rows: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    return scorecard.scorecard(rows, scorecard.configured())


def _forecast(rows: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    days = params.get("forecast_window_days")
    band = params.get("band_k")
    return forecast.month_end(rows, days if isinstance(days, int) else 14,
                              float(band) if isinstance(band, int | float) else 2.0)


FINOPS: tuple[Query, ...] = (
    Query("cost_by_month", "EffectiveCost and BilledCost per UTC month, tier, provider, service, site and workload.", (),
          USD, sql="cost_by_month"),
    Query("cost_by_tier", "Effective cost linked to each tier, split into compute, network and other, with days covered.",
          (), (*USD, ("days", "distinct charge days")), sql="cost_by_tier"),
    Query("cost_month_over_month", "EffectiveCost and BilledCost per UTC month and tier, and the change from the month "
          "before (in total and per covered day).", (), (*USD, ("*_ratio", "fraction of the previous month"),
                                                         ("covered_days", "whole UTC days")), sql="cost_month_over_month"),
    Query("cost_reconciliation", "Tie-out per provider and billing period: BilledCost in the source files, in the ledger, "
          "linked to a workload and left unallocated.", (), (*USD, ("*_rows", "rows")),
          sql="cost_reconciliation"),
    Query("edge_capex", "Hardware amortization per edge site, per 730-hour month, with the days it covers.", (),
          (("amortization_usd_month", "USD per 730-hour month"), ("days", "distinct charge days")), sql="edge_capex"),
    Query("egress_cost_by_direction", "Billed data-transfer money and quantity per UTC month, tier and direction.", (),
          (*USD, ("consumed_quantity", "consumed_unit (e.g. GB)")), sql="egress_cost_by_direction"),
    Query("unit_cost_by_day", "The estate's EffectiveCost, sampling-adjusted requests and cost per 1k requests per UTC day.",
          (), (("cost_usd", "USD"), ("usd_per_1k_requests", "USD")), sql="unit_cost_by_day"),
    Query("focus_export", "The cost ledger as a FOCUS 1.2 Cost and Usage dataset (57 columns + x_ columns).", (),
          (("*Cost", "BillingCurrency"), ("*UnitPrice", "BillingCurrency per PricingUnit")), sql="focus_export"),
    Query("ledger_coverage", "The UTC instants the cost ledger covers: first charge start, last charge end.", (),
          (("first_charge_start", "UTC"), ("last_charge_end", "UTC, exclusive"), ("last_charge_start", "UTC")),
          sql="ledger_coverage"),
    Query("cost_allocation_inputs", "Cost rows, site usage weights and GPU capacity the allocation splits by.", (),
          (("*_micros", "1e-6 USD"),), sql="cost_allocation_inputs"),
    Query("cost_by_workload_day", "EffectiveCost and BilledCost per day, tier, category (allocated, shared, idle, "
          "unallocated) and workload; sums to the ledger.", (), USD, source="cost_allocation_inputs",
          derive=_allocated),
    Query("cost_allocation_table", "Per workload and tier: allocated, shared and idle GPU cost, total and GPU efficiency "
          "(used ÷ paid); unallocated rows last; sums to the ledger.", (),
          (*USD, ("gpu_efficiency_ratio", "fraction 0-1")), source="cost_allocation_inputs", derive=_allocation_table),
    Query("cost_tag_keys", "The billing tag keys in the ledger (FOCUS Tags), each with the charges carrying it.", (),
          (("charges", "ledger rows"),), source="focus_export", derive=_tag_keys),
    Query("unit_costs_by_tier", "Cost per 1k requests and per 1M tokens per tier and month (sampling-adjusted).", (),
          (("cost_usd", "USD"), ("usd_per_1k_requests", "USD"), ("usd_per_1m_tokens", "USD")),
          sql="unit_costs_by_tier"),
    Query("cost_anomalies", "Daily cost per workload and tier, flagged above a rolling median + k×MAD baseline.",
          (WORKLOAD, TIER, K, WINDOW, HISTORY, RISE), USD, sql="cost_anomalies"),
    Query("cost_forecast", "Month-end cost per tier: month-to-date + remaining days × daily median, with a MAD band.",
          (WORKLOAD, TIER, K, WINDOW, HISTORY, RISE,
           setting("forecast_window_days", int, "the daily median and MAD use this many recent days", 14, 1, 3650),
           setting("band_k", float, "band half-width in scaled MADs per remaining day", 2.0, 0.0)), USD,
          source="cost_anomalies", derive=_forecast),
    Query("scorecard_inputs", "Per workload and tier: adjusted requests, tokens, GPU-seconds, egress, p95s, SLA and "
          "money per five-factor component.", (), (("*_usd", "USD"), ("*_ms", "ms"), ("egress_gb", "GB")),
          sql="scorecard_inputs"),
    Query("scorecard_hops", "Hop p50/p95 per workload and tier pair, and over all workloads (what-if latency input).",
          (Param("start_ns", int, "from this time, Unix ns"), Param("end_ns", int, "until this time, Unix ns")),
          (("*_ms", "ms"),), sql="scorecard_hops"),
    Query("scorecard", "Five-factor cost per workload, current tier portion and placement option, USD/month "
          "(docs/scorecard.md).", (), MONTH, source="scorecard_inputs", derive=_scorecard),
)
