"""The committed sample's metrics: the one-point-at-a-time draws that produced sample_data/committed/ (kept verbatim)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sample_data.estate import GPUS, all_hosts
from sample_data.metrics import CACHES, DCGM_SITES, _attr, _counter, _gauge, _host_resource, host_running, host_shape
from sample_data.physics import Dice, incident_active, utilization


def day_metrics_legacy(seed: int, day: int, t0_ns: int, days: int, weekday0: int, step_s: int) -> Iterator[dict[str, Any]]:
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
