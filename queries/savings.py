"""Executive roll-ups: realised and projected savings of recommendations, and the payback of edge capacity."""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

AMORTIZATION_MONTHS = 36  # edge hardware is amortized over 36 months (sample_data/ratecard.py, docs/scorecard.md)


def rec_keys(recs: pl.DataFrame) -> pl.Expr:
    """Each recommendation's decisions key (queries/decisions.key): workload|from_tier|to_tier|rule."""
    return pl.concat_str("workload", "from_tier", "to_tier", "rule", separator="|")


def summary(recs: pl.DataFrame, accepted: Collection[str], dismissed: Collection[str] = ()) -> pl.DataFrame:
    """One row: how many recommendations (dismissed ones left out) and accepted, savings per month projected (every
    move not dismissed) and realised (accepted), value per month, how many cut p95 and the largest cut. Savings count
    only moves that lower cost."""
    saving = (-pl.col("delta_cost_usd_month")).clip(lower_bound=0)
    recs = recs.filter(~rec_keys(recs).is_in(list(dismissed)))
    is_accepted = rec_keys(recs).is_in(list(accepted))
    return recs.lazy().select(
        pl.len().cast(pl.Int64).alias("recommendations"),
        is_accepted.sum().cast(pl.Int64).alias("accepted"),
        saving.sum().cast(pl.Float64).alias("projected_savings_usd_month"),
        saving.filter(is_accepted).sum().cast(pl.Float64).alias("realised_savings_usd_month"),
        pl.col("value_usd_month").sum().cast(pl.Float64).alias("value_usd_month"),
        (pl.col("delta_p95_ms") < 0).sum().cast(pl.Int64).alias("latency_wins"),
        (-pl.col("delta_p95_ms")).clip(lower_bound=0).max().fill_null(0.0).cast(pl.Float64).alias("best_p95_cut_ms"),
    ).collect()


def edge_payback(card: pl.DataFrame, capex: pl.DataFrame, recs: pl.DataFrame,
                 months: int = AMORTIZATION_MONTHS) -> pl.DataFrame:
    """One row: edge hardware capex (amortization per month × months); what edge earns per month = cost the edge
    portions avoid against their cheapest other tier (scorecard, money only) + the value of recommendations moving
    work to edge (latency, compliance, money); payback months = capex ÷ that (None when edge earns nothing)."""
    edge = card.lazy().filter(pl.col("from_tier") == "edge")
    now = edge.filter(pl.col("is_current")).select("workload", "from_site", pl.col("total_usd_month").alias("now"))
    other = (edge.filter(~pl.col("is_current") & (pl.col("option_tier") != "edge"))
             .group_by("workload", "from_site").agg(pl.col("total_usd_month").min().alias("other")))
    avoided = now.join(other, on=["workload", "from_site"], nulls_equal=True) \
        .select((pl.col("other") - pl.col("now")).clip(lower_bound=0).sum().cast(pl.Float64).alias("avoided"))
    moves = recs.lazy().filter(pl.col("to_tier") == "edge") \
        .select(pl.col("value_usd_month").clip(lower_bound=0).sum().cast(pl.Float64).alias("moves"))
    total = capex.lazy().select((pl.col("amortization_usd_month").sum() * months).cast(pl.Float64).alias("capex"))
    earns = pl.col("avoided") + pl.col("moves")
    return (total.join(avoided, how="cross").join(moves, how="cross")
            .select(pl.col("capex").alias("edge_capex_usd"), pl.col("avoided").alias("edge_avoided_usd_month"),
                    pl.col("moves").alias("edge_moves_value_usd_month"),
                    pl.when(earns > 0).then(pl.col("capex") / earns).otherwise(None).alias("payback_months"))
            .collect())
