"""Building blocks of generated traces: cross-tier CLIENT/SERVER hops, model runs with queueing, cache lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sample_data.estate import MODELS, SITES, WORKLOADS, Host
from sample_data.physics import Dice, compute_ms, network_ms, queue_ms, utilization
from sample_data.spans import (
    CLIENT,
    ERROR,
    INTERNAL,
    OK,
    SC_CLIENT,
    SC_INFER,
    SC_PIPE,
    SC_SERVER,
    SERVER,
    UNSET,
    Attrs,
    Resource,
    Resources,
    Trace,
    error_event,
)

Serve = Callable[[str, float], float]
EgressKey = tuple[int, str, str, str, str]  # (day, site, resource id, workload, direction)
SERVER_ERROR_RATE = 0.004


@dataclass
class Ctx:
    """What builders share: randomness, resources, the clock of the current trace and egress usage."""

    d: Dice
    res: Resources
    days: int
    weekday0: int
    t_h: float = 0.0
    workload: str = ""
    adj: dict[str, float] = field(default_factory=dict)
    egress: dict[EgressKey, float] = field(default_factory=dict)
    _util: dict[tuple[str, str, int], float] = field(default_factory=dict)

    def util(self, host: Host) -> float:
        """The host's GPU utilization this hour (the load model changes hourly; cached per hour)."""
        key = (host.name, self.workload, int(self.t_h))
        u = self._util.get(key)
        if u is None:
            u = self._util[key] = utilization(host, WORKLOADS[self.workload].diurnal, int(self.t_h), self.weekday0,
                                              self.days)
        return u


def call(tr: Trace, ctx: Ctx, cres: int, sres: int, parent: str, start: float, route: str,
         req_bytes: int, resp_bytes: int, serve: Serve, reason: str | None = None, connect: bool = False,
         net_factor: float = 1.0) -> float:
    """A CLIENT span on the caller and the SERVER span it causes; the client's duration holds the server's plus transit."""
    ci, si = ctx.res.items[cres], ctx.res.items[sres]
    csid, ssid = tr.sid(), tr.sid()
    t = start
    if connect:  # a new TLS connection costs one more round trip before the request leaves
        up, down = network_ms(ctx.d, ci.tier, si.tier, net_factor)
        t += up + down
    up, down = network_ms(ctx.d, ci.tier, si.tier, net_factor)
    s_start = t + up
    s_end = serve(ssid, s_start)
    c_end = s_end + down
    server_addr = si.site
    failed = ctx.d.u() < SERVER_ERROR_RATE
    status, code = (ERROR, 503) if failed else (UNSET, 200)
    base: Attrs = (("http.request.method", "POST"), ("http.response.status_code", code),
                   ("http.request.body.size", req_bytes), ("http.response.body.size", 0 if failed else resp_bytes))
    events = (error_event(s_end, "ServiceUnavailable", "model server overloaded"),) if failed else ()
    tr.add(sres, SC_SERVER, f"POST {route}", SERVER, ssid, csid, s_start, s_end, base + (("http.route", route),),
           status, events)
    cattrs = base + (("server.address", f"{server_addr}.acme.internal"), ("url.full",
                     f"https://{server_addr}.acme.internal{route}"))
    if reason:
        cattrs += (("tierwise.escalation.reason", reason),)
    if failed:
        cattrs += (("error.type", "503"),)
        tr.failed = True
    tr.add(cres, SC_CLIENT, "POST", CLIENT, csid, parent, start, c_end, cattrs, status)
    if ci.site != si.site:
        _count_transfer(ctx, ci, si, req_bytes, 0 if failed else resp_bytes)
    return c_end


