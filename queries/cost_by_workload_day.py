"""EffectiveCost and BilledCost per day, workload, tier and allocation category, summing back to the ledger."""

from __future__ import annotations

import polars as pl

from queries import allocation


def _split(rows: pl.LazyFrame, amount: str) -> pl.LazyFrame:
    costs = rows.filter(pl.col("kind") == "cost").select("cost_id", pl.col(amount).alias("amount_cents"),
                                                         "workload", "pool")
    usage = rows.filter(pl.col("kind") == "usage").select("pool", "workload", "weight")
    capacity = rows.filter(pl.col("kind") == "capacity").select("pool", pl.col("weight").alias("capacity"))
    return allocation.allocate(costs, usage, capacity).rename({"amount_cents": amount})


def cost_by_workload_day(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of cost_allocation_inputs through allocation.allocate (micro-USD units, largest remainder), once for
    EffectiveCost and once for BilledCost, grouped by day, tier, category (allocated, shared, idle, unallocated) and
    workload. Every cost row's parts add up to it exactly, so the day totals equal the ledger's."""
    meta = rows.filter(pl.col("kind") == "cost").select("cost_id", "day", "tier")
    keys = ["cost_id", "workload", "category"]
    parts = _split(rows, "effective_micros").join(_split(rows, "billed_micros"), on=keys, how="full",
                                                  coalesce=True, nulls_equal=True)
    return (parts.join(meta, on="cost_id")
            .group_by("day", "tier", "category", "workload")
            .agg((pl.col("effective_micros").fill_null(0).sum() / 1e6).alias("effective_cost_usd"),
                 (pl.col("billed_micros").fill_null(0).sum() / 1e6).alias("billed_cost_usd"))
            .sort("day", "tier", "category", "workload", nulls_last=True))
