"""The sample estate's world: sites, hosts, GPUs, models, workloads and planted incidents (a frozen registry)."""

from __future__ import annotations

from dataclasses import dataclass

DEVICE_SKEW_MAX_MS = 2000.0


@dataclass(frozen=True)
class Gpu:
    """An accelerator and how fast it runs a model relative to the others (H100 = 8)."""

    name: str
    speed: float
    memory_mib: int
    hourly_usd: float  # on-demand price of one GPU-hour in the cloud (0 at the edge and on devices)


GPUS = {
    "H100": Gpu("NVIDIA H100 80GB HBM3", 8.0, 81559, 6.88),
    "A100": Gpu("NVIDIA A100 80GB PCIe", 5.0, 81920, 3.67),
    "L40S": Gpu("NVIDIA L40S", 4.0, 46068, 1.86),
    "L4": Gpu("NVIDIA L4", 2.0, 23034, 0.85),
    "ORIN": Gpu("NVIDIA Jetson AGX Orin", 0.7, 32768, 0.0),
    "NPU": Gpu("on-device NPU", 0.6, 8192, 0.0),
}


@dataclass(frozen=True)
class Host:
    """One GPU server (edge or cloud) as telemetry names it and as the bill names it."""

    name: str
    gpu: str
    gpu_count: int
    resource_id: str  # the cloud bill's resource id (instance id, ARM id, GCP global name); site id at the edge
    instance_type: str = ""
    always_on: bool = True  # False: billed only for the hours its batch or training job runs
    base_util: float = 0.45


@dataclass(frozen=True)
class Site:
    """A place where code runs: a device fleet, an edge micro data centre or a cloud region."""

    site_id: str
    tier: str
    kind: str  # fleet | factory | hospital | retail | telco | cdn | cloud
    provider: str = ""  # aws | azure | gcp for cloud sites
    region: str = ""
    hosts: tuple[Host, ...] = ()
    device_models: tuple[str, ...] = ()
    os_type: str = ""
    devices: int = 0  # devices simulated with their own resource and clock skew
    fleet_size: int = 0  # devices in the real fleet (rate card)


def _aws(n: int, itype: str, gpu: str, count: int, *, always_on: bool = True, util: float = 0.5) -> Host:
    return Host(f"ip-10-42-{n}-17.ec2.internal", gpu, count, f"i-0{n:02d}7c3e5a9b1d2f4{n:02d}", itype, always_on, util)


def _azure(name: str, itype: str, gpu: str, count: int, util: float = 0.45) -> Host:
    rid = (f"/subscriptions/6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab/resourceGroups/rg-ai-weu/providers/"
           f"Microsoft.Compute/virtualMachines/{name}")
    return Host(name, gpu, count, rid, itype, True, util)


def _gcp(name: str, itype: str, gpu: str, count: int, util: float = 0.45) -> Host:
    return Host(name, gpu, count, f"//compute.googleapis.com/projects/acme-ai/zones/europe-west4-a/instances/{name}",
                itype, True, util)


def _edge(site: str, n: int, gpu: str, count: int, util: float = 0.4) -> tuple[Host, ...]:
    return tuple(Host(f"{site}-gpu{i + 1}", gpu, count, site, base_util=util) for i in range(n))


SITES: dict[str, Site] = {s.site_id: s for s in (
    Site("laptops-eu", "device", "fleet", device_models=("LENOVO 21NS", "MacBookPro18,3", "HP EliteBook 1040 G11"),
         os_type="windows", devices=48, fleet_size=6000),
    Site("phones-eu", "device", "fleet", device_models=("iPhone16,1", "Pixel 9", "SM-S921B"), os_type="ios",
         devices=48, fleet_size=20000),
    Site("kiosks-retail", "device", "fleet", device_models=("ELO-I3-22",), os_type="android", devices=36,
         fleet_size=900),
    Site("vehicles-eu", "device", "fleet", device_models=("ID7-ICAS3",), os_type="linux", devices=24,
         fleet_size=3000),
    Site("factory-plant-1", "edge", "factory", hosts=_edge("factory-plant-1", 2, "L4", 4, 0.55)),
    Site("hospital-central", "edge", "hospital", hosts=_edge("hospital-central", 1, "L40S", 2, 0.5)),
    Site("retail-store-07", "edge", "retail", hosts=_edge("retail-store-07", 1, "L4", 1, 0.35)),
    Site("retail-store-12", "edge", "retail", hosts=_edge("retail-store-12", 1, "L4", 1, 0.35)),
    Site("retail-store-23", "edge", "retail", hosts=_edge("retail-store-23", 1, "L4", 1, 0.35)),
    Site("telco-metro-1", "edge", "telco", hosts=_edge("telco-metro-1", 2, "L40S", 4, 0.5)),
    Site("cdn-pop-fra", "edge", "cdn", hosts=_edge("cdn-pop-fra", 1, "L4", 2, 0.3)),
    Site("cdn-pop-ams", "edge", "cdn", hosts=_edge("cdn-pop-ams", 1, "L4", 2, 0.3)),
    Site("westeurope", "regional", "cloud", "azure", "westeurope",
         (_azure("vm-weu-a100-01", "Standard_NC24ads_A100_v4", "A100", 1),
          _azure("vm-weu-a100-02", "Standard_NC24ads_A100_v4", "A100", 1))),
    Site("europe-west4", "regional", "cloud", "gcp", "europe-west4",
         (_gcp("gke-ew4-l4-pool-7f3a", "g2-standard-24", "L4", 2),
          _gcp("gke-ew4-l4-pool-9c1d", "g2-standard-24", "L4", 2))),
    Site("us-east-1", "hyperscale", "cloud", "aws", "us-east-1",
         (_aws(1, "p5.48xlarge", "H100", 8, util=0.55), _aws(2, "p5.48xlarge", "H100", 8, util=0.55),
          _aws(3, "g6e.12xlarge", "L40S", 4, util=0.4),
          _aws(4, "p4de.24xlarge", "A100", 8, always_on=False, util=0.8),
          _aws(5, "p5.48xlarge", "H100", 8, always_on=False, util=0.9))),
)}