def _count_transfer(ctx: Ctx, ci: Resource, si: Resource, req_bytes: int, resp_bytes: int) -> None:
    """Bytes leaving a billed place, scaled by the sampling adjusted count: cloud responses, edge uploads."""
    day = int(ctx.t_h // 24)
    scale = ctx.adj.get(ctx.workload, 1.0)
    if SITES[si.site].provider:
        key = (day, si.site, si.cloud_resource_id, ctx.workload, "internet_out")
        ctx.egress[key] = ctx.egress.get(key, 0.0) + resp_bytes * scale
    if ci.tier == "edge":
        key = (day, ci.site, ci.site, ctx.workload, "tier_to_tier")
        ctx.egress[key] = ctx.egress.get(key, 0.0) + req_bytes * scale


def failed_call(tr: Trace, ctx: Ctx, cres: int, parent: str, start: float, target: str, route: str,
                timeout_ms: float) -> float:
    """A CLIENT span that never reached its server (site down): error status, no SERVER span."""
    sid = tr.sid()
    end = start + timeout_ms
    tr.add(cres, SC_CLIENT, "POST", CLIENT, sid, parent, start, end,
           (("http.request.method", "POST"), ("server.address", f"{target}.acme.internal"),
            ("url.full", f"https://{target}.acme.internal{route}"), ("error.type", "ConnectTimeout")),
           ERROR, (error_event(end, "httpx.ConnectTimeout", f"connect to {target} timed out"),))
    return end


def infer(tr: Trace, ctx: Ctx, res: int, parent: str, start: float, model: str, gpu: str, host: Host | None,
          in_tokens: int, out_tokens: int, items: int = 1, slowdown: float = 1.0, starved: bool = False,
          cache_read: int = 0) -> float:
    """Wait in the GPU queue (longer when the host is busy), then run the model as one INTERNAL span."""
    m = MODELS[model]
    service = compute_ms(ctx.d, m, gpu, in_tokens, out_tokens, items, slowdown)
    wait = queue_ms(ctx.d, service, ctx.util(host), starved) if host else 0.0
    s = start + wait
    e = s + service
    if m.kind == "llm":
        attrs: Attrs = (("gen_ai.operation.name", "chat"), ("gen_ai.provider.name", "vllm"),
                        ("gen_ai.request.model", model), ("gen_ai.response.model", model),
                        ("gen_ai.usage.input_tokens", in_tokens), ("gen_ai.usage.output_tokens", out_tokens))
        if cache_read:
            attrs += (("gen_ai.usage.cache_read.input_tokens", cache_read),)
        name = f"chat {model}"
    else:
        op = {"speech": "transcribe", "vision": "detect", "embedding": "embeddings"}[m.kind]
        attrs = (("gen_ai.operation.name", op), ("gen_ai.request.model", model), ("tierwise.batch.items", items))
        if m.kind == "embedding":
            attrs += (("gen_ai.usage.input_tokens", in_tokens),)
        name = f"{op} {model}"
    tr.add(res, SC_INFER, name, INTERNAL, tr.sid(), parent, s, e, attrs + (("tierwise.queue.wait_ms", round(wait, 3)),))
    return e


def cache_lookup(tr: Trace, ctx: Ctx, res: int, parent: str, start: float, cache: str, hit_rate: float) -> tuple[bool, float]:
    """A semantic-cache lookup span; returns whether it hit and when it ended."""
    hit = ctx.d.u() < hit_rate
    end = start + ctx.d.lognorm(1.2, 0.3)
    tr.add(res, SC_PIPE, f"cache.lookup {cache}", INTERNAL, tr.sid(), parent, start, end,
           (("tierwise.cache.name", cache), ("tierwise.cache.hit", hit)))
    return hit, end


def step(tr: Trace, ctx: Ctx, res: int, parent: str, start: float, name: str, median_ms: float,
         attrs: Attrs = (), sigma: float = 0.25) -> float:
    """A plain INTERNAL pipeline step."""
    end = start + ctx.d.lognorm(median_ms, sigma)
    tr.add(res, SC_PIPE, name, INTERNAL, tr.sid(), parent, start, end, attrs)
    return end


def root(tr: Trace, res: int, scope: int, name: str, kind: int, sid: str, end: float, attrs: Attrs = (),
         events: tuple[tuple[float, str, Attrs], ...] = (), status: int = OK) -> None:
    """The trace's root span, from 0 to `end` (an error when a call inside the trace failed)."""
    tr.add(res, scope, name, kind, sid, "", 0.0, end, attrs, ERROR if tr.failed else status, events)
