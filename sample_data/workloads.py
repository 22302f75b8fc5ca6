"""How each workload of the estate behaves: one builder per workload that lays out one trace's spans."""

from __future__ import annotations

from collections.abc import Callable

from sample_data.estate import CDN_POPS, SITES, STORE_WITHOUT_EDGE, STORES_WITH_EDGE
from sample_data.hops import Ctx, cache_lookup, call, failed_call, infer, root, step
from sample_data.physics import incident_active
from sample_data.spans import CONSUMER, ERROR, INTERNAL, OK, SC_DEVICE, SC_PIPE, SC_SERVER, Trace

Builder = Callable[[Trace, Ctx], None]
HYPER, WEU, EW4 = SITES["us-east-1"], SITES["westeurope"], SITES["europe-west4"]


def _device(ctx: Ctx, service: str, fleet: str) -> tuple[int, int]:
    site = SITES[fleet]
    n = ctx.d.randint(0, site.devices - 1)
    return ctx.res.device(service, "3.2.1", site, n), n


def private_assistant(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    fleet = ("laptops-eu", "phones-eu", "vehicles-eu")[min(2, int(d.u() * 2.3))]
    dev, _ = _device(ctx, "private-assistant", fleet)
    rid = tr.sid()
    t = step(tr, ctx, dev, rid, 0.0, "prompt.prepare", 3.0)
    in_tok, out_tok = d.randint(200, 1500), d.randint(40, 220)
    events: tuple[tuple[float, str, tuple[tuple[str, str | int | float | bool], ...]], ...] = ()
    if d.u() < 0.08:  # too large for the device: escalate to the nearest regional cloud
        host = WEU.hosts[d.randint(0, 1)]
        srv = ctx.res.host("assistant-gateway", "1.9.0", WEU, host)
        events = ((t, "tierwise.escalation", (("tierwise.escalation.reason", "input_too_large"),)),)
        t = call(tr, ctx, dev, srv, rid, t, "/v1/chat", in_tok * 4, out_tok * 4 + 400,
                 lambda sid, s: infer(tr, ctx, srv, sid, s + 0.4, "llama-3.1-8b-instruct", "A100", host,
                                      in_tok * 2, out_tok), reason="input_too_large")
    else:
        t = infer(tr, ctx, dev, rid, t, "phi-4-mini-instruct-q4", "NPU", None, in_tok, out_tok)
    root(tr, dev, SC_DEVICE, "assistant.ask", INTERNAL, rid, t + 1.0, events=events)


def kiosk_copilot(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    dev, n = _device(ctx, "kiosk-copilot", "kiosks-retail")
    store = (*STORES_WITH_EDGE, STORE_WITHOUT_EDGE)[n % 4]
    rid = tr.sid()
    in_tok, out_tok = d.randint(150, 450), d.randint(15, 60)
    t = infer(tr, ctx, dev, rid, 0.0, "llama-3.2-1b-instruct-q4", "NPU", None, in_tok, out_tok)
    confidence = d.u()
    events: tuple[tuple[float, str, tuple[tuple[str, str | int | float | bool], ...]], ...] = (
        (t, "tierwise.confidence", (("tierwise.confidence", round(confidence, 3)),)),)
    if confidence < 0.3:
        edge_down = store == "retail-store-12" and incident_active("edge-outage", ctx.t_h, ctx.days)
        reason = "low_confidence"
        if store != STORE_WITHOUT_EDGE and edge_down:
            t = failed_call(tr, ctx, dev, rid, t, store, "/v1/kiosk/answer", 150.0)
            reason = "edge_unavailable"
        if store != STORE_WITHOUT_EDGE and not edge_down:
            site = SITES[store]
            host = site.hosts[0]
            srv = ctx.res.host("kiosk-edge", "2.0.3", site, host)

            def serve_edge(sid: str, s: float) -> float:
                e = infer(tr, ctx, srv, sid, s + 0.3, "llama-3.1-8b-instruct", "L4", host, in_tok, out_tok)
                if d.u() < 0.06:  # still unsure at the edge: escalate to hyperscale
                    hh = HYPER.hosts[2]
                    cs = ctx.res.host("kiosk-cloud", "2.0.3", HYPER, hh)
                    e = call(tr, ctx, srv, cs, sid, e, "/v1/kiosk/answer", 6000, 1500,
                             lambda sid2, s2: infer(tr, ctx, cs, sid2, s2 + 0.3, "llama-3.1-8b-instruct", "L40S",
                                                    hh, in_tok * 2, out_tok), reason="low_confidence")
                return e + 0.2
            t = call(tr, ctx, dev, srv, rid, t, "/v1/kiosk/answer", 4000, 1500, serve_edge, reason=reason,
                     net_factor=1.6)
        else:
            hh = HYPER.hosts[2]
            cs = ctx.res.host("kiosk-cloud", "2.0.3", HYPER, hh)
            t = call(tr, ctx, dev, cs, rid, t, "/v1/kiosk/answer", 4000, 1500,
                     lambda sid, s: infer(tr, ctx, cs, sid, s + 0.3, "llama-3.1-8b-instruct", "L40S", hh,
                                          in_tok * 2, out_tok) + 0.2, reason=reason, net_factor=1.8)
    root(tr, dev, SC_DEVICE, "kiosk.ask", INTERNAL, rid, t + 0.5, (("kiosk.store", store),), events)


def store_rag(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    dev, n = _device(ctx, "store-assist", "phones-eu")
    store = STORES_WITH_EDGE[n % 3]
    rid = tr.sid()
    in_tok, out_tok = d.randint(600, 2400), d.randint(60, 250)
    down = store == "retail-store-12" and incident_active("edge-outage", ctx.t_h, ctx.days)
    site, gpu = (WEU, "A100") if down else (SITES[store], "L4")
    host = site.hosts[0]
    srv = ctx.res.host("store-rag", "1.4.2", site, host)

    def serve(sid: str, s: float) -> float:
        hit, e = cache_lookup(tr, ctx, srv, sid, s + 0.2, "store-semantic-cache", 0.35)
        if hit:
            return e + 0.3
        e = step(tr, ctx, srv, sid, e, "vector.search products", 6.0,
                 (("db.system.name", "qdrant"), ("db.operation.name", "search"), ("db.collection.name", "products")))
        return infer(tr, ctx, srv, sid, e, "llama-3.1-8b-instruct", gpu, host, in_tok, out_tok) + 0.4
    t = 0.0
    if down:
        t = failed_call(tr, ctx, dev, rid, t, store, "/v1/rag", 150.0)
    t = call(tr, ctx, dev, srv, rid, t, "/v1/rag", in_tok * 4, out_tok * 4 + 800, serve,
             reason="edge_unavailable" if down else None)
    root(tr, dev, SC_DEVICE, "rag.ask", INTERNAL, rid, t + 0.5, (("store.id", store),))


def factory_vision(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    site = SITES["factory-plant-1"]
    host = site.hosts[0]
    edge = ctx.res.host("vision-filter", "5.1.0", site, host)
    rid = tr.sid()
    frames = d.randint(4, 12)
    t = step(tr, ctx, edge, rid, 0.0, "frames.decode", 2.5, (("tierwise.batch.items", frames),))
    t = infer(tr, ctx, edge, rid, t, "yolov8l-defects", "L4", host, 0, 0, frames)
    if d.u() < 0.22:  # motion or a defect candidate: send embeddings, not video, to the regional classifier
        ch = EW4.hosts[d.randint(0, 1)]
        cls = ctx.res.host("defect-classifier", "3.0.0", EW4, ch)
        t = call(tr, ctx, edge, cls, rid, t, "/v1/classify", 1152 * 4 * frames, 512,
                 lambda sid, s: infer(tr, ctx, cls, sid, s + 0.2, "siglip-so400m", "L4", ch, 0, 0, 1) + 0.3)
    root(tr, edge, SC_PIPE, "camera-frames process", CONSUMER, rid, t + 0.3,
         (("messaging.system", "kafka"), ("messaging.operation.type", "process"),
          ("messaging.destination.name", "line-3-frames")))


def callcentre_stt(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    dev, _ = _device(ctx, "agent-desktop", "laptops-eu")
    site = SITES["telco-metro-1"]
    host = site.hosts[d.randint(0, 1)]
    regressed = incident_active("model-regression", ctx.t_h, ctx.days)
    model, version = ("whisper-large-v3-de-ft", "2.4.0") if regressed else ("whisper-large-v3", "2.3.0")
    srv = ctx.res.host("speech-to-text", version, site, host)
    chunks = d.randint(1, 4)
    rid = tr.sid()
    t = call(tr, ctx, dev, srv, rid, 0.0, "/v1/transcribe", 32000 * chunks, 600 * chunks,
             lambda sid, s: infer(tr, ctx, srv, sid, s + 0.5, model, "L40S", host, 0, 0, chunks,
                                  1.8 if regressed else 1.0) + 0.5)
    root(tr, dev, SC_DEVICE, "transcribe utterance", INTERNAL, rid, t + 0.5)


def public_chat(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    dev, n = _device(ctx, "chat-web", ("phones-eu", "laptops-eu")[int(d.u() * 2)])
    pop = SITES[CDN_POPS[n % 2]]
    host = pop.hosts[0]
    cdn = ctx.res.host("chat-edge", "7.2.0", pop, host)
    in_tok, out_tok = d.randint(300, 2000), d.randint(80, 400)
    collapsed = pop.site_id == "cdn-pop-fra" and incident_active("cache-collapse", ctx.t_h, ctx.days)
    rid = tr.sid()

    def serve(sid: str, s: float) -> float:
        hit, e = cache_lookup(tr, ctx, cdn, sid, s + 0.2, "cdn-semantic-cache", 0.04 if collapsed else 0.45)
        if hit:
            return e + 0.5
        hh = HYPER.hosts[d.randint(0, 1)]
        origin = ctx.res.host("chat-origin", "7.2.0", HYPER, hh)
        cached = in_tok // 2 if d.u() < 0.5 else 0
        return call(tr, ctx, cdn, origin, sid, e, "/v1/chat/completions", in_tok * 4, out_tok * 4 + 600,
                    lambda sid2, s2: infer(tr, ctx, origin, sid2, s2 + 0.5, "llama-3.3-70b-instruct", "H100", hh,
                                           in_tok, out_tok, cache_read=cached) + 0.4, reason="cache_miss") + 0.3
    if d.u() < 0.12:  # API clients that bypass the CDN and call the origin directly
        hh = HYPER.hosts[d.randint(0, 1)]
        origin = ctx.res.host("chat-origin", "7.2.0", HYPER, hh)
        t = call(tr, ctx, dev, origin, rid, 0.0, "/v1/chat/completions", in_tok * 4, out_tok * 4 + 600,
                 lambda sid, s: infer(tr, ctx, origin, sid, s + 0.5, "llama-3.3-70b-instruct", "H100", hh,
                                      in_tok, out_tok) + 0.4)
    else:
        t = call(tr, ctx, dev, cdn, rid, 0.0, "/v1/chat", in_tok * 4, out_tok * 4 + 600, serve)
    root(tr, dev, SC_DEVICE, "chat.send", INTERNAL, rid, t + 1.0)


def medical_summarizer(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    dev, _ = _device(ctx, "clinician-desktop", "laptops-eu")
    site = SITES["hospital-central"]
    host = site.hosts[0]
    srv = ctx.res.host("med-summarizer", "1.1.0", site, host)
    in_tok, out_tok = d.randint(1500, 6000), d.randint(150, 400)
    rid = tr.sid()

    def serve(sid: str, s: float) -> float:
        e = step(tr, ctx, srv, sid, s + 0.3, "phi.redact", 12.0)
        if d.u() < 0.03:  # edge queue full: overflow to hyperscale (a trust-zone violation for regulated data)
            hh = HYPER.hosts[d.randint(0, 1)]
            cs = ctx.res.host("med-summarizer-overflow", "1.1.0", HYPER, hh)
            return call(tr, ctx, srv, cs, sid, e, "/v1/summarize", in_tok * 4, out_tok * 4 + 500,
                        lambda sid2, s2: infer(tr, ctx, cs, sid2, s2 + 0.4, "medgemma-27b-text-it", "H100", hh,
                                               in_tok, out_tok) + 0.3, reason="edge_capacity") + 0.4
        return infer(tr, ctx, srv, sid, e, "medgemma-27b-text-it", "L40S", host, in_tok, out_tok) + 0.4
    t = call(tr, ctx, dev, srv, rid, 0.0, "/v1/summarize", in_tok * 4, out_tok * 4 + 500, serve)
    root(tr, dev, SC_DEVICE, "summarize document", INTERNAL, rid, t + 1.0)


def store_forecast(tr: Trace, ctx: Ctx) -> None:
    d = ctx.d
    site = SITES[STORES_WITH_EDGE[d.randint(0, 2)]]
    edge = ctx.res.host("store-features", "0.9.4", site, site.hosts[0])
    rid = tr.sid()
    t = step(tr, ctx, edge, rid, 0.0, "features.compute", 180.0, (("tierwise.batch.items", 5000),))
    ch = EW4.hosts[0]
    fs = ctx.res.host("feature-store", "2.2.0", EW4, ch)
    t = call(tr, ctx, edge, fs, rid, t, "/v1/features/ingest", 400_000, 2_000,
             lambda sid, s: step(tr, ctx, fs, sid, s + 0.5, "feature.write", 35.0) + 0.5)
    root(tr, edge, SC_PIPE, "forecast-features run", INTERNAL, rid, t + 1.0)


def _batch_job(tr: Trace, ctx: Ctx, service: str, site_id: str, host_i: int, name: str, model: str, gpu: str,
               steps: int, step_items: int) -> None:
    d = ctx.d
    site = SITES[site_id]
    host = site.hosts[host_i]
    res = ctx.res.host(service, "1.0.0", site, host)
    starved = host.name.startswith("ip-10-42-4-") and incident_active("gpu-starved", ctx.t_h, ctx.days)
    rid = tr.sid()
    t = 0.0
    for _ in range(steps):
        t = step(tr, ctx, res, rid, t, "load batch", 2200.0 if starved else 140.0, (("tierwise.batch.items", step_items),))
        t = infer(tr, ctx, res, rid, t, model, gpu, host, 512 * step_items // 8, 0, step_items, starved=starved)
    t = step(tr, ctx, res, rid, t, "checkpoint.save" if "train" in name else "results.write", 400.0)
    status = ERROR if d.u() < 0.01 else OK
    root(tr, res, SC_PIPE, name, INTERNAL, rid, t + 5.0, status=status)


def doc_embedding(tr: Trace, ctx: Ctx) -> None:
    _batch_job(tr, ctx, "doc-embedder", "us-east-1", 3, "embed documents", "bge-m3", "A100", 3, 256)


def model_training(tr: Trace, ctx: Ctx) -> None:
    _batch_job(tr, ctx, "trainer", "us-east-1", 4, "train.shard", "llama-3.1-8b-instruct", "H100", 6, 64)


def factory_finetune(tr: Trace, ctx: Ctx) -> None:
    _batch_job(tr, ctx, "defect-finetune", "factory-plant-1", 1, "train.shard", "yolov8l-defects", "L4", 6, 512)


def usage_rollup(tr: Trace, ctx: Ctx) -> None:
    site = WEU
    res = ctx.res.host("usage-rollup", "1.0.0", site, site.hosts[1])
    rid = tr.sid()
    t = step(tr, ctx, res, rid, 0.0, "usage.read", 4000.0)
    t = step(tr, ctx, res, rid, t, "usage.aggregate", 9000.0)
    t = step(tr, ctx, res, rid, t, "report.write", 800.0)
    root(tr, res, SC_SERVER, "rollup run", INTERNAL, rid, t + 2.0)


BUILDERS: dict[str, Builder] = {
    "private-assistant": private_assistant, "kiosk-copilot": kiosk_copilot, "store-rag": store_rag,
    "factory-vision": factory_vision, "callcentre-stt": callcentre_stt, "public-chat": public_chat,
    "medical-summarizer": medical_summarizer, "store-forecast": store_forecast,
    "doc-embedding-nightly": doc_embedding, "model-training": model_training,
    "factory-finetune": factory_finetune, "usage-rollup": usage_rollup,
}
