"""The allocation table, as Kubecost shows it: per workload and tier, the money allocated to it directly, its share of
shared cost, its share of idle GPU cost and its GPU efficiency; unallocated money is its own row; the rows sum to the
ledger.

One split of the ledger: queries/allocation.py's (the same as cost_by_workload_day), over cost_allocation_inputs.
- allocated: charges linked to the workload by tag or resource;
- shared: a site's charges split over the workloads that used the site that day, by requests;
- idle: the part of a GPU site's charges its measured utilization leaves unused, shared over the same workloads by
  the same weights (Kubecost's "share idle");
- efficiency: what the workload used of the GPU money it was charged, used ÷ (used + idle) on sites with GPU
  utilization samples (the money-weighted mean GPU utilization of the sites it ran on; "–" where it ran on none);
- unallocated: charges with no workload and no usage in their site (one row per tier).
"""

from __future__ import annotations

import polars as pl

from queries import allocation

UNALLOCATED = "(unallocated)"
IDLE = "(idle, no user)"  # idle money of a site no workload used: cannot happen with today's inputs, kept honest
COLUMNS = ("workload", "tier", "allocated_usd", "shared_usd", "idle_usd", "total_usd", "gpu_used_usd",
           "gpu_paid_usd", "gpu_efficiency_ratio")


def table(inputs: pl.LazyFrame) -> pl.LazyFrame:
    """inputs: cost_allocation_inputs rows (kind cost/usage/capacity). One row per workload and tier (money in USD, the
    ledger's BillingCurrency), then the unallocated rows; every cost row's parts sum to it, so the table sums to the
    ledger's EffectiveCost."""
    costs = inputs.filter(pl.col("kind") == "cost")
    usage = inputs.filter(pl.col("kind") == "usage").select("pool", "workload", "weight")
    capacity = inputs.filter(pl.col("kind") == "capacity").select("pool", pl.col("weight").alias("capacity"))
    parts = allocation.allocate(
        costs.select("cost_id", pl.col("effective_micros").alias("amount_cents"), "workload", "pool"), usage, capacity)
    meta = costs.select("cost_id", "tier", "pool").with_columns(
        pl.col("pool").is_in(capacity.select("pool").collect()["pool"].implode()).fill_null(False).alias("gpu"))
    parts = parts.join(meta, on="cost_id").with_columns(pl.col("amount_cents").cast(pl.Float64).alias("micros"))
    shared = parts.filter(pl.col("category") == "shared")
    idle = parts.filter(pl.col("category") == "idle").group_by("cost_id").agg(pl.col("micros").sum().alias("idle"))
    weights = shared.with_columns((pl.col("micros") / pl.col("micros").sum().over("cost_id")).alias("w"))
    shared_idle = (weights.join(idle, on="cost_id").select("workload", "tier", (pl.col("idle") * pl.col("w"))
                                                           .alias("micros"), pl.lit("idle").alias("category"),
                                                           "gpu"))
    orphan = (idle.join(shared.select("cost_id").unique(), on="cost_id", how="anti").join(meta, on="cost_id")
              .select(pl.lit(IDLE).alias("workload"), "tier", pl.col("idle").alias("micros"),
                      pl.lit("idle").alias("category"), "gpu"))
    rows = pl.concat([parts.filter(pl.col("category") != "idle").select("workload", "tier", "micros", "category",
                                                                        "gpu"), shared_idle, orphan])
    rows = rows.with_columns(pl.when(pl.col("category") == "unallocated").then(pl.lit(UNALLOCATED))
                             .otherwise(pl.col("workload")).alias("workload"))

    def part(category: str, gpu_only: bool = False) -> pl.Expr:
        keep = (pl.col("category") == category) & (pl.col("gpu") if gpu_only else pl.lit(True))
        return (pl.col("micros").filter(keep).sum() / 1e6)

    out = (rows.group_by("workload", "tier")
           .agg(part("allocated").alias("allocated_usd"), part("shared").alias("shared_usd"),
                part("idle").alias("idle_usd"),
                (pl.col("micros").sum() / 1e6).alias("total_usd"),
                part("shared", gpu_only=True).alias("gpu_used_usd"),
                (part("shared", gpu_only=True) + part("idle", gpu_only=True)).alias("gpu_paid_usd"))
           .with_columns(pl.when(pl.col("gpu_paid_usd") > 0).then(pl.col("gpu_used_usd") / pl.col("gpu_paid_usd"))
                         .otherwise(None).alias("gpu_efficiency_ratio"),
                         pl.col("workload").is_in([UNALLOCATED, IDLE]).alias("_last")))
    return out.sort("_last", "total_usd", "workload", "tier", descending=[False, True, False, False]).select(COLUMNS)
