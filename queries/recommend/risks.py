"""The risks of each recommended move, from what the store and the config know: downtime (the scorecard's downtime
risk of the target option against today's), trust (the data class and whether the target is inside its zone) and
migration effort (what kind of change the move is; no effort figure is invented)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from queries.policy import Policy

SCHEMA = {"workload": pl.String, "from_tier": pl.String, "to_tier": pl.String, "rule": pl.String,
          "downtime_now_usd_month": pl.Float64, "downtime_after_usd_month": pl.Float64, "downtime": pl.String,
          "data_class": pl.String, "trust": pl.String, "migration": pl.String}


def _downtime(card: pl.DataFrame, workload: str, src: str, dst: str) -> tuple[float | None, float | None]:
    rows = card.filter((pl.col("workload") == workload) & (pl.col("from_tier") == src))
    now = rows.filter(pl.col("option_tier") == src)["downtime_risk_usd_month"]
    after = rows.filter(pl.col("option_tier") == dst)["downtime_risk_usd_month"]
    return (float(now.sum()) if now.len() else None), (float(after.sum()) if after.len() else None)


def downtime_text(now: float | None, after: float | None, currency: str = "USD") -> str:
    """The target's downtime risk per month against today's."""
    if now is None or after is None:
        return "not priced: the scorecard has no option for this portion"
    if abs(after - now) < 0.005:
        return f"unchanged: {after:,.2f} {currency}/month"
    return f"{after:,.2f} {currency}/month after, {now:,.2f} now ({after - now:+,.2f})"


def trust_text(data_class: str | None, dst: str, zones: Mapping[str, tuple[str, ...]]) -> str:
    """The data class and whether the target tier lies inside its trust zone."""
    if not data_class:
        return "data class not recorded: no trust zone to check"
    zone = zones.get(data_class)
    if zone is None:
        return f"{data_class}: no trust zone configured, any tier"
    inside = "inside" if dst in zone else "OUTSIDE"
    return f"{data_class}: {dst} {inside} its zone ({', '.join(zone)})"


def migration_text(src: str, dst: str, from_site: str | None, to_site: str | None, runs_there: bool) -> str:
    """What kind of change the move is, from its tiers and sites; no effort figure is made up."""
    if src == dst:
        if to_site is None or from_site == to_site:
            return "same tier and site → reconfigure in place"
        return f"same tier, another site ({to_site}) → redeploy there"
    if runs_there:
        return f"different tier → redeploy; the workload already runs on {dst}, so shift its traffic there"
    return f"different tier → redeploy and package for {dst}'s hardware (not running there today)"


def table(recs: pl.DataFrame, card: pl.DataFrame, inputs: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """One row per recommendation (recommend.as_frame rows), in its order."""
    out = []
    for r in recs.iter_rows(named=True):
        w, src, dst = str(r["workload"]), str(r["from_tier"]), str(r["to_tier"])
        now, after = _downtime(card, w, src, dst)
        mine = inputs.filter(pl.col("workload") == w)
        portion = mine.filter(pl.col("tier") == src)
        data_class = portion["data_class"][0] if portion.height else None
        runs_there = bool(mine.filter((pl.col("tier") == dst) & (pl.col("requests_adjusted").fill_null(0) > 0)).height)
        out.append({"workload": w, "from_tier": src, "to_tier": dst, "rule": r["rule"],
                    "downtime_now_usd_month": now, "downtime_after_usd_month": after,
                    "downtime": downtime_text(now, after), "data_class": data_class,
                    "trust": trust_text(data_class, dst, policy.trust_zones),
                    "migration": migration_text(src, dst, r.get("from_site"), r.get("to_site"), runs_there)})
    return pl.DataFrame(out, schema=SCHEMA)
