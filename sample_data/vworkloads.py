"""How each workload behaves, column-wise: one builder per workload lays out the spans of many traces at once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sample_data.estate import CDN_POPS, SITES, STORE_WITHOUT_EDGE, STORES_WITH_EDGE, Host, Site
from sample_data.spans import CONSUMER, ERROR, INTERNAL, OK, SC_DEVICE, SC_PIPE, SC_SERVER
from sample_data.vhops import cache_lookup, call, failed_call, infer, root, speed, step
from sample_data.vtrace import B, Batch, Choice, ColAttrs, F, Ids, Int

VBuilder = Callable[[Batch], None]
HYPER, WEU, EW4 = SITES["us-east-1"], SITES["westeurope"], SITES["europe-west4"]
STORES4 = (*STORES_WITH_EDGE, STORE_WITHOUT_EDGE)


def _devices(b: Batch, service: str, fleets: tuple[str, ...], which: Int) -> tuple[Int, Int]:
    """A random device of each row's fleet: its resource and its number in the fleet."""
    sizes = np.array([SITES[f].devices for f in fleets])
    n = (b.u(b.n) * sizes[which]).astype(np.int64)
    table = [np.array([b.res.device(service, "3.2.1", SITES[f], k) for k in range(SITES[f].devices)]) for f in fleets]
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.concatenate(table)[offs[which] + n], n


def _hosts(b: Batch, service: str, version: str, sites: list[Site], hosts: list[Host]) -> Int:
    return np.array([b.res.host(service, version, s, h) for s, h in zip(sites, hosts, strict=True)], dtype=np.int64)


def _util(b: Batch, hosts: list[Host], which: Int, idx: Int) -> F:
    """GPU utilization of each row's host (rows `idx`, host hosts[which[idx]])."""
    out = np.zeros(len(idx))
    for k, h in enumerate(hosts):
        m = which[idx] == k
        if m.any():
            out[m] = b.util(h, idx[m])
    return out


def private_assistant(b: Batch) -> None:
    fleet = np.minimum(2, (b.u(b.n) * 2.3).astype(np.int64))
    dev, _ = _devices(b, "private-assistant", ("laptops-eu", "phones-eu", "vehicles-eu"), fleet)
    rid = b.ids(b.n)
    t = step(b, b.all, dev, rid, np.zeros(b.n), "prompt.prepare", 3.0)
    in_tok, out_tok = b.randint(200, 1500, b.n), b.randint(40, 220, b.n)
    esc = b.u(b.n) < 0.08  # too large for the device: escalate to the nearest regional cloud
    hw = b.randint(0, 1, b.n)
    srv = _hosts(b, "assistant-gateway", "1.9.0", [WEU, WEU], list(WEU.hosts))[hw]
    e_at = t.copy()
    ix = b.all[esc]

    def serve(idx: Int, sid: Ids, s: F) -> F:
        return infer(b, idx, srv[idx], sid, s + 0.4, "llama-3.1-8b-instruct", speed("A100"),
                     _util(b, list(WEU.hosts), hw, idx), in_tok[idx] * 2, out_tok[idx])
    t[esc] = call(b, ix, dev[ix], srv[ix], rid[ix], t[ix], "/v1/chat", in_tok[ix] * 4, out_tok[ix] * 4 + 400, serve,
                  reason="input_too_large")
    ix = b.all[~esc]
    t[~esc] = infer(b, ix, dev[ix], rid[ix], t[ix], "phi-4-mini-instruct-q4", speed("NPU"), None, in_tok[ix],
                    out_tok[ix])
    root(b, dev, SC_DEVICE, "assistant.ask", INTERNAL, rid, t + 1.0,
         events=((e_at, "tierwise.escalation", (("tierwise.escalation.reason", "input_too_large"),)),), ev_rows=esc)


