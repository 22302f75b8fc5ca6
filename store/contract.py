"""The tierwise data contract: attribute names, allowed values, tier derivation and metric aliases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from store.settings import TierRules

TIERS = ("device", "edge", "regional", "hyperscale")
UNKNOWN_TIER = "unknown"
TIER_ALIASES = {"cloud": "hyperscale"}
DATA_CLASSES = ("public", "internal", "confidential", "regulated")
WORKLOAD_TYPES = ("inference", "training", "embedding", "search", "feature", "batch")
SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")

ATTR_TIER = "tierwise.tier"
ATTR_SITE = "tierwise.site"
ATTR_WORKLOAD = "tierwise.workload"
ATTR_DATA_CLASS = "tierwise.data_class"
ATTR_WORKLOAD_TYPE = "tierwise.workload.type"
ATTR_LATENCY_BUDGET_MS = "tierwise.latency_budget_ms"
ATTR_CACHE_HIT = "tierwise.cache.hit"
ATTR_CACHE_NAME = "tierwise.cache.name"

ATTR_SERVICE_NAME = "service.name"
ATTR_HOST_NAME = "host.name"
ATTR_CLOUD_PROVIDER = "cloud.provider"
ATTR_CLOUD_REGION = "cloud.region"
ATTR_CLOUD_PLATFORM = "cloud.platform"
ATTR_K8S_CLUSTER = "k8s.cluster.name"
ATTR_OS_TYPE = "os.type"

ATTR_MODEL = ("gen_ai.request.model", "gen_ai.response.model")
ATTR_INPUT_TOKENS = "gen_ai.usage.input_tokens"
ATTR_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
ATTR_CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
ATTR_REQUEST_BYTES = "http.request.body.size"
ATTR_RESPONSE_BYTES = "http.response.body.size"

DEVICE_OS_TYPES = frozenset({"ios", "android"})
DEVICE_ATTR_PREFIXES = ("device.", "browser.")
DEVICE_ATTRS = frozenset({"app.installation.id"})

# Prompt and completion text: dropped at decode time unless the user opts in (--store-content).
CONTENT_ATTRS = frozenset(
    {
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "llm.prompts",
        "llm.completions",
        "input.value",
        "output.value",
    }
)
CONTENT_ATTR_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.")
CONTENT_EVENT_NAMES = frozenset(
    {
        "gen_ai.content.prompt",
        "gen_ai.content.completion",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.system.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
    }
)


def is_content_attr(key: str) -> bool:
    """Whether an attribute carries prompt or completion text."""
    return key in CONTENT_ATTRS or key.startswith(CONTENT_ATTR_PREFIXES)


@dataclass(frozen=True)
class MetricAlias:
    """A metric tierwise understands by name, and how to bring it to the canonical unit."""

    canonical: str
    scale: float
    unit: str


METRIC_ALIASES: Mapping[str, MetricAlias] = {
    "hw.gpu.utilization": MetricAlias("gpu_utilization_ratio", 1.0, "1"),
    "DCGM_FI_DEV_GPU_UTIL": MetricAlias("gpu_utilization_ratio", 0.01, "1"),
    "hw.gpu.memory.usage": MetricAlias("gpu_memory_used_bytes", 1.0, "By"),
    "DCGM_FI_DEV_FB_USED": MetricAlias("gpu_memory_used_bytes", float(2**20), "By"),
    "DCGM_FI_DEV_FB_FREE": MetricAlias("gpu_memory_free_bytes", float(2**20), "By"),
    "hw.gpu.memory.limit": MetricAlias("gpu_memory_limit_bytes", 1.0, "By"),
    "tierwise.queue.depth": MetricAlias("queue_depth", 1.0, "{request}"),
}


def normalize_tier(value: Any) -> str | None:
    """A declared tier in canonical spelling, or None when it is not one of ours."""
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    low = TIER_ALIASES.get(low, low)
    return low if low in TIERS else None


def normalize_enum(value: Any, allowed: tuple[str, ...]) -> str | None:
    """A lowercase member of `allowed`, or None."""
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    return None


def derive_tier(attrs: Mapping[str, Any], rules: TierRules) -> tuple[str, str]:
    """The tier of a resource and how it was found: (tier, source).

    Order: declared `tierwise.tier`; device hints; configured edge hosts, sites or platforms;
    cloud provider or region (tier per configured region); else `unknown`.
    """
    declared = normalize_tier(attrs.get(ATTR_TIER))
    if declared is not None:
        return declared, "declared"
    if attrs.get(ATTR_OS_TYPE) in DEVICE_OS_TYPES or any(
        k in DEVICE_ATTRS or k.startswith(DEVICE_ATTR_PREFIXES) for k in attrs
    ):
        return "device", "derived:device"
    if (
        attrs.get(ATTR_HOST_NAME) in rules.edge_hosts
        or attrs.get(ATTR_K8S_CLUSTER) in rules.edge_hosts
        or attrs.get(ATTR_SITE) in rules.edge_sites
        or attrs.get(ATTR_CLOUD_PLATFORM) in rules.edge_platforms
    ):
        return "edge", "derived:edge-inventory"
    region = attrs.get(ATTR_CLOUD_REGION)
    if attrs.get(ATTR_CLOUD_PROVIDER) is not None or region is not None:
        configured = normalize_tier(rules.cloud_tier(region if isinstance(region, str) else None))
        return (configured, "derived:cloud") if configured else (UNKNOWN_TIER, "unknown")
    return UNKNOWN_TIER, "unknown"
