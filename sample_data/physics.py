"""The estate's load model: traffic by hour and weekday per shape, planted incident windows, GPU utilization."""

from __future__ import annotations

from sample_data.estate import INCIDENTS, Host

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
