"""GPU, queue, cache and network metrics per edge and cloud host, driven by the same load model as the spans."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from sample_data.estate import GPUS, Host, Site, all_hosts
from sample_data.physics import DIURNAL, incident_active, utilization

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
    g = np.random.default_rng([seed, 2, day])
    steps = 86400 // step_s
    for site, host in all_hosts():
        shape = host_shape(site, host)
        dcgm = site.site_id in DCGM_SITES
        gpu = GPUS[host.gpu]
        # one draw per step (and per GPU) for the whole day at once; unused draws keep the stream fixed
        zs = g.standard_normal((steps, host.gpu_count)) * 0.04
        ex = -np.log1p(-g.random(steps))
        ln = np.exp(0.1 * g.standard_normal(steps))
        cache = CACHES.get(site.site_id)
        hits_u = g.random(steps)
        if dcgm:
            gattrs = [[_attr("gpu", k), _attr("UUID", f"GPU-{host.name[-6:]}-{k:02d}"), _attr("modelName", gpu.name)]
                      for k in range(host.gpu_count)]
        else:
            gattrs = [[_attr("hw.id", f"gpu{k}"), _attr("hw.name", gpu.name)] for k in range(host.gpu_count)]
        util_pts: list[dict[str, Any]] = []
        mem_pts: list[dict[str, Any]] = []
        queue_pts: list[dict[str, Any]] = []
        net_pts: list[dict[str, Any]] = []
        cache_pts: list[dict[str, Any]] = []
        hourly: dict[int, float] = {}
        net_attrs = [_attr("network.io.direction", "transmit")]
        cache_attrs = {hit: [_attr("tierwise.cache.name", cache[0] if cache else ""),
                             {"key": "tierwise.cache.hit", "value": {"boolValue": hit}}] for hit in (True, False)}
        for k in range(steps):
            t_h = day * 24 + k * step_s / 3600
            t_ns = t0_ns + int(t_h * 3600e9)
            if site.site_id == "retail-store-12" and incident_active("edge-outage", t_h, days):
                continue  # the site is down: nothing is scraped
            if not host_running(host, shape, t_h):
                continue
            u = hourly.get(int(t_h))
            if u is None:
                u = hourly[int(t_h)] = utilization(host, shape, t_h, weekday0, days)
            starved = host.name.startswith("ip-10-42-4-") and incident_active("gpu-starved", t_h, days)
            ts = str(t_ns)
            for gi, ga in enumerate(gattrs):
                ug = max(0.0, min(1.0, u + float(zs[k, gi])))
                mem_mib = int(gpu.memory_mib * (0.3 + 0.55 * ug))
                if dcgm:
                    util_pts.append({"timeUnixNano": ts, "asDouble": round(ug * 100, 2), "attributes": ga})
                    mem_pts.append({"timeUnixNano": ts, "asDouble": float(mem_mib), "attributes": ga})
                else:
                    util_pts.append({"timeUnixNano": ts, "asDouble": round(ug, 4), "attributes": ga})
                    mem_pts.append({"timeUnixNano": ts, "asInt": str(mem_mib * 2**20), "attributes": ga})
            depth = float(ex[k]) * (40.0 if starved else max(0.05, u / (1.0 - u)) * 2.0)
            queue_pts.append({"timeUnixNano": ts, "asInt": str(int(depth)), "attributes": []})
            start = str(t_ns - step_s * 10**9)
            net = int(u * 2.5e6 * step_s * float(ln[k]))
            net_pts.append({"startTimeUnixNano": start, "timeUnixNano": ts, "asInt": str(net),
                            "attributes": net_attrs})
            if cache:
                name, rate = cache
                if site.site_id == "cdn-pop-fra" and incident_active("cache-collapse", t_h, days):
                    rate = 0.04
                lookups = int(u * 120 * step_s / 60) + 1
                hits = int(binom_ppf(float(hits_u[k]), lookups, rate))
                for hit, n in ((True, hits), (False, lookups - hits)):
                    cache_pts.append({"startTimeUnixNano": start, "timeUnixNano": ts, "asInt": str(n),
                                      "attributes": cache_attrs[hit]})
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


def binom_ppf(q: float, n: int, p: float) -> int:
    """Hits among `n` lookups with hit rate `p` at quantile `q` (normal approximation, clamped to 0..n)."""
    sd = math.sqrt(n * p * (1.0 - p))
    z = math.sqrt(2.0) * _erfinv(2.0 * q - 1.0)
    return max(0, min(n, round(n * p + z * sd)))


def _erfinv(y: float) -> float:
    """Inverse error function (Giles' single-precision approximation; plenty for sampled counts)."""
    y = max(-0.999999, min(0.999999, y))
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        c = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
             -0.00417768164, 0.246640727, 1.50140941)
    else:
        w = math.sqrt(w) - 3.0
        c = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
             0.00943887047, 1.00167406, 2.83297682)
    r = c[0]
    for x in c[1:]:
        r = r * w + x
    return r * y
