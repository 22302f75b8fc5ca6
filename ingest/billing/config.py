"""The `[costs]` table of tierwise.toml: which tag keys name a workload or a tier."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from store.settings import Settings

DEFAULT_WORKLOAD_TAGS = ("tierwise.workload", "tierwise_workload", "workload", "app", "application")
DEFAULT_TIER_TAGS = ("tierwise.tier", "tierwise_tier", "tier")


@dataclass(frozen=True)
class CostSettings:
    """Tag keys tried in order; the first present one wins."""

    workload_tags: tuple[str, ...] = DEFAULT_WORKLOAD_TAGS
    tier_tags: tuple[str, ...] = DEFAULT_TIER_TAGS


def cost_settings(settings: Settings) -> CostSettings:
    """Read `[costs] workload_tags = [...]` / `tier_tags = [...]` from the config file, else defaults."""
    if settings.config_path is None or not settings.config_path.is_file():
        return CostSettings()
    raw = tomllib.loads(settings.config_path.read_text(encoding="utf-8")).get("costs", {})
    return CostSettings(
        workload_tags=tuple(str(k) for k in raw.get("workload_tags", DEFAULT_WORKLOAD_TAGS)),
        tier_tags=tuple(str(k) for k in raw.get("tier_tags", DEFAULT_TIER_TAGS)),
    )
