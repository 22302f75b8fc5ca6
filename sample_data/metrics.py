"""GPU, queue, cache and network metrics per edge and cloud host, driven by the same load model as the spans."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sample_data.estate import GPUS, Host, Site, all_hosts
from sample_data.physics import DIURNAL, Dice, incident_active, utilization

# Sites whose GPUs are scraped by NVIDIA's dcgm-exporter (percent, MiB); the rest use OTel hw.gpu.* (fraction, bytes).
DCGM_SITES = frozenset({"us-east-1", "europe-west4", "telco-metro-1", "cdn-pop-fra", "cdn-pop-ams"})
CACHES = {"cdn-pop-fra": ("cdn-semantic-cache", 0.45), "cdn-pop-ams": ("cdn-semantic-cache", 0.45),
          "retail-store-07": ("store-semantic-cache", 0.35), "retail-store-12": ("store-semantic-cache", 0.35),
          "retail-store-23": ("store-semantic-cache", 0.35)}
# Which traffic shape drives each host's load.
HOST_SHAPE = {"factory": "factory", "hospital": "office", "retail": "retail", "telco": "office", "cdn": "consumer"}


def host_shape(site: Site, host: Host) -> str:
    """The traffic shape that drives a host's load (batch and training hosts follow the nightly jobs)."""
    if not host.always_on or host.name.endswith("factory-plant-1-gpu2"):
        return "nightly"
    return HOST_SHAPE.get(site.kind, "consumer" if site.tier == "hyperscale" else "office")


def host_running(host: Host, shape: str, t_h: float) -> bool:
    """Batch hosts exist only while their nightly job runs (that is also when they are billed)."""
    return host.always_on or DIURNAL[shape][int(t_h) % 24] > 0


def _attr(k: str, v: Any) -> dict[str, Any]:
    if isinstance(v, str):
        return {"key": k, "value": {"stringValue": v}}
    return {"key": k, "value": {"intValue": str(v)}}


def _gauge(name: str, unit: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "unit": unit, "gauge": {"dataPoints": points}}


def _counter(name: str, unit: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "unit": unit, "sum": {"dataPoints": points, "aggregationTemporality": 1, "isMonotonic": True}}


def _host_resource(site: Site, host: Host, dcgm: bool) -> dict[str, Any]:
    attrs = [_attr("service.name", "dcgm-exporter" if dcgm else "otelcol-contrib"), _attr("tierwise.tier", site.tier),
             _attr("tierwise.site", site.site_id), _attr("host.name", host.name)]
    if site.provider:
        attrs += [_attr("cloud.provider", site.provider), _attr("cloud.region", site.region),
                  _attr("cloud.resource_id", host.resource_id)]
    return {"attributes": attrs}


def day_metrics(seed: int, day: int, t0_ns: int, days: int, weekday0: int, step_s: int) -> Iterator[dict[str, Any]]:
    """One MetricsData document per host for day `day` of the window (points every `step_s` seconds)."""
    d = Dice(seed, 2, day)
    steps = 86400 // step_s
    for site, host in all_hosts():
        shape = host_shape(site, host)
        dcgm = site.site_id in DCGM_SITES
        gpu = GPUS[host.gpu]
        util_pts: list[dict[str, Any]] = []
        mem_pts: list[dict[str, Any]] = []
        queue_pts: list[dict[str, Any]] = []
        net_pts: list[dict[str, Any]] = []
        cache_pts: list[dict[str, Any]] = []
        for k in range(steps):
            t_h = day * 24 + k * step_s / 3600
            t_ns = t0_ns + int(t_h * 3600e9)
            if site.site_id == "retail-store-12" and incident_active("edge-outage", t_h, days):
                continue  # the site is down: nothing is scraped
            if not host_running(host, shape, t_h):
                continue
            u = utilization(host, shape, t_h, weekday0, days)
            starved = host.name.startswith("ip-10-42-4-") and incident_active("gpu-starved", t_h, days)
            ts = str(t_ns)
            for g in range(host.gpu_count):
                ug = max(0.0, min(1.0, u + 0.04 * d.z()))
                mem_mib = int(gpu.memory_mib * (0.3 + 0.55 * ug))
                ga = [_attr("gpu", g), _attr("UUID", f"GPU-{host.name[-6:]}-{g:02d}"), _attr("modelName", gpu.name)]
                if dcgm:
                    util_pts.append({"timeUnixNano": ts, "asDouble": round(ug * 100, 2), "attributes": ga})
                    mem_pts.append({"timeUnixNano": ts, "asDouble": float(mem_mib), "attributes": ga})
                else:
                    ha = [_attr("hw.id", f"gpu{g}"), _attr("hw.name", gpu.name)]
                    util_pts.append({"timeUnixNano": ts, "asDouble": round(ug, 4), "attributes": ha})
                    mem_pts.append({"timeUnixNano": ts, "asInt": str(mem_mib * 2**20), "attributes": ha})
            depth = d.expo(40.0) if starved else d.expo(max(0.05, u / (1.0 - u)) * 2.0)
            queue_pts.append({"timeUnixNano": ts, "asInt": str(int(depth)), "attributes": []})
            start = str(t_ns - step_s * 10**9)
            net = int(u * 2.5e6 * step_s * d.lognorm(1.0, 0.1))
            net_pts.append({"startTimeUnixNano": start, "timeUnixNano": ts, "asInt": str(net),
                            "attributes": [_attr("network.io.direction", "transmit")]})
            if site.site_id in CACHES:
                name, rate = CACHES[site.site_id]
                if site.site_id == "cdn-pop-fra" and incident_active("cache-collapse", t_h, days):
                    rate = 0.04
                lookups = int(u * 120 * step_s / 60) + 1
                hits = sum(1 for _ in range(min(lookups, 200)) if d.u() < rate) * lookups // min(lookups, 200)
                for hit, n in ((True, hits), (False, lookups - hits)):
                    cache_pts.append({"startTimeUnixNano": start, "timeUnixNano": ts, "asInt": str(n),
                                      "attributes": [_attr("tierwise.cache.name", name),
                                                     {"key": "tierwise.cache.hit", "value": {"boolValue": hit}}]})
        if not queue_pts:
            continue
        metrics = [_gauge("DCGM_FI_DEV_GPU_UTIL" if dcgm else "hw.gpu.utilization", "%" if dcgm else "1", util_pts),
                   _gauge("DCGM_FI_DEV_FB_USED" if dcgm else "hw.gpu.memory.usage", "MiB" if dcgm else "By", mem_pts),
                   _gauge("tierwise.queue.depth", "{request}", queue_pts),
                   _counter("system.network.io", "By", net_pts)]
        if cache_pts:
            metrics.append(_counter("tierwise.cache.lookups", "{lookup}", cache_pts))
        scope = {"name": "dcgm-exporter" if dcgm else "otelcol/hostmetricsreceiver", "version": "4.1.0"}
        yield {"resourceMetrics": [{"resource": _host_resource(site, host, dcgm),
                                    "scopeMetrics": [{"scope": scope, "metrics": metrics}]}]}