STORES_WITH_EDGE = ("retail-store-07", "retail-store-12", "retail-store-23")
STORE_WITHOUT_EDGE = "retail-store-31"  # kiosks here have no edge node: escalations go straight to hyperscale
CDN_POPS = ("cdn-pop-fra", "cdn-pop-ams")

# Round-trip time between tiers in ms (median of the jitter distribution).
RTT_MS: dict[tuple[str, str], float] = {
    ("device", "edge"): 4.0, ("device", "regional"): 28.0, ("device", "hyperscale"): 96.0,
    ("edge", "regional"): 18.0, ("edge", "hyperscale"): 84.0, ("regional", "hyperscale"): 72.0,
    ("edge", "edge"): 2.0, ("regional", "regional"): 1.0, ("hyperscale", "hyperscale"): 0.8,
}


@dataclass(frozen=True)
class Model:
    """A model, its size and per-item compute cost; `kind` says whether it generates tokens."""

    name: str
    params_b: float
    kind: str  # llm | vision | speech | embedding


MODELS = {m.name: m for m in (
    Model("phi-4-mini-instruct-q4", 3.8, "llm"),
    Model("llama-3.2-1b-instruct-q4", 1.2, "llm"),
    Model("llama-3.1-8b-instruct", 8.0, "llm"),
    Model("llama-3.3-70b-instruct", 70.0, "llm"),
    Model("medgemma-27b-text-it", 27.0, "llm"),
    Model("whisper-large-v3", 1.55, "speech"),
    Model("whisper-large-v3-de-ft", 1.55, "speech"),
    Model("yolov8l-defects", 0.044, "vision"),
    Model("siglip-so400m", 0.4, "embedding"),
    Model("bge-m3", 0.57, "embedding"),
)}


@dataclass(frozen=True)
class Workload:
    """One AI service of the estate with its contract attributes and its share of traffic."""

    name: str
    wtype: str
    data_class: str
    pattern: str
    budget_ms: float
    share: float  # fraction of generated traces
    requests_per_day: float  # real requests the sample stands for (sets the sampling adjusted count)
    diurnal: str  # office | consumer | retail | factory | nightly


WORKLOADS = {w.name: w for w in (
    Workload("private-assistant", "inference", "confidential", "on-device-first", 1500, 0.16, 400_000, "office"),
    Workload("kiosk-copilot", "inference", "internal", "on-device-first", 200, 0.14, 120_000, "retail"),
    Workload("store-rag", "search", "internal", "cloud-trains-edge-serves", 400, 0.11, 60_000, "retail"),
    Workload("factory-vision", "inference", "internal", "edge-filters-cloud-decides", 100, 0.16, 2_000_000, "factory"),
    Workload("callcentre-stt", "inference", "confidential", "cloud-trains-edge-serves", 300, 0.12, 250_000, "office"),
    Workload("public-chat", "inference", "public", "cdn-assisted", 1200, 0.15, 900_000, "consumer"),
    Workload("medical-summarizer", "inference", "regulated", "cloud-trains-edge-serves", 4000, 0.05, 8_000, "office"),
    Workload("store-forecast", "feature", "internal", "edge-filters-cloud-decides", 2000, 0.03, 7_200, "retail"),
    Workload("doc-embedding-nightly", "embedding", "internal", "cloud-trains-edge-serves", 60_000, 0.04, 30_000,
             "nightly"),
    Workload("model-training", "training", "internal", "cloud-trains-edge-serves", 600_000, 0.02, 2_400, "nightly"),
    Workload("factory-finetune", "training", "internal", "cloud-trains-edge-serves", 600_000, 0.01, 480, "nightly"),
    Workload("usage-rollup", "batch", "internal", "cloud-trains-edge-serves", 120_000, 0.01, 96, "nightly"),
)}


@dataclass(frozen=True)
class Incident:
    """A planted problem: where, when (fractions of the window and hours) and what it does."""

    name: str
    workload: str
    site: str
    start_frac: float
    hours: float
    what: str


INCIDENTS = {i.name: i for i in (
    Incident("edge-outage", "kiosk-copilot", "retail-store-12", 0.30, 4.5,
             "retail-store-12 edge node down; kiosks fail over to hyperscale, store-rag to westeurope"),
    Incident("model-regression", "callcentre-stt", "telco-metro-1", 0.57, 1e6,
             "whisper-large-v3-de-ft (stt 2.4.0) replaces whisper-large-v3: compute time x1.8"),
    Incident("gpu-starved", "doc-embedding-nightly", "us-east-1", 0.67, 24 * 5,
             "slow object-store reads starve the embedding GPUs: utilization ~0.2, queue depth high"),
    Incident("cache-collapse", "public-chat", "cdn-pop-fra", 0.80, 1e6,
             "prompt template change: CDN semantic cache hit rate falls from ~0.45 to ~0.04"),
)}


def all_hosts() -> list[tuple[Site, Host]]:
    """Every GPU host of every edge and cloud site, in registry order."""
    return [(s, h) for s in SITES.values() for h in s.hosts]