def kiosk_copilot(b: Batch) -> None:
    dev, n = _devices(b, "kiosk-copilot", ("kiosks-retail",), np.zeros(b.n, dtype=np.int64))
    store = n % 4
    rid = b.ids(b.n)
    in_tok, out_tok = b.randint(150, 450, b.n), b.randint(15, 60, b.n)
    t = infer(b, b.all, dev, rid, np.zeros(b.n), "llama-3.2-1b-instruct-q4", speed("NPU"), None, in_tok, out_tok)
    conf = b.u(b.n)
    events: tuple[tuple[F, str, ColAttrs], ...] = ((t.copy(), "tierwise.confidence",
                                                    (("tierwise.confidence", np.round(conf, 3)),)),)
    esc = conf < 0.3
    has_edge = store < 3
    down = (store == 1) & b.incident("edge-outage", b.all)
    ix = b.all[esc & has_edge & down]
    t[ix] = failed_call(b, ix, dev[ix], rid[ix], t[ix], "retail-store-12", "/v1/kiosk/answer", 150.0)
    stores = [SITES[s] for s in STORES_WITH_EDGE]
    edge = _hosts(b, "kiosk-edge", "2.0.3", stores, [s.hosts[0] for s in stores])
    hh = HYPER.hosts[2]
    cloud = b.res.host("kiosk-cloud", "2.0.3", HYPER, hh)
    again = b.u(b.n) < 0.06  # still unsure at the edge: escalate to hyperscale

    def serve_cloud(idx: Int, sid: Ids, s: F) -> F:
        return infer(b, idx, cloud, sid, s + 0.3, "llama-3.1-8b-instruct", speed("L40S"), b.util(hh, idx),
                     in_tok[idx] * 2, out_tok[idx])

    def serve_edge(idx: Int, sid: Ids, s: F) -> F:
        e = infer(b, idx, edge[store[idx]], sid, s + 0.3, "llama-3.1-8b-instruct", speed("L4"),
                  _util(b, [x.hosts[0] for x in stores], store, idx), in_tok[idx], out_tok[idx])
        m = again[idx]
        j = idx[m]
        e[m] = call(b, j, edge[store[j]], cloud, sid[m], e[m], "/v1/kiosk/answer", 6000, 1500, serve_cloud,
                    reason="low_confidence")
        return e + 0.2
    ix = b.all[esc & has_edge & ~down]
    t[ix] = call(b, ix, dev[ix], edge[store[ix]], rid[ix], t[ix], "/v1/kiosk/answer", 4000, 1500, serve_edge,
                 reason="low_confidence", net_factor=1.6)
    for rows, reason in ((esc & ~has_edge, "low_confidence"), (esc & has_edge & down, "edge_unavailable")):
        ix = b.all[rows]
        t[ix] = call(b, ix, dev[ix], cloud, rid[ix], t[ix], "/v1/kiosk/answer", 4000, 1500,
                     lambda idx, sid, s: serve_cloud(idx, sid, s) + 0.2, reason=reason, net_factor=1.8)
    root(b, dev, SC_DEVICE, "kiosk.ask", INTERNAL, rid, t + 0.5, (("kiosk.store", Choice(STORES4, store)),), events)


def store_rag(b: Batch) -> None:
    dev, n = _devices(b, "store-assist", ("phones-eu",), np.zeros(b.n, dtype=np.int64))
    store = n % 3
    rid = b.ids(b.n)
    in_tok, out_tok = b.randint(600, 2400, b.n), b.randint(60, 250, b.n)
    down = (store == 1) & b.incident("edge-outage", b.all)
    place = np.where(down, 3, store)  # the three store edges, then westeurope
    sites = [*(SITES[s] for s in STORES_WITH_EDGE), WEU]
    hosts = [s.hosts[0] for s in sites]
    srv = _hosts(b, "store-rag", "1.4.2", sites, hosts)
    gpu = np.array([speed("L4")] * 3 + [speed("A100")])

    def serve(idx: Int, sid: Ids, s: F) -> F:
        hit, e = cache_lookup(b, idx, srv[place[idx]], sid, s + 0.2, "store-semantic-cache", 0.35)
        out = e + 0.3
        m = ~hit
        j = idx[m]
        e2 = step(b, j, srv[place[j]], sid[m], e[m], "vector.search products", 6.0,
                  (("db.system.name", "qdrant"), ("db.operation.name", "search"), ("db.collection.name", "products")))
        out[m] = infer(b, j, srv[place[j]], sid[m], e2, "llama-3.1-8b-instruct", gpu[place[j]],
                       _util(b, hosts, place, j), in_tok[j], out_tok[j]) + 0.4
        return out
    t = np.zeros(b.n)
    ix = b.all[down]
    t[ix] = failed_call(b, ix, dev[ix], rid[ix], t[ix], "retail-store-12", "/v1/rag", 150.0)
    for rows, reason in ((~down, None), (down, "edge_unavailable")):
        ix = b.all[rows]
        t[ix] = call(b, ix, dev[ix], srv[place[ix]], rid[ix], t[ix], "/v1/rag", in_tok[ix] * 4,
                     out_tok[ix] * 4 + 800, serve, reason=reason)
    root(b, dev, SC_DEVICE, "rag.ask", INTERNAL, rid, t + 0.5, (("store.id", Choice(STORES_WITH_EDGE, store)),))


