"""SRE policy the analyses compare against: trust zones per data class, latency classes and configured budgets."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.settings import load_settings

# The seed roadmap's trust zones: which tiers each data class may reach (absent = anywhere).
DEFAULT_TRUST_ZONES: Mapping[str, tuple[str, ...]] = {
    "regulated": ("device", "edge"),
    "confidential": ("device", "edge", "regional"),
}

# The seed's latency classes, by budget: under EDGE_MAX_MS is edge territory, up to REGIONAL_MAX_MS regional,
# beyond that asynchronous work that hyperscale can serve. The seed leaves 50–100 ms open; it counts as regional.
EDGE_MAX_MS = 50.0
REGIONAL_MAX_MS = 300.0
LATENCY_CLASSES = ("<50 ms: edge", "100–300 ms: regional", "async: hyperscale")


@dataclass(frozen=True)
class Policy:
    """Trust zones (data class → allowed tiers) and per-workload budgets from config, in milliseconds."""

    trust_zones: Mapping[str, tuple[str, ...]]
    budgets_ms: Mapping[str, float]

    def tiers_param(self, data_class: str) -> str | None:
        """The comma-separated allowed tiers the SQL takes as a parameter; None = no restriction."""
        tiers = self.trust_zones.get(data_class)
        return None if tiers is None else ",".join(tiers)

    def budgets_param(self) -> str | None:
        """`workload=ms,…` for latency_budgets.sql; None when no budget is configured."""
        return ",".join(f"{k}={v:g}" for k, v in sorted(self.budgets_ms.items())) or None


def from_config(raw: Mapping[str, Any]) -> Policy:
    """A policy from a parsed tierwise.toml: `[trust_zones] regulated = ["device", "edge"]` replaces that class's
    default; `[latency_budgets] workload = 200` sets budgets for workloads whose spans declare none."""
    zones = dict(DEFAULT_TRUST_ZONES)
    for cls, tiers in dict(raw.get("trust_zones", {})).items():
        zones[str(cls)] = tuple(str(t) for t in tiers)
    budgets = {str(k): float(v) for k, v in dict(raw.get("latency_budgets", {})).items()}
    return Policy(zones, budgets)


def configured(config: Path | None = None) -> Policy:
    """The policy of the config file tierwise uses (TIERWISE_CONFIG or ./tierwise.toml), else the defaults."""
    path = config or load_settings().config_path
    if path is None or not path.is_file():
        return from_config({})
    return from_config(tomllib.loads(path.read_text(encoding="utf-8")))
