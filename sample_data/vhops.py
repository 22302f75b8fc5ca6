"""Columnar building blocks of traces: cross-tier CLIENT/SERVER hops, model runs with queueing, cache lookups."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sample_data.estate import GPUS, MODELS
from sample_data.spans import CLIENT, ERROR, INTERNAL, OK, SC_CLIENT, SC_INFER, SC_PIPE, SC_SERVER, SERVER, UNSET
from sample_data.vtrace import _RTT, SITE_IDS, B, Batch, Choice, ColAttrs, F, Ids, Int, sub

SERVER_ERROR_RATE = 0.004


def network(b: Batch, cres: Int, sres: Int, k: int, factor: float) -> tuple[F, F]:
    """Request and response transit times: lognormal around the tier RTT with a 1.5 % long tail."""
    base = _RTT[b.cols.tier[cres], b.cols.tier[sres]] * factor
    rtt = b.lognorm(base, 0.22, k)
    tail = b.u(k) < 0.015
    rtt = rtt + np.where(tail, b.expo(base * 2.5), 0.0)
    split = 0.42 + 0.16 * b.u(k)
    return rtt * split, rtt * (1.0 - split)


Serve = Callable[[Int, Ids, F], F]


def call(b: Batch, idx: Int, cres: Int | int, sres: Int | int, parent: Ids, start: F, route: str, req: Int | int,
         resp: Int | int, serve: Serve, reason: str | None = None, net_factor: float = 1.0) -> F:
    """CLIENT spans on the callers and the SERVER spans they cause; client time = server time + transit."""
    k = len(idx)
    if not k:
        return np.zeros(0)
    cr = np.broadcast_to(np.asarray(cres, dtype=np.int64), (k,))
    sr = np.broadcast_to(np.asarray(sres, dtype=np.int64), (k,))
    req_a = np.broadcast_to(np.asarray(req, dtype=np.int64), (k,))
    resp_a = np.broadcast_to(np.asarray(resp, dtype=np.int64), (k,))
    csid, ssid = b.ids(k), b.ids(k)
    up, down = network(b, cr, sr, k, net_factor)
    s_start = start + up
    s_end = serve(idx, ssid, s_start)
    c_end = s_end + down
    failed = b.u(k) < SERVER_ERROR_RATE
    site = Choice(SITE_IDS, b.cols.site[sr])
    addr = Choice(tuple(f"{s}.acme.internal" for s in SITE_IDS), site.idx)
    url = Choice(tuple(f"https://{s}.acme.internal{route}" for s in SITE_IDS), site.idx)
    for bad in (False, True):
        m = failed == bad
        if not m.any():
            continue
        base = (("http.request.method", "POST"), ("http.response.status_code", 503 if bad else 200),
                ("http.request.body.size", req_a[m]), ("http.response.body.size", 0 if bad else resp_a[m]))
        st = ERROR if bad else UNSET
        ev = ((s_end[m], "exception", (("exception.type", "ServiceUnavailable"),
                                       ("exception.message", "model server overloaded"))),) if bad else ()
        b.add(idx[m], sr[m], SC_SERVER, f"POST {route}", SERVER, ssid[m], csid[m], s_start[m], s_end[m],
              (*base, ("http.route", route)), st, ev)
        ca: ColAttrs = (*base, ("server.address", Choice(addr.options, addr.idx[m])),
                        ("url.full", Choice(url.options, url.idx[m])))
        if reason:
            ca += (("tierwise.escalation.reason", reason),)
        if bad:
            ca += (("error.type", "503"),)
        b.add(idx[m], cr[m], SC_CLIENT, "POST", CLIENT, csid[m], parent[m], start[m], c_end[m], ca, st)
    b.failed[idx[failed]] = True
    cross = b.cols.site[cr] != b.cols.site[sr]
    _count(b, idx, cross & b.cols.provider[sr], sr, np.where(failed, 0, resp_a), "internet_out", True)
    _count(b, idx, cross & (b.cols.tier[cr] == 1), cr, req_a, "tier_to_tier", False)
    return c_end


def _count(b: Batch, idx: Int, m: B, res: Int, nbytes: Int, direction: str, cloud: bool) -> None:
    """Bytes leaving a billed place per (day, resource), scaled by the sampling adjusted count."""
    if not m.any():
        return
    day = (b.t_h[idx[m]] // 24).astype(np.int64)
    key = day * 100_000 + res[m]
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=nbytes[m].astype(np.float64) * b.adj)
    for kv, total in zip(uniq.tolist(), sums.tolist(), strict=True):
        r = b.res.items[kv % 100_000]
        ek = (kv // 100_000, r.site, r.cloud_resource_id if cloud else r.site, b.w, direction)
        b.egress[ek] = b.egress.get(ek, 0.0) + total


def failed_call(b: Batch, idx: Int, cres: Int | int, parent: Ids, start: F, target: str, route: str,
                timeout_ms: float) -> F:
    """CLIENT spans that never reached their server (site down): error status, no SERVER span."""
    end = start + timeout_ms
    b.add(idx, cres, SC_CLIENT, "POST", CLIENT, b.ids(len(idx)), parent, start, end,
          (("http.request.method", "POST"), ("server.address", f"{target}.acme.internal"),
           ("url.full", f"https://{target}.acme.internal{route}"), ("error.type", "ConnectTimeout")),
          ERROR, ((end, "exception", (("exception.type", "httpx.ConnectTimeout"),
                                      ("exception.message", f"connect to {target} timed out"))),))
    return end


def infer(b: Batch, idx: Int, res: Int | int, parent: Ids, start: F, model: str, speed: F | float, util: F | None,
          in_tok: Int | int, out_tok: Int | int, items: Int | int = 1, slowdown: F | float = 1.0,
          starved: B | bool = False, cache_read: Int | None = None) -> F:
    """Queue for the GPU (longer when busy), then run the model as one INTERNAL span."""
    k = len(idx)
    m = MODELS[model]
    if m.kind == "llm":
        work = m.params_b * (0.012 * np.asarray(in_tok) + 0.35 * np.asarray(out_tok)) + 2.0
    elif m.kind == "speech":
        work = m.params_b * 60.0 * np.asarray(items)
    else:
        work = m.params_b * 40.0 * np.asarray(items) + 0.6
    service = work / speed * slowdown * b.lognorm(1.0, 0.08, k)
    wait = np.zeros(k)
    if util is not None:
        busy = np.clip(util, 0.0, 0.999)
        wait = np.where(busy > 0.0, b.expo(service * busy / (1.0 - busy) * 0.5), 0.0)
        wait = np.where(starved, b.expo(service * 6.0), wait)
    s = start + wait
    e = s + service
    sid = b.ids(k)
    qa = ("tierwise.queue.wait_ms", wait)
    if m.kind == "llm":
        a: ColAttrs = (("gen_ai.operation.name", "chat"), ("gen_ai.provider.name", "vllm"),
                       ("gen_ai.request.model", model), ("gen_ai.response.model", model),
                       ("gen_ai.usage.input_tokens", _arr(in_tok, k)), ("gen_ai.usage.output_tokens", _arr(out_tok, k)))
        cr = np.zeros(k, dtype=np.int64) if cache_read is None else cache_read
        for hit in (False, True):
            mk = (cr > 0) == hit
            if mk.any():
                extra: ColAttrs = (("gen_ai.usage.cache_read.input_tokens", cr[mk]),) if hit else ()
                b.add(idx[mk], _sel(res, mk), SC_INFER, f"chat {model}", INTERNAL, sid[mk], parent[mk], s[mk], e[mk],
                      sub(a, mk) + extra + (("tierwise.queue.wait_ms", wait[mk]),))
        return e
    op = {"speech": "transcribe", "vision": "detect", "embedding": "embeddings"}[m.kind]
    a = (("gen_ai.operation.name", op), ("gen_ai.request.model", model), ("tierwise.batch.items", _arr(items, k)))
    if m.kind == "embedding":
        a += (("gen_ai.usage.input_tokens", _arr(in_tok, k)),)
    b.add(idx, res, SC_INFER, f"{op} {model}", INTERNAL, sid, parent, s, e, a + (qa,))
    return e


def _arr(v: Int | int, k: int) -> Int:
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (k,))


def _sel(res: Int | int, m: B) -> Int | int:
    return res[m] if isinstance(res, np.ndarray) else res


def cache_lookup(b: Batch, idx: Int, res: Int | int, parent: Ids, start: F, cache: str,
                 hit_rate: F | float) -> tuple[B, F]:
    """Semantic-cache lookups; whether each hit and when it ended."""
    k = len(idx)
    hit = b.u(k) < hit_rate
    end = start + b.lognorm(1.2, 0.3, k)
    b.add(idx, res, SC_PIPE, f"cache.lookup {cache}", INTERNAL, b.ids(k), parent, start, end,
          (("tierwise.cache.name", cache), ("tierwise.cache.hit", hit)))
    return hit, end


def step(b: Batch, idx: Int, res: Int | int, parent: Ids, start: F, name: str, median_ms: F | float,
         attrs: ColAttrs = (), sigma: float = 0.25) -> F:
    """Plain INTERNAL pipeline steps."""
    k = len(idx)
    end = start + b.lognorm(median_ms, sigma, k)
    b.add(idx, res, SC_PIPE, name, INTERNAL, b.ids(k), parent, start, end, attrs)
    return end


def root(b: Batch, res: Int | int, scope: int, name: str, kind: int, sid: Ids, end: F, attrs: ColAttrs = (),
         events: tuple[tuple[F, str, ColAttrs], ...] = (), status: Int | int = OK, ev_rows: B | None = None) -> None:
    """Every trace's root span, from 0 to `end` (an error when a call inside the trace failed); events on `ev_rows`."""
    st = np.where(b.failed, ERROR, status)
    zero = np.zeros(b.n)
    if ev_rows is None:
        b.add(b.all, res, scope, name, kind, sid, None, zero, end, attrs, st, events)
        return
    for on in (False, True):
        m = ev_rows == on
        evs = tuple((t[m], n, sub(a, m)) for t, n, a in events) if on else ()
        b.add(b.all[m], _sel(res, m), scope, name, kind, sid[m], None, zero[m], end[m], sub(attrs, m), st[m], evs)


def speed(gpu: str) -> float:
    return GPUS[gpu].speed