def factory_vision(b: Batch) -> None:
    site = SITES["factory-plant-1"]
    host = site.hosts[0]
    edge = b.res.host("vision-filter", "5.1.0", site, host)
    rid = b.ids(b.n)
    frames = b.randint(4, 12, b.n)
    t = step(b, b.all, edge, rid, np.zeros(b.n), "frames.decode", 2.5, (("tierwise.batch.items", frames),))
    t = infer(b, b.all, edge, rid, t, "yolov8l-defects", speed("L4"), b.util(host, b.all), 0, 0, frames)
    send = b.u(b.n) < 0.22  # motion or a defect candidate: send embeddings, not video, to the regional classifier
    hw = b.randint(0, 1, b.n)
    cls = _hosts(b, "defect-classifier", "3.0.0", [EW4, EW4], list(EW4.hosts))
    ix = b.all[send]
    t[ix] = call(b, ix, edge, cls[hw[ix]], rid[ix], t[ix], "/v1/classify", 1152 * 4 * frames[ix], 512,
                 lambda idx, sid, s: infer(b, idx, cls[hw[idx]], sid, s + 0.2, "siglip-so400m", speed("L4"),
                                           _util(b, list(EW4.hosts), hw, idx), 0, 0, 1) + 0.3)
    root(b, edge, SC_PIPE, "camera-frames process", CONSUMER, rid, t + 0.3,
         (("messaging.system", "kafka"), ("messaging.operation.type", "process"),
          ("messaging.destination.name", "line-3-frames")))


def callcentre_stt(b: Batch) -> None:
    dev, _ = _devices(b, "agent-desktop", ("laptops-eu",), np.zeros(b.n, dtype=np.int64))
    site = SITES["telco-metro-1"]
    hw = b.randint(0, 1, b.n)
    reg = b.incident("model-regression", b.all)
    srv = np.stack([_hosts(b, "speech-to-text", v, [site, site], list(site.hosts)) for v in ("2.3.0", "2.4.0")])
    chunks = b.randint(1, 4, b.n)
    rid = b.ids(b.n)

    def serve(idx: Int, sid: Ids, s: F) -> F:
        out = np.zeros(len(idx))
        for r, model in ((False, "whisper-large-v3"), (True, "whisper-large-v3-de-ft")):
            m = reg[idx] == r
            j = idx[m]
            out[m] = infer(b, j, srv[int(r)][hw[j]], sid[m], s[m] + 0.5, model, speed("L40S"),
                           _util(b, list(site.hosts), hw, j), 0, 0, chunks[j], 1.8 if r else 1.0) + 0.5
        return out
    t = call(b, b.all, dev, srv[reg.astype(np.int64), hw], rid, np.zeros(b.n), "/v1/transcribe", 32000 * chunks,
             600 * chunks, serve)
    root(b, dev, SC_DEVICE, "transcribe utterance", INTERNAL, rid, t + 0.5)


