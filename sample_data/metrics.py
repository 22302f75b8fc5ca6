"""GPU, queue, cache and network metrics per edge and cloud host, driven by the same load model as the spans."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class HostDay:
    """One host's points for one day: the scraped steps and, per step (and per GPU, step-major), what was read."""

    site: Site
    host: Host
    dcgm: bool
    t_ns: list[int]
    util: list[float]  # as exported: percent (DCGM) or fraction (hw.gpu), rounded
    mem_mib: list[int]
    depth: list[int]
    net_bytes: list[int]
    hits: list[int]  # cache hits per step (empty without a cache)
    lookups: list[int]  # cache lookups per step


def day_series(seed: int, day: int, t0_ns: int, days: int, weekday0: int, step_s: int) -> Iterator[HostDay]:
    """Every host that was scraped on day `day` of the window (points every `step_s` seconds), in registry order."""
    g = np.random.default_rng([seed, 2, day])
    steps = 86400 // step_s
    for site, host in all_hosts():
        shape = host_shape(site, host)
        gpu = GPUS[host.gpu]
        # one draw per step (and per GPU) for the whole day at once; unused draws keep the stream fixed
        zs = g.standard_normal((steps, host.gpu_count)) * 0.04
        ex = -np.log1p(-g.random(steps))
        ln = np.exp(0.1 * g.standard_normal(steps))
        cache = CACHES.get(site.site_id)
        hits_u = g.random(steps)
        ks: list[int] = []
        t_hs: list[float] = []
        us: list[float] = []
        hourly: dict[int, float] = {}
        for k in range(steps):
            t_h = day * 24 + k * step_s / 3600
            if site.site_id == "retail-store-12" and incident_active("edge-outage", t_h, days):
                continue  # the site is down: nothing is scraped
            if not host_running(host, shape, t_h):
                continue
            u = hourly.get(int(t_h))
            if u is None:
                u = hourly[int(t_h)] = utilization(host, shape, t_h, weekday0, days)
            ks.append(k)
            t_hs.append(t_h)
            us.append(u)
        if not ks:
            continue
        kk, u_a = np.array(ks), np.array(us)
        ug = np.clip(u_a[:, None] + zs[kk], 0.0, 1.0)
        util = [round(x * 100, 2) for x in ug.ravel().tolist()] if site.site_id in DCGM_SITES else \
            [round(x, 4) for x in ug.ravel().tolist()]
        starved = np.array([host.name.startswith("ip-10-42-4-") and incident_active("gpu-starved", t, days)
                            for t in t_hs], dtype=np.bool_)
        depth = ex[kk] * np.where(starved, 40.0, np.maximum(0.05, u_a / (1.0 - u_a)) * 2.0)
        hits: list[int] = []
        lookups: list[int] = []
        if cache:
            for k, t_h, u in zip(ks, t_hs, us, strict=True):
                rate = 0.04 if site.site_id == "cdn-pop-fra" and incident_active("cache-collapse", t_h, days) \
                    else cache[1]
                lookups.append(int(u * 120 * step_s / 60) + 1)
                hits.append(int(binom_ppf(float(hits_u[k]), lookups[-1], rate)))
        yield HostDay(site, host, site.site_id in DCGM_SITES, [t0_ns + int(t * 3600e9) for t in t_hs], util,
                      (gpu.memory_mib * (0.3 + 0.55 * ug)).astype(np.int64).ravel().tolist(),
                      depth.astype(np.int64).tolist(), (u_a * 2.5e6 * step_s * ln[kk]).astype(np.int64).tolist(),
                      hits, lookups)


def gpu_attrs(h: HostDay) -> list[list[dict[str, Any]]]:
    """The attributes of each GPU's points (DCGM labels or hw.* attributes)."""
    gpu = GPUS[h.host.gpu]
    if h.dcgm:
        return [[_attr("gpu", k), _attr("UUID", f"GPU-{h.host.name[-6:]}-{k:02d}"), _attr("modelName", gpu.name)]
                for k in range(h.host.gpu_count)]
    return [[_attr("hw.id", f"gpu{k}"), _attr("hw.name", gpu.name)] for k in range(h.host.gpu_count)]


NET_ATTRS = [_attr("network.io.direction", "transmit")]


def cache_attrs(h: HostDay) -> list[list[dict[str, Any]]]:
    """The attributes of a cache's hit and miss points."""
    name = CACHES[h.site.site_id][0] if h.site.site_id in CACHES else ""
    return [[_attr("tierwise.cache.name", name), {"key": "tierwise.cache.hit", "value": {"boolValue": hit}}]
            for hit in (True, False)]


def metric_names(h: HostDay) -> list[tuple[str, str]]:
    """(name, unit) of the host's metrics: utilization, memory, queue depth, network bytes, then cache lookups."""
    out = [("DCGM_FI_DEV_GPU_UTIL", "%") if h.dcgm else ("hw.gpu.utilization", "1"),
           ("DCGM_FI_DEV_FB_USED", "MiB") if h.dcgm else ("hw.gpu.memory.usage", "By"),
           ("tierwise.queue.depth", "{request}"), ("system.network.io", "By")]
    return out + [("tierwise.cache.lookups", "{lookup}")] if h.hits else out


def scope(h: HostDay) -> dict[str, str]:
    return {"name": "dcgm-exporter" if h.dcgm else "otelcol/hostmetricsreceiver", "version": "4.1.0"}


def json_doc(h: HostDay, step_s: int) -> dict[str, Any]:
    """The host's day as one OTLP/JSON MetricsData document."""
    ts = [str(t) for t in h.t_ns]
    starts = [str(t - step_s * 10**9) for t in h.t_ns]
    ga = gpu_attrs(h)
    n_gpu = len(ga)
    util = [{"timeUnixNano": ts[i // n_gpu], "asDouble": v, "attributes": ga[i % n_gpu]} for i, v in enumerate(h.util)]
    if h.dcgm:
        mem = [{"timeUnixNano": ts[i // n_gpu], "asDouble": float(m), "attributes": ga[i % n_gpu]}
               for i, m in enumerate(h.mem_mib)]
    else:
        mem = [{"timeUnixNano": ts[i // n_gpu], "asInt": str(m * 2**20), "attributes": ga[i % n_gpu]}
               for i, m in enumerate(h.mem_mib)]
    queue = [{"timeUnixNano": t, "asInt": str(d), "attributes": []} for t, d in zip(ts, h.depth, strict=True)]
    net = [{"startTimeUnixNano": s, "timeUnixNano": t, "asInt": str(n), "attributes": NET_ATTRS}
           for s, t, n in zip(starts, ts, h.net_bytes, strict=True)]
    (u_name, u_unit), (m_name, m_unit), *_ = metric_names(h)
    metrics = [_gauge(u_name, u_unit, util), _gauge(m_name, m_unit, mem), _gauge("tierwise.queue.depth", "{request}", queue),
               _counter("system.network.io", "By", net)]
    if h.hits:
        hit_a, miss_a = cache_attrs(h)
        pts = [{"startTimeUnixNano": s, "timeUnixNano": t, "asInt": str(n), "attributes": a}
               for s, t, hit, look in zip(starts, ts, h.hits, h.lookups, strict=True)
               for n, a in ((hit, hit_a), (look - hit, miss_a))]
        metrics.append(_counter("tierwise.cache.lookups", "{lookup}", pts))
    return {"resourceMetrics": [{"resource": _host_resource(h.site, h.host, h.dcgm),
                                 "scopeMetrics": [{"scope": scope(h), "metrics": metrics}]}]}


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
