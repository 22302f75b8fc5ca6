"""The estate's physics: seeded randomness, network time by tier distance, compute by model and GPU, load and queueing."""

from __future__ import annotations

import math

import numpy as np

from sample_data.estate import GPUS, INCIDENTS, Host, Model, Workload, rtt_ms

POOL = 1 << 15

# Relative traffic by hour of day (UTC) and by weekday (Monday first), per traffic shape.
DIURNAL: dict[str, tuple[float, ...]] = {
    "office": (0.05, 0.04, 0.04, 0.05, 0.1, 0.3, 0.7, 1.2, 1.6, 1.8, 1.8, 1.7, 1.4, 1.6, 1.7, 1.6, 1.4, 1.0, 0.6,
               0.4, 0.3, 0.2, 0.1, 0.07),
    "consumer": (0.3, 0.2, 0.15, 0.12, 0.12, 0.2, 0.4, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.2, 1.2, 1.3, 1.4, 1.6,
                 1.8, 1.9, 1.7, 1.2, 0.6),
    "retail": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.5, 1.0, 1.4, 1.6, 1.8, 1.9, 1.8, 1.7, 1.7, 1.8, 1.9, 1.6, 1.0,
               0.4, 0.05, 0.0, 0.0),
    "factory": (0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 1.0, 1.0,
                1.0, 0.9, 0.8, 0.8),
    "nightly": (1.0, 3.0, 3.0, 3.0, 3.0, 2.0, 0.5, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 0.2),
}
WEEKLY: dict[str, tuple[float, ...]] = {
    "office": (1.0, 1.05, 1.05, 1.0, 0.9, 0.25, 0.15),
    "consumer": (0.9, 0.9, 0.95, 1.0, 1.1, 1.25, 1.2),
    "retail": (0.8, 0.8, 0.85, 0.9, 1.1, 1.5, 0.9),
    "factory": (1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.4),
    "nightly": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
PEAK = {k: max(v) * max(WEEKLY[k]) for k, v in DIURNAL.items()}


class Dice:
    """Seeded random draws served from numpy pools (fast per draw, byte-identical for one seed)."""

    def __init__(self, seed: int, *stream: int) -> None:
        self.gen = np.random.default_rng([seed, *stream])
        self._refill()

    def _refill(self) -> None:
        self.us: list[float] = self.gen.random(POOL).tolist()
        self.zs: list[float] = self.gen.standard_normal(POOL).tolist()
        self.hex = self.gen.bytes(8 * POOL).hex()
        self.iu = self.iz = self.ih = 0

    def u(self) -> float:
        """Uniform on [0, 1)."""
        if self.iu >= POOL:
            self.us = self.gen.random(POOL).tolist()
            self.iu = 0
        self.iu += 1
        return self.us[self.iu - 1]

    def z(self) -> float:
        """Standard normal."""
        if self.iz >= POOL:
            self.zs = self.gen.standard_normal(POOL).tolist()
            self.iz = 0
        self.iz += 1
        return self.zs[self.iz - 1]

    def hex16(self) -> str:
        """A random non-zero 8-byte id in lowercase hex."""
        if self.ih >= POOL:
            self.hex = self.gen.bytes(8 * POOL).hex()
            self.ih = 0
        i = self.ih * 16
        self.ih += 1
        h = self.hex[i:i + 16]
        return h if h != "0000000000000000" else "0000000000000001"

    def lognorm(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.z())

    def expo(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.u())

    def randint(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi]."""
        return lo + int(self.u() * (hi - lo + 1))

    def pick(self, items: tuple[str, ...]) -> str:
        return items[int(self.u() * len(items))]


def network_ms(d: Dice, a: str, b: str, factor: float = 1.0) -> tuple[float, float]:
    """Request and response transit times between tiers: lognormal jitter around the tier RTT, with a long tail."""
    base = rtt_ms(a, b) * factor
    rtt = d.lognorm(base, 0.22)
    if d.u() < 0.015:
        rtt += d.expo(base * 2.5)
    split = 0.42 + 0.16 * d.u()
    return rtt * split, rtt * (1.0 - split)


def compute_ms(d: Dice, model: Model, gpu: str, in_tokens: int, out_tokens: int, items: int = 1,
               slowdown: float = 1.0) -> float:
    """Model execution time: grows with parameters and tokens (or items), shrinks with faster GPUs."""
    speed = GPUS[gpu].speed
    if model.kind == "llm":
        work = model.params_b * (0.012 * in_tokens + 0.35 * out_tokens) + 2.0
    elif model.kind == "speech":
        work = model.params_b * 60.0 * items
    else:
        work = model.params_b * 40.0 * items + 0.6
    return work / speed * slowdown * d.lognorm(1.0, 0.08)


def traffic_weight(shape: str, hour_of_day: int, weekday: int) -> float:
    return DIURNAL[shape][hour_of_day] * WEEKLY[shape][weekday]


def incident_active(name: str, t_h: float, days: int) -> bool:
    """Whether a planted incident is under way at `t_h` hours into the window."""
    inc = INCIDENTS[name]
    start = int(inc.start_frac * days) * 24.0 + (10.0 if inc.hours < 24 else 0.0)
    return start <= t_h < start + inc.hours


def utilization(host: Host, shape: str, t_h: float, weekday0: int, days: int) -> float:
    """The GPU utilization model shared by queueing in spans and by the GPU metrics (fraction 0..1)."""
    hour = int(t_h) % 24
    weekday = (weekday0 + int(t_h // 24)) % 7
    u = host.base_util * (0.25 + 0.75 * traffic_weight(shape, hour, weekday) / PEAK[shape] * 1.6)
    if shape == "nightly":
        u = host.base_util if traffic_weight(shape, hour, weekday) > 0 else 0.0
    if host.name.startswith("ip-10-42-4-") and incident_active("gpu-starved", t_h, days):
        u *= 0.25
    return max(0.0, min(u, 0.96))


def queue_ms(d: Dice, service_ms: float, util: float, starved: bool = False) -> float:
    """Waiting time before a model runs: M/M/1-like growth with utilization (or a starved input pipeline)."""
    if starved:
        return d.expo(service_ms * 6.0)
    if util <= 0.0:
        return 0.0
    return d.expo(service_ms * util / (1.0 - util) * 0.5)


def workload_shape(w: Workload) -> str:
    return w.diurnal