def public_chat(b: Batch) -> None:
    dev, n = _devices(b, "chat-web", ("phones-eu", "laptops-eu"), (b.u(b.n) * 2).astype(np.int64))
    pop = n % 2
    pops = [SITES[p] for p in CDN_POPS]
    cdn = _hosts(b, "chat-edge", "7.2.0", pops, [p.hosts[0] for p in pops])
    in_tok, out_tok = b.randint(300, 2000, b.n), b.randint(80, 400, b.n)
    collapsed = (pop == 0) & b.incident("cache-collapse", b.all)
    rid = b.ids(b.n)
    hw = b.randint(0, 1, b.n)
    origin = _hosts(b, "chat-origin", "7.2.0", [HYPER, HYPER], list(HYPER.hosts[:2]))
    cached = np.where(b.u(b.n) < 0.5, in_tok // 2, 0)

    def serve_origin(idx: Int, sid: Ids, s: F, reuse: bool) -> F:
        return infer(b, idx, origin[hw[idx]], sid, s + 0.5, "llama-3.3-70b-instruct", speed("H100"),
                     _util(b, list(HYPER.hosts[:2]), hw, idx), in_tok[idx], out_tok[idx],
                     cache_read=cached[idx] if reuse else None) + 0.4

    def serve(idx: Int, sid: Ids, s: F) -> F:
        hit, e = cache_lookup(b, idx, cdn[pop[idx]], sid, s + 0.2, "cdn-semantic-cache",
                              np.where(collapsed[idx], 0.04, 0.45))
        out = e + 0.5
        m = ~hit
        j = idx[m]
        out[m] = call(b, j, cdn[pop[j]], origin[hw[j]], sid[m], e[m], "/v1/chat/completions", in_tok[j] * 4,
                      out_tok[j] * 4 + 600, lambda i2, s2id, s2: serve_origin(i2, s2id, s2, True),
                      reason="cache_miss") + 0.3
        return out
    bypass = b.u(b.n) < 0.12  # API clients that bypass the CDN and call the origin directly
    t = np.zeros(b.n)
    ix = b.all[bypass]
    t[ix] = call(b, ix, dev[ix], origin[hw[ix]], rid[ix], t[ix], "/v1/chat/completions", in_tok[ix] * 4,
                 out_tok[ix] * 4 + 600, lambda idx, sid, s: serve_origin(idx, sid, s, False))
    ix = b.all[~bypass]
    t[ix] = call(b, ix, dev[ix], cdn[pop[ix]], rid[ix], t[ix], "/v1/chat", in_tok[ix] * 4, out_tok[ix] * 4 + 600,
                 serve)
    root(b, dev, SC_DEVICE, "chat.send", INTERNAL, rid, t + 1.0)


def medical_summarizer(b: Batch) -> None:
    dev, _ = _devices(b, "clinician-desktop", ("laptops-eu",), np.zeros(b.n, dtype=np.int64))
    site = SITES["hospital-central"]
    host = site.hosts[0]
    srv = b.res.host("med-summarizer", "1.1.0", site, host)
    in_tok, out_tok = b.randint(1500, 6000, b.n), b.randint(150, 400, b.n)
    rid = b.ids(b.n)
    over = b.u(b.n) < 0.03  # edge queue full: overflow to hyperscale (a trust-zone violation for regulated data)
    hw = b.randint(0, 1, b.n)
    cs = _hosts(b, "med-summarizer-overflow", "1.1.0", [HYPER, HYPER], list(HYPER.hosts[:2]))

    def serve(idx: Int, sid: Ids, s: F) -> F:
        e = step(b, idx, srv, sid, s + 0.3, "phi.redact", 12.0)
        m = over[idx]
        j = idx[m]
        out = np.zeros(len(idx))
        out[m] = call(b, j, srv, cs[hw[j]], sid[m], e[m], "/v1/summarize", in_tok[j] * 4, out_tok[j] * 4 + 500,
                      lambda i2, s2id, s2: infer(b, i2, cs[hw[i2]], s2id, s2 + 0.4, "medgemma-27b-text-it",
                                                 speed("H100"), _util(b, list(HYPER.hosts[:2]), hw, i2),
                                                 in_tok[i2], out_tok[i2]) + 0.3, reason="edge_capacity") + 0.4
        j = idx[~m]
        out[~m] = infer(b, j, srv, sid[~m], e[~m], "medgemma-27b-text-it", speed("L40S"), b.util(host, j),
                        in_tok[j], out_tok[j]) + 0.4
        return out
    t = call(b, b.all, dev, srv, rid, np.zeros(b.n), "/v1/summarize", in_tok * 4, out_tok * 4 + 500, serve)
    root(b, dev, SC_DEVICE, "summarize document", INTERNAL, rid, t + 1.0)


def store_forecast(b: Batch) -> None:
    which = b.randint(0, 2, b.n)
    stores = [SITES[s] for s in STORES_WITH_EDGE]
    edge = _hosts(b, "store-features", "0.9.4", stores, [s.hosts[0] for s in stores])[which]
    rid = b.ids(b.n)
    t = step(b, b.all, edge, rid, np.zeros(b.n), "features.compute", 180.0, (("tierwise.batch.items", 5000),))
    fs = b.res.host("feature-store", "2.2.0", EW4, EW4.hosts[0])
    t = call(b, b.all, edge, fs, rid, t, "/v1/features/ingest", 400_000, 2_000,
             lambda idx, sid, s: step(b, idx, fs, sid, s + 0.5, "feature.write", 35.0) + 0.5)
    root(b, edge, SC_PIPE, "forecast-features run", INTERNAL, rid, t + 1.0)


def _batch_job(b: Batch, service: str, site_id: str, host_i: int, name: str, model: str, gpu: str, steps: int,
               step_items: int) -> None:
    site = SITES[site_id]
    host = site.hosts[host_i]
    res = b.res.host(service, "1.0.0", site, host)
    starved: B = (b.incident("gpu-starved", b.all) if host.name.startswith("ip-10-42-4-")
                  else np.zeros(b.n, dtype=np.bool_))
    rid = b.ids(b.n)
    t = np.zeros(b.n)
    util = b.util(host, b.all)
    for _ in range(steps):
        t = step(b, b.all, res, rid, t, "load batch", np.where(starved, 2200.0, 140.0),
                 (("tierwise.batch.items", step_items),))
        t = infer(b, b.all, res, rid, t, model, speed(gpu), util, 512 * step_items // 8, 0, step_items, starved=starved)
    t = step(b, b.all, res, rid, t, "checkpoint.save" if "train" in name else "results.write", 400.0)
    root(b, res, SC_PIPE, name, INTERNAL, rid, t + 5.0, status=np.where(b.u(b.n) < 0.01, ERROR, OK))


def usage_rollup(b: Batch) -> None:
    res = b.res.host("usage-rollup", "1.0.0", WEU, WEU.hosts[1])
    rid = b.ids(b.n)
    t = step(b, b.all, res, rid, np.zeros(b.n), "usage.read", 4000.0)
    t = step(b, b.all, res, rid, t, "usage.aggregate", 9000.0)
    t = step(b, b.all, res, rid, t, "report.write", 800.0)
    root(b, res, SC_SERVER, "rollup run", INTERNAL, rid, t + 2.0)


VBUILDERS: dict[str, VBuilder] = {
    "private-assistant": private_assistant, "kiosk-copilot": kiosk_copilot, "store-rag": store_rag,
    "factory-vision": factory_vision, "callcentre-stt": callcentre_stt, "public-chat": public_chat,
    "medical-summarizer": medical_summarizer, "store-forecast": store_forecast,
    "doc-embedding-nightly": lambda b: _batch_job(b, "doc-embedder", "us-east-1", 3, "embed documents", "bge-m3",
                                                  "A100", 3, 256),
    "model-training": lambda b: _batch_job(b, "trainer", "us-east-1", 4, "train.shard", "llama-3.1-8b-instruct",
                                           "H100", 6, 64),
    "factory-finetune": lambda b: _batch_job(b, "defect-finetune", "factory-plant-1", 1, "train.shard",
                                             "yolov8l-defects", "L4", 6, 512),
    "usage-rollup": usage_rollup,
}
