"""Five-factor placement scorecard: compute, storage, egress, operations and downtime risk in USD/month per option."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from store.contract import TIERS
from store.settings import load_settings

RANK = {tier: i for i, tier in enumerate(TIERS)}  # options sort in contract order
HOURS_PER_MONTH = 730.0
# Relative accelerator speed per tier's typical hardware class (the generator's physics: NPU 0.6, L4 2, L40S 4,
# A100 5, H100 8); compute seconds move between tiers scaled by speed[from] / speed[to].
DEFAULT_SPEED: Mapping[str, float] = {"device": 0.6, "edge": 3.0, "regional": 5.0, "hyperscale": 8.0}
# Availability when no rate card states `sla_availability`: device fleets, single edge racks, cloud SLAs.
DEFAULT_SLA: Mapping[str, float] = {"device": 0.99, "edge": 0.995, "regional": 0.999, "hyperscale": 0.9995}
DEFAULT_DOWNTIME_USD_PER_HOUR = 500.0
FACTORS = ("compute_usd_month", "storage_usd_month", "egress_usd_month", "operations_usd_month",
           "downtime_risk_usd_month")


@dataclass(frozen=True)
class ScorecardConfig:
    """Knobs from tierwise.toml: `[scorecard]` defaults and `[workloads.<name>] downtime_cost_usd_per_hour`."""

    downtime_usd_per_hour: float = DEFAULT_DOWNTIME_USD_PER_HOUR
    workload_downtime_usd_per_hour: Mapping[str, float] = field(default_factory=dict)
    sla: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA))
    speed: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEED))

    def downtime_cost(self, workload: str) -> float:
        return self.workload_downtime_usd_per_hour.get(workload, self.downtime_usd_per_hour)


def config_from(raw: Mapping[str, Any]) -> ScorecardConfig:
    """A ScorecardConfig from a parsed tierwise.toml (absent keys keep the documented defaults)."""
    sc = dict(raw.get("scorecard", {}))
    per = {str(k): float(v["downtime_cost_usd_per_hour"]) for k, v in dict(raw.get("workloads", {})).items()
           if isinstance(v, Mapping) and "downtime_cost_usd_per_hour" in v}
    return ScorecardConfig(float(sc.get("downtime_cost_usd_per_hour", DEFAULT_DOWNTIME_USD_PER_HOUR)), per,
                           {**DEFAULT_SLA, **{str(k): float(v) for k, v in dict(sc.get("sla", {})).items()}},
                           {**DEFAULT_SPEED, **{str(k): float(v) for k, v in dict(sc.get("speed", {})).items()}})


def configured(config: Path | None = None) -> ScorecardConfig:
    """The scorecard config of the file tierwise uses (TIERWISE_CONFIG or ./tierwise.toml), else defaults."""
    path = config or load_settings().config_path
    if path is None or not path.is_file():
        return ScorecardConfig()
    return config_from(tomllib.loads(path.read_text(encoding="utf-8")))


def _per_month(col: str) -> pl.Expr:
    """Observed money over the billed days, scaled to a 730-hour month."""
    return pl.col(col) * HOURS_PER_MONTH / (24.0 * pl.max_horizontal(pl.col("cost_days"), 1))


def tier_units(inputs: pl.LazyFrame, cfg: ScorecardConfig) -> pl.LazyFrame:
    """Per tier: USD per GPU-second, per egress GB, operations as a share of compute, and SLA (observed or default)."""
    with_gpu = pl.col("gpu_seconds") > 0
    units = inputs.group_by("tier").agg(
        (pl.col("compute_usd").filter(with_gpu).sum() / pl.col("gpu_seconds").filter(with_gpu).sum())
        .alias("usd_per_gpu_second"),
        (pl.col("egress_usd").sum() / pl.col("egress_gb").sum()).alias("usd_per_egress_gb"),
        (pl.col("operations_usd").sum() / pl.col("compute_usd").sum()).alias("operations_ratio"),
        pl.col("sla_ratio").median().alias("observed_sla_ratio"),
    )
    defaults = pl.LazyFrame({"tier": list(TIERS), "default_sla_ratio": [cfg.sla.get(t, 0.999) for t in TIERS],
                             "speed": [cfg.speed.get(t, 1.0) for t in TIERS]})
    clean = [pl.when(pl.col(c).is_finite()).then(pl.col(c)).otherwise(0.0).alias(c)
             for c in ("usd_per_gpu_second", "usd_per_egress_gb", "operations_ratio")]
    return (defaults.join(units, on="tier", how="left")
            .with_columns(*clean, pl.coalesce("observed_sla_ratio", "default_sla_ratio").alias("sla_ratio"))
            .select("tier", "speed", "usd_per_gpu_second", "usd_per_egress_gb", "operations_ratio", "sla_ratio"))


def scorecard(inputs: pl.LazyFrame, cfg: ScorecardConfig) -> pl.LazyFrame:
    """One row per workload, current tier portion (`from_tier`) and placement option: the five factors in USD/month.

    The option equal to from_tier is the current placement, from the ledger (compute priced from GPU-seconds when the
    ledger links none to this workload). Other options price the same work at that tier's observed unit costs:
    GPU-seconds × speed ratio × USD per GPU-second, egress GB × USD per GB, operations as the tier's share of compute;
    storage keeps its observed cost. Downtime risk = (1 − SLA) × 730 h × the workload's cost of an hour down.
    """
    units = tier_units(inputs, cfg)
    months = HOURS_PER_MONTH / (24.0 * pl.max_horizontal(pl.col("span_days"), 1))
    down = pl.col("workload").replace_strict(dict(cfg.workload_downtime_usd_per_hour), default=cfg.downtime_usd_per_hour,
                                             return_dtype=pl.Float64)
    base = (inputs.filter(pl.col("tier").is_in(TIERS)).rename({"sla_ratio": "site_sla_ratio"})
            .join(units.select("tier", pl.col("speed").alias("from_speed"),
                               pl.col("usd_per_gpu_second").alias("from_usd_per_gpu_second")), on="tier")
            .rename({"tier": "from_tier", "site": "from_site"}))
    options = base.join(units.rename({"tier": "option_tier"}), how="cross")
    current = pl.col("option_tier") == pl.col("from_tier")
    moved_gpu_s = pl.col("gpu_seconds") * pl.col("from_speed") / pl.col("speed")
    observed_compute = _per_month("compute_usd")
    compute_now = pl.when(observed_compute > 0).then(observed_compute).otherwise(
        pl.col("gpu_seconds") * pl.col("from_usd_per_gpu_second") * months)
    compute_alt = pl.when(pl.col("gpu_seconds") > 0).then(moved_gpu_s * pl.col("usd_per_gpu_second") * months) \
        .otherwise(observed_compute)
    sla = pl.when(current & pl.col("site_sla_ratio").is_not_null()).then(pl.col("site_sla_ratio")) \
        .otherwise(pl.col("sla_ratio"))
    return (options.with_columns(
                current.alias("is_current"),
                pl.when(current).then(compute_now).otherwise(compute_alt).alias("compute_usd_month"),
                _per_month("storage_usd").alias("storage_usd_month"),
                pl.when(current).then(_per_month("egress_usd"))
                .otherwise(pl.col("egress_gb") * pl.col("usd_per_egress_gb") * months).alias("egress_usd_month"),
                sla.alias("option_sla_ratio"))
            .with_columns(
                pl.when(current & (_per_month("operations_usd") > 0)).then(_per_month("operations_usd"))
                .otherwise(pl.col("compute_usd_month") * pl.col("operations_ratio")).alias("operations_usd_month"),
                ((1 - pl.col("option_sla_ratio")) * HOURS_PER_MONTH * down).alias("downtime_risk_usd_month"))
            .with_columns(pl.sum_horizontal(*FACTORS).alias("total_usd_month"))
            .select("workload", "workload_type", "data_class", "budget_ms", "from_tier", "from_site", "option_tier",
                    "is_current", *FACTORS, "total_usd_month", "option_sla_ratio", "gpu_seconds", "egress_gb",
                    "requests_adjusted")
            .sort("workload", pl.col("from_tier").replace_strict(RANK), pl.col("option_tier").replace_strict(RANK)))

