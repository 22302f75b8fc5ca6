"""The generator's span model: resources (with device clock skew), instrumentation scopes and one trace's spans."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from sample_data.estate import DEVICE_SKEW_MAX_MS, Host, Site
from sample_data.physics import Dice

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5
UNSET, OK, ERROR = 0, 1, 2

# (name, version) of the instrumentation libraries that emit each kind of span.
SCOPES: tuple[tuple[str, str], ...] = (
    ("opentelemetry.instrumentation.fastapi", "0.58b0"),
    ("opentelemetry.instrumentation.httpx", "0.58b0"),
    ("acme.inference", "1.4.0"),
    ("acme.pipeline", "1.4.0"),
    ("io.opentelemetry.android", "0.11.0"),
)
SC_SERVER, SC_CLIENT, SC_INFER, SC_PIPE, SC_DEVICE = range(5)

Attr = tuple[str, str | int | float | bool]
Attrs = tuple[Attr, ...]


@dataclass(frozen=True)
class Resource:
    """The resource attributes of one process (or device app) and its clock offset from true time."""

    attrs: Attrs
    skew_ns: int
    tier: str
    site: str
    cloud_resource_id: str = ""


_MADE: dict[tuple[int, tuple[str, ...]], Resource] = {}


@dataclass
class Resources:
    """The resources met so far, numbered in first-seen order (deterministic for one seed)."""

    seed: int
    items: list[Resource] = field(default_factory=list)
    index: dict[tuple[str, ...], int] = field(default_factory=dict)

    def _get(self, key: tuple[str, ...], make: object) -> int:
        i = self.index.get(key)
        if i is None:
            assert callable(make)
            made = _MADE.get((self.seed, key))
            if made is None:  # a resource depends only on the seed and its key: made once per process
                made = _MADE[(self.seed, key)] = make()
            self.items.append(made)
            i = self.index[key] = len(self.items) - 1
        return i

    def device(self, service: str, version: str, site: Site, n: int) -> int:
        """Device `n` of a fleet running `service`; its clock is off by up to ±2 s (fixed per device)."""
        def make() -> Resource:
            r = random.Random(f"{self.seed}:{site.site_id}:{n}")
            skew = int(r.uniform(-DEVICE_SKEW_MAX_MS, DEVICE_SKEW_MAX_MS) * 1e6)
            model = site.device_models[n % len(site.device_models)]
            os_type = "android" if model.startswith(("Pixel", "SM-")) else site.os_type
            attrs: Attrs = (("service.name", service), ("service.version", version), ("tierwise.tier", "device"),
                            ("tierwise.site", site.site_id), ("device.id", f"{site.site_id}-{n:05d}"),
                            ("device.model.identifier", model), ("os.type", os_type),
                            ("telemetry.sdk.language", "java" if os_type == "android" else "python"),
                            ("telemetry.sdk.name", "opentelemetry"), ("telemetry.sdk.version", "1.45.2"))
            return Resource(attrs, skew, "device", site.site_id)
        return self._get(("d", service, version, site.site_id, str(n)), make)

    def host(self, service: str, version: str, site: Site, host: Host) -> int:
        """A service process on an edge or cloud GPU host (clocks are NTP-disciplined: no skew)."""
        def make() -> Resource:
            inst = str(uuid.UUID(int=random.Random(f"{self.seed}:{service}:{host.name}").getrandbits(128), version=4))
            attrs: list[Attr] = [("service.name", service), ("service.version", version), ("service.instance.id", inst),
                                 ("tierwise.tier", site.tier), ("tierwise.site", site.site_id),
                                 ("host.name", host.name)]
            if site.provider:
                attrs += [("cloud.provider", site.provider), ("cloud.region", site.region),
                          ("cloud.resource_id", host.resource_id), ("host.type", host.instance_type)]
            attrs += [("telemetry.sdk.language", "python"), ("telemetry.sdk.name", "opentelemetry"),
                      ("telemetry.sdk.version", "1.45.2")]
            return Resource(tuple(attrs), 0, site.tier, site.site_id, host.resource_id if site.provider else "")
        return self._get(("h", service, version, site.site_id, host.name), make)


# One span: (resource, scope, name, kind, span_id, parent_id, start_ns, end_ns, status, attrs, events).
Span = tuple[int, int, str, int, str, str, int, int, int, Attrs, tuple[tuple[int, str, Attrs], ...]]


class Trace:
    """The spans of one trace being built, on true time in ms from the trace start."""

    __slots__ = ("d", "t0_ns", "trace_id", "trace_state", "spans", "wattrs", "failed")

    def __init__(self, d: Dice, t0_ns: int, trace_state: str, wattrs: Attrs) -> None:
        self.d = d
        self.t0_ns = t0_ns
        self.trace_id = d.hex16() + d.hex16()
        self.trace_state = trace_state
        self.spans: list[Span] = []
        self.wattrs = wattrs
        self.failed = False

    def sid(self) -> str:
        return self.d.hex16()

    def add(self, res: int, scope: int, name: str, kind: int, sid: str, parent: str, start_ms: float,
            end_ms: float, attrs: Attrs = (), status: int = UNSET,
            events: tuple[tuple[float, str, Attrs], ...] = ()) -> None:
        """Record a finished span (the encoder appends the trace's workload attributes to every span)."""
        t0 = self.t0_ns
        s = t0 + int(start_ms * 1e6)
        e = t0 + int(end_ms * 1e6)
        if e < s:
            e = s
        evs = tuple((t0 + int(t * 1e6), n, a) for t, n, a in events) if events else ()
        self.spans.append((res, scope, name, kind, sid, parent, s, e, status, attrs, evs))


def error_event(at_ms: float, etype: str, message: str) -> tuple[float, str, Attrs]:
    """The `exception` span event the SDK records for a failed operation."""
    return (at_ms, "exception", (("exception.type", etype), ("exception.message", message)))
