"""The tierwise data contract: attribute names, allowed values, tier derivation and metric aliases."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
ATTR_CLOUD_ZONE = "cloud.availability_zone"
ATTR_K8S_CLUSTER = "k8s.cluster.name"
ATTR_K8S_NODE = "k8s.node.name"
ATTR_OS_TYPE = "os.type"
ATTR_OS_NAME = "os.name"
ATTR_SDK_LANGUAGE = "telemetry.sdk.language"
ATTR_USER_AGENT = "user_agent.original"
ATTR_HOST_TYPE = "host.type"
ATTR_HOST_ID = "host.id"

ATTR_MODEL = ("gen_ai.request.model", "gen_ai.response.model")
ATTR_INPUT_TOKENS = "gen_ai.usage.input_tokens"
ATTR_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
ATTR_CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
ATTR_REQUEST_BYTES = "http.request.body.size"
ATTR_RESPONSE_BYTES = "http.response.body.size"

# Tier derivation (docs/data-contract.md, "Tier derivation"). The ClickHouse views repeat these rules in SQL
# (store/clickhouse/schema/0104_semconv_tier_rules.sql), so every regular expression below is written without
# backslashes and appears there verbatim (tests/test_tier_corpus.py checks it).
# Device: semconv has no `ios`/`android` os.type (iOS sends `darwin`, Android `linux`); the two are still honoured
# for telemetry that sets them by hand. Apple and Android SDKs name the OS in os.name.
DEVICE_OS_TYPES = frozenset({"ios", "android"})
DEVICE_OS_NAMES = frozenset({"ios", "ipados", "android", "watchos", "tvos", "visionos"})  # compared lowercased
DEVICE_ATTR_PREFIXES = ("device.", "browser.")
DEVICE_ATTRS = frozenset({"app.installation.id", "android.os.api_level"})
BROWSER_UA_PREFIX = "Mozilla/"  # user_agent.original on a resource comes from the browser detector
# webjs is only ever a browser; swift is a device unless os.type names a non-Apple OS (Swift on a Linux server).
# java is not a device signal: Android sends it too, exactly like a JVM server.
BROWSER_SDK_LANGUAGE = "webjs"
APPLE_SDK_LANGUAGE = "swift"
APPLE_OS_TYPE = "darwin"
# Cloud: attributes only a cloud resource detector (or a FaaS runtime) sets. cloud.region is not among them: the
# Consul detector writes its datacenter there and OpenShift its cloud name, so a region alone counts only when
# `[tiers] regions` lists it or it has the shape of an AWS or GCP region.
CLOUD_ATTRS = frozenset({ATTR_CLOUD_PROVIDER, ATTR_CLOUD_PLATFORM, ATTR_CLOUD_ZONE, "cloud.account.id",
                         "cloud.resource_id"})
CLOUD_ATTR_PREFIXES = ("faas.",)
AWS_REGION = "^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]+$"
GCP_REGION = ("^(us|europe|asia|australia|northamerica|southamerica|me|africa)-"
              "(north|south|east|west|central|northeast|northwest|southeast|southwest)[0-9]+$")
# Zone → region: AWS `us-east-1a`, local and wavelength zones `us-west-2-lax-1a`; GCP and Alibaba `us-central1-c`,
# `cn-hangzhou-h`; Azure (`eastus-1`) and Tencent (`ap-guangzhou-3`) only for those providers, since an AWS region
# misplaced in the zone attribute has the same shape. A bare Azure zone (`1`) names no region.
AWS_ZONE = "^([a-z]{2}(?:-[a-z]+)+-[0-9]+)(?:[a-z]|-[a-z0-9-]+)$"
LETTER_ZONE = "^([a-z]+(?:-[a-z]+)*[0-9]*)-[a-z]$"
NUMBER_ZONE = "^([a-z]+(?:-[a-z]+)*[0-9]*)-[0-9]+$"
NUMBER_ZONE_PROVIDERS = frozenset({"azure", "tencent_cloud"})
# Cloud host without any cloud.*: a machine type only clouds use (EC2 `g5.12xlarge`, GCE `n2-standard-4`, Azure
# `Standard_NC24ads_A100_v4`) or an EC2 instance ID. A system detector's host.id is a machine-id and never matches.
AWS_HOST_TYPE = "^[a-z][a-z0-9-]*[0-9][a-z0-9-]*[.](nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$"
GCP_HOST_TYPE = ("^[a-z]+[0-9]+[a-z]*-(standard|highmem|highcpu|megamem|ultramem|hypermem|highgpu|megagpu|ultragpu|"
                 "edgegpu|hightpu|medium|micro|small|custom)(-[0-9a-z]+)*$")
AZURE_HOST_TYPE = "^(Standard|Basic)_[A-Z][A-Za-z0-9_-]*$"
EC2_HOST_ID = "^i-[0-9a-f]{8}([0-9a-f]{9})?$"
CLOUD_HOST_TYPES = (AWS_HOST_TYPE, GCP_HOST_TYPE, AZURE_HOST_TYPE)
# tier_source: which rule decided (every value in docs/data-contract.md).
SOURCE_DECLARED = "declared"
SOURCE_DEVICE = "derived:device"
SOURCE_EDGE = "derived:edge-inventory"
SOURCE_CLOUD = "derived:cloud"
SOURCE_CLOUD_HOST = "derived:cloud-host"
SOURCE_UNKNOWN = "unknown"
TIER_SOURCES = (SOURCE_DECLARED, SOURCE_DEVICE, SOURCE_EDGE, SOURCE_CLOUD, SOURCE_CLOUD_HOST, SOURCE_UNKNOWN)

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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _matches(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and re.search(pattern, value) is not None


def zone_region(zone: Any, provider: Any = None) -> str | None:
    """The region a `cloud.availability_zone` lies in (`us-east-1a` → `us-east-1`, `us-central1-c` → `us-central1`),
    or None when the zone does not name one. GKE zonal clusters send only the zone."""
    if not isinstance(zone, str):
        return None
    patterns = (AWS_ZONE, LETTER_ZONE) + ((NUMBER_ZONE,) if provider in NUMBER_ZONE_PROVIDERS else ())
    for pattern in patterns:
        found = re.search(pattern, zone)
        if found:
            return found.group(1)
    return None


def cloud_region(attrs: Mapping[str, Any]) -> str | None:
    """`cloud.region`, else the region of `cloud.availability_zone`: what `[tiers] regions` is looked up with."""
    return _text(attrs.get(ATTR_CLOUD_REGION)) or zone_region(attrs.get(ATTR_CLOUD_ZONE), attrs.get(ATTR_CLOUD_PROVIDER))


def is_device(attrs: Mapping[str, Any]) -> bool:
    """Whether a resource is an app on a phone, tablet, watch, TV or in a browser (the SDKs' own attributes)."""
    os_name = attrs.get(ATTR_OS_NAME)
    language = attrs.get(ATTR_SDK_LANGUAGE)
    os_type = attrs.get(ATTR_OS_TYPE)
    return (os_type in DEVICE_OS_TYPES
            or (isinstance(os_name, str) and os_name.lower() in DEVICE_OS_NAMES)
            or any(k in DEVICE_ATTRS or k.startswith(DEVICE_ATTR_PREFIXES) for k in attrs)
            or (isinstance(attrs.get(ATTR_USER_AGENT), str) and attrs[ATTR_USER_AGENT].startswith(BROWSER_UA_PREFIX))
            or language == BROWSER_SDK_LANGUAGE
            or (language == APPLE_SDK_LANGUAGE and (os_type is None or os_type == APPLE_OS_TYPE)))


def is_edge(attrs: Mapping[str, Any], rules: TierRules) -> bool:
    """Whether configuration names the resource's host, cluster, node, site or platform as edge."""
    return (attrs.get(ATTR_HOST_NAME) in rules.edge_hosts
            or attrs.get(ATTR_K8S_CLUSTER) in rules.edge_hosts
            or attrs.get(ATTR_K8S_NODE) in rules.edge_hosts
            or attrs.get(ATTR_SITE) in rules.edge_sites
            or attrs.get(ATTR_CLOUD_PLATFORM) in rules.edge_platforms)


def derive_tier(attrs: Mapping[str, Any], rules: TierRules) -> tuple[str, str]:
    """The tier of a resource and the rule that decided it: (tier, tier_source).

    First match wins: declared `tierwise.tier`; device SDK attributes (before cloud, since a gateway Collector may
    stamp its own cloud.* onto device telemetry); configured edge hosts, clusters, nodes, sites or platforms; cloud
    detector attributes, or a region that is configured or cloud-shaped (tier per region, the zone's region when
    none is given); a cloud machine type or EC2 instance ID; else `unknown`.
    """
    declared = normalize_tier(attrs.get(ATTR_TIER))
    if declared is not None:
        return declared, SOURCE_DECLARED
    if is_device(attrs):
        return "device", SOURCE_DEVICE
    if is_edge(attrs, rules):
        return "edge", SOURCE_EDGE
    region = cloud_region(attrs)
    given = attrs.get(ATTR_CLOUD_REGION)
    if any(k in CLOUD_ATTRS or k.startswith(CLOUD_ATTR_PREFIXES) for k in attrs) or (
        given is not None and (any(name == region for name, _ in rules.region_tiers)
                               or _matches(AWS_REGION, given) or _matches(GCP_REGION, given))
    ):
        source = SOURCE_CLOUD
    elif any(_matches(p, attrs.get(ATTR_HOST_TYPE)) for p in CLOUD_HOST_TYPES) or _matches(EC2_HOST_ID,
                                                                                          attrs.get(ATTR_HOST_ID)):
        source = SOURCE_CLOUD_HOST
    else:
        return UNKNOWN_TIER, SOURCE_UNKNOWN
    configured = normalize_tier(rules.cloud_tier(region))
    return (configured, source) if configured else (UNKNOWN_TIER, SOURCE_UNKNOWN)
