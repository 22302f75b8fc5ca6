"""Cost allocation: splits ledger money onto workloads as allocated, shared, idle or unallocated, cent-exact."""

from __future__ import annotations

import polars as pl

CATEGORIES = ("allocated", "shared", "idle", "unallocated")


def allocate(costs: pl.LazyFrame, usage: pl.LazyFrame, capacity: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Split every cost row into (cost_id, workload, category, amount_cents) rows that sum back to it.

    costs:    cost_id, amount_cents (Int64: the row's money in cents), workload (nullable), pool (nullable:
              the site / node / resource the row pays for).
    usage:    pool, workload, weight (Float64 ≥ 0: requests, GPU-seconds…) — how a pool's workloads use it.
    capacity: pool, capacity (Float64 > 0, same unit as weight); when given, the unused share of a pool is idle.

    A row with a workload is `allocated` to it. A row without one is split over its pool's workloads by weight
    (`shared`), minus the `idle` share when the pool's capacity exceeds its use; a row with neither a workload nor
    any usage in its pool stays `unallocated`. Splits use the largest-remainder method, so the parts of each row
    add up to its amount_cents exactly.
    """
    cap = capacity if capacity is not None else pl.LazyFrame(schema={"pool": pl.String, "capacity": pl.Float64})
    used = usage.filter(pl.col("weight") > 0).group_by("pool", "workload").agg(pl.col("weight").sum())
    totals = used.group_by("pool").agg(pl.col("weight").sum().alias("used"))
    idle = (totals.join(cap, on="pool", how="inner")
            .with_columns((pl.col("capacity") - pl.col("used")).alias("weight"))
            .filter(pl.col("weight") > 0)
            .select("pool", pl.lit(None, pl.String).alias("workload"), "weight", pl.lit("idle").alias("category")))
    shares = pl.concat([used.with_columns(pl.lit("shared").alias("category")).select("pool", "workload", "weight",
                                                                                     "category"), idle])
    direct = costs.filter(pl.col("workload").is_not_null()).select(
        "cost_id", "workload", pl.lit("allocated").alias("category"), "amount_cents")
    pooled = costs.filter(pl.col("workload").is_null()).drop("workload")
    split = pooled.join(shares, on="pool", how="inner")
    unallocated = pooled.join(shares.select("pool").unique(), on="pool", how="anti").select(
        "cost_id", pl.lit(None, pl.String).alias("workload"), pl.lit("unallocated").alias("category"), "amount_cents")
    exact = (pl.col("amount_cents").cast(pl.Float64) * pl.col("weight") / pl.col("weight").sum().over("cost_id"))
    parts = (split.sort("cost_id", "category", "workload", nulls_last=True)  # remainder ties go by workload, every run
             .with_columns(exact.alias("exact"))
             .with_columns(pl.col("exact").floor().cast(pl.Int64).alias("floor"))
             .with_columns((pl.col("amount_cents") - pl.col("floor").sum().over("cost_id")).alias("left"),
                           (pl.col("exact") - pl.col("floor")).rank("ordinal", descending=True).over("cost_id")
                           .alias("order"))
             .with_columns((pl.col("floor") + (pl.col("order") <= pl.col("left")).cast(pl.Int64)).alias("cents"))
             .select("cost_id", "workload", "category", pl.col("cents").alias("amount_cents")))
    return pl.concat([direct, parts, unallocated]).sort("cost_id", "category", "workload", nulls_last=True)
