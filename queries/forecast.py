"""Month-end cost forecast per tier: month-to-date plus remaining days × the recent daily median, with a MAD band."""

from __future__ import annotations

import polars as pl

from store.contract import TIERS

MAD_SCALE = 1.4826  # makes the MAD estimate a standard deviation for normal data
# Rows come in contract tier order, then any other tier, then the total (`all`).
ORDER = {**{tier: i for i, tier in enumerate(TIERS)}, "all": len(TIERS) + 1}


def month_end(daily: pl.LazyFrame, window_days: int = 14, k: float = 2.0) -> pl.LazyFrame:
    """One row per tier (and `all`) for the month of the latest charge day.

    daily: tier, day (Date), cost_usd — e.g. the rows of cost_anomalies. forecast = month_to_date + remaining_days ×
    median(last `window_days` daily costs); low/high = month_to_date + remaining_days × max(0, median ∓ k × 1.4826 ×
    MAD) (MAD = median absolute deviation of those days from their median).
    """
    per_day = daily.group_by("tier", "day").agg(pl.col("cost_usd").sum())
    every = per_day.group_by("day").agg(pl.col("cost_usd").sum()).with_columns(pl.lit("all").alias("tier"))
    days = pl.concat([per_day, every.select("tier", "day", "cost_usd")])
    last = pl.col("as_of").first()
    month_start = last.dt.month_start()
    recent = pl.col("cost_usd").filter(pl.col("day") > last - pl.duration(days=window_days))
    median = recent.median()
    mad = (recent - median).abs().median()
    remaining = (last.dt.month_end() - last).dt.total_days()
    return (days.with_columns(pl.col("day").max().alias("as_of"))
            .group_by("tier")
            .agg(last.alias("as_of"),
                 pl.col("cost_usd").filter(pl.col("day") >= month_start).sum().alias("month_to_date_usd"),
                 remaining.alias("remaining_days"),
                 median.alias("daily_median_usd"),
                 mad.alias("daily_mad_usd"))
            .with_columns(
                (pl.col("month_to_date_usd") + pl.col("remaining_days") * pl.col("daily_median_usd"))
                .alias("forecast_usd"),
                (pl.col("month_to_date_usd") + pl.col("remaining_days")
                 * (pl.col("daily_median_usd") - k * MAD_SCALE * pl.col("daily_mad_usd")).clip(lower_bound=0))
                .alias("forecast_low_usd"),
                (pl.col("month_to_date_usd") + pl.col("remaining_days")
                 * (pl.col("daily_median_usd") + k * MAD_SCALE * pl.col("daily_mad_usd"))).alias("forecast_high_usd"))
            .sort(pl.col("tier").replace_strict(ORDER, default=len(TIERS), return_dtype=pl.Int64)))
