"""The generator's span vocabulary: span kinds, statuses, instrumentation scopes and resources (with device clock skew)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from sample_data.estate import DEVICE_SKEW_MAX_MS, Host, Site

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
