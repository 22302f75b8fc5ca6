"""The one place that reads tierwise settings from flags, environment and the config file."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.map_rules import Rule, parse

DEFAULT_DB = "tierwise.duckdb"
DEFAULT_CONFIG = "tierwise.toml"
ENV_DB = "TIERWISE_DB"
ENV_CONFIG = "TIERWISE_CONFIG"
ENV_TOKEN = "TIERWISE_TOKEN"
ENV_STORE_CONTENT = "TIERWISE_STORE_CONTENT"
ENV_BATCH_BYTES = "TIERWISE_BATCH_BYTES"
ENV_COMMIT_SPANS = "TIERWISE_COMMIT_SPANS"  # spans one ingest transaction gathers from consecutive batches
ENV_WRITER_MEMORY = "TIERWISE_WRITER_MEMORY"  # DuckDB memory_limit of the writing connection, e.g. 512MB or 2GB
ENV_ENGINE = "TIERWISE_ENGINE"  # duckdb (default) | clickhouse: where queries run
ENV_CLICKHOUSE_URL = "TIERWISE_CLICKHOUSE_URL"  # chdb:///dir or clickhouse://user@host:8123/db (no password)
ENV_CLICKHOUSE_PASSWORD = "TIERWISE_CLICKHOUSE_PASSWORD"  # never part of a URL, a log line or Settings' repr
ENGINES = ("duckdb", "clickhouse")
DEFAULT_BATCH_BYTES = 16 * 1024 * 1024
# Rows one ingest transaction gathers: each transaction's fixed costs (the roll-up MERGE, the link-map upserts, the
# WAL and its checkpoint) spread over ~100k rows cost 40 % less CPU than per 16 MiB batch; larger groups gain
# nothing more and raise peak memory (docs/benchmarks/history/ingest.md, Round 4)
DEFAULT_COMMIT_SPANS = 100_000
DEFAULT_WRITER_MEMORY = "512MB"  # keeps a 1M-span JSON ingest under 1 GB peak RSS (docs/benchmarks.md, Ingest)
# The receiver's fold (`tierwise receive --fold-memory`): with its 64 MiB in-flight budget and one decoder process it
# peaked at 1,033 MiB of RSS in 300 s under load with 512MB, 866 MiB with this, as fast (docs/benchmarks.md).
DEFAULT_FOLD_MEMORY = "320MB"


@dataclass(frozen=True)
class TierRules:
    """How a tier is derived when telemetry does not declare `tierwise.tier`."""

    edge_hosts: frozenset[str] = frozenset()
    edge_sites: frozenset[str] = frozenset()
    edge_platforms: frozenset[str] = frozenset()
    region_tiers: tuple[tuple[str, str], ...] = ()
    default_cloud_tier: str = "hyperscale"

    def cloud_tier(self, region: str | None) -> str:
        """The tier configured for a cloud region, else the default cloud tier."""
        for name, tier in self.region_tiers:
            if name == region:
                return tier
        return self.default_cloud_tier


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with `load_settings`."""

    db_path: Path = Path(DEFAULT_DB)
    config_path: Path | None = None
    tier_rules: TierRules = field(default_factory=TierRules)
    store_content: bool = False
    token: str | None = None
    max_attribute_bytes: int = 256 * 1024
    batch_bytes: int = DEFAULT_BATCH_BYTES  # records per ingest batch (the unit of resume), by payload size
    commit_spans: int = DEFAULT_COMMIT_SPANS  # a transaction commits once its batches hold this many spans (1: each)
    # DuckDB's own default is 80 % of RAM; a writer needs far less (batches are bounded), so its cache stays small
    writer_memory: str = DEFAULT_WRITER_MEMORY
    engine: str = "duckdb"  # where queries run: the DuckDB store or ClickHouse at clickhouse_url
    clickhouse_url: str | None = None
    map_rules: tuple[Rule, ...] = ()  # [[map]]: tier, site, workload and data class of spans and metric points
    cost_rules: tuple[Rule, ...] = ()  # [[cost_map]]: workload, tier and site of ledger rows


