"""Executive roll-ups: realised and projected savings of recommendations, and the payback of edge capacity."""

from __future__ import annotations

from collections.abc import Collection, Mapping

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
    """One row, money only: edge hardware capex (amortization per month × months); the cost edge avoids per month =
    what the edge portions would cost more on their cheapest other tier (scorecard) + what the recommended moves to
    edge save (−Δcost of those that lower cost); payback months = capex ÷ avoided (None when edge avoids nothing).
    The priced value of the moves to edge (latency, compliance; value − savings) is given apart and never counted."""
    edge = card.lazy().filter(pl.col("from_tier") == "edge")
    now = edge.filter(pl.col("is_current")).select("workload", "from_site", pl.col("total_usd_month").alias("now"))
    other = (edge.filter(~pl.col("is_current") & (pl.col("option_tier") != "edge"))
             .group_by("workload", "from_site").agg(pl.col("total_usd_month").min().alias("other")))
    avoided = now.join(other, on=["workload", "from_site"], nulls_equal=True) \
        .select((pl.col("other") - pl.col("now")).clip(lower_bound=0).sum().cast(pl.Float64).alias("portions"))
    to_edge = recs.lazy().filter(pl.col("to_tier") == "edge")
    moves = to_edge.select(
        (-pl.col("delta_cost_usd_month")).clip(lower_bound=0).sum().cast(pl.Float64).alias("moves"),
        (pl.col("value_usd_month") + pl.col("delta_cost_usd_month")).clip(lower_bound=0).sum().cast(pl.Float64)
        .alias("gains"))
    total = capex.lazy().select(pl.col("amortization_usd_month").sum().cast(pl.Float64).alias("amortization"))
    avoided_all = pl.col("portions") + pl.col("moves")
    capex_usd = pl.col("amortization") * months
    return (total.join(avoided, how="cross").join(moves, how="cross")
            .select(capex_usd.alias("edge_capex_usd"), pl.col("amortization").alias("edge_amortization_usd_month"),
                    pl.lit(months, pl.Int64).alias("amortization_months"),
                    pl.col("portions").alias("edge_avoided_usd_month"),
                    pl.col("moves").alias("edge_moves_saving_usd_month"),
                    avoided_all.alias("avoided_usd_month"),
                    pl.when(avoided_all > 0).then(capex_usd / avoided_all).otherwise(None).alias("payback_months"),
                    pl.col("gains").alias("edge_moves_value_usd_month"))
            .collect())


def payback_formula(row: Mapping[str, object], currency: str = "USD") -> str:
    """The payback in words, with its formula and inputs (an edge_payback row)."""
    def money(key: str) -> str:
        value = row.get(key)
        return f"{float(value):,.2f} {currency}" if isinstance(value, int | float) else "–"

    months = row.get("payback_months")
    result = (f"{float(months):,.1f} months" if isinstance(months, int | float)
              else "never: edge avoids no cost at today's use")
    return (f"payback = capex ÷ monthly avoided cost = {money('edge_capex_usd')} "
            f"({money('edge_amortization_usd_month')}/month amortization × {row.get('amortization_months')} months) ÷ "
            f"{money('avoided_usd_month')}/month = {result}. Avoided: the edge portions' cost on their cheapest other "
            f"tier minus on edge ({money('edge_avoided_usd_month')}/month) + the money the recommended moves to edge "
            f"save ({money('edge_moves_saving_usd_month')}/month). Money only: the moves' latency and compliance "
            f"value is not counted.")