def memory_size(value: object, where: str = f"writer memory (from {ENV_WRITER_MEMORY} or [ingest] writer_memory)") -> str:
    """A DuckDB memory size such as 512MB, 1.5GB or 2GiB; anything else is refused here, not inside SQL."""
    text = str(value).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text, re.IGNORECASE):
        raise ValueError(f"{where}: {text!r} is not a size; use e.g. 512MB")
    return text


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _tier_rules(raw: dict[str, Any]) -> TierRules:
    tiers = raw.get("tiers", {})
    regions = tiers.get("regions", {})
    return TierRules(
        edge_hosts=frozenset(tiers.get("edge_hosts", [])),
        edge_sites=frozenset(tiers.get("edge_sites", [])),
        edge_platforms=frozenset(tiers.get("edge_platforms", [])),
        region_tiers=tuple(sorted((str(k), str(v)) for k, v in regions.items())),
        default_cloud_tier=str(tiers.get("default_cloud_tier", "hyperscale")),
    )


def load_settings(
    db: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    store_content: bool | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
    engine: str | None = None,
    clickhouse_url: str | None = None,
) -> Settings:
    """Resolve settings: explicit argument, else environment, else default.

    The config file is TOML (`tierwise.toml` in the working directory when present);
    its `[tiers]` table feeds the tier derivation rules described in docs/data-contract.md.
    """
    environ = os.environ if env is None else env
    db_path = Path(db or environ.get(ENV_DB) or DEFAULT_DB)
    config_path: Path | None = None
    if config or environ.get(ENV_CONFIG):
        config_path = Path(config or environ[ENV_CONFIG])
    elif Path(DEFAULT_CONFIG).is_file():
        config_path = Path(DEFAULT_CONFIG)
    raw: dict[str, Any] = {}
    if config_path is not None:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    chosen = (engine or environ.get(ENV_ENGINE) or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise ValueError(f"unknown engine {chosen!r} (from --engine or {ENV_ENGINE}): use one of {', '.join(ENGINES)}")
    return Settings(
        db_path=db_path,
        config_path=config_path,
        tier_rules=_tier_rules(raw),
        store_content=_truthy(environ.get(ENV_STORE_CONTENT)) if store_content is None else store_content,
        token=token or environ.get(ENV_TOKEN) or None,
        max_attribute_bytes=int(raw.get("ingest", {}).get("max_attribute_bytes", 256 * 1024)),
        batch_bytes=max(1, int(environ.get(ENV_BATCH_BYTES) or raw.get("ingest", {}).get("batch_bytes", DEFAULT_BATCH_BYTES))),
        commit_spans=max(1, int(environ.get(ENV_COMMIT_SPANS)
                                or raw.get("ingest", {}).get("commit_spans", DEFAULT_COMMIT_SPANS))),
        writer_memory=memory_size(environ.get(ENV_WRITER_MEMORY) or raw.get("ingest", {}).get("writer_memory")
                              or DEFAULT_WRITER_MEMORY),
        engine=chosen,
        clickhouse_url=clickhouse_url or environ.get(ENV_CLICKHOUSE_URL) or None,
        map_rules=parse(raw.get("map"), "map", str(config_path)),
        cost_rules=parse(raw.get("cost_map"), "cost_map", str(config_path)),
    )


def clickhouse_password(env: Mapping[str, str] | None = None) -> str:
    """The ClickHouse server password (empty when unset); read only when a server connection is opened."""
    return (os.environ if env is None else env).get(ENV_CLICKHOUSE_PASSWORD, "")


def current_settings() -> Settings:
    """load_settings() from the environment and the working directory, parsed again only when either changes.

    For long-running readers (the dashboard asks for settings several times per page run).
    """
    config = os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG
    try:
        stat = os.stat(config)
        stamp: tuple[int, int] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (-1, -1)
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("TIERWISE_")))
    return _cached_settings(env, os.getcwd(), config, stamp)


@functools.lru_cache(maxsize=8)
def _cached_settings(env: tuple[tuple[str, str], ...], cwd: str, config: str, stamp: tuple[int, int]) -> Settings:
    return load_settings()
