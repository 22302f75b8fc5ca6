"""Compiles one family's measures, grouping and filters into one parameterized DuckDB query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from queries.semantic.model import TAG_PREFIX, Dimension, Measure
from store.derived.request_entries import THRESHOLD, WEIGHT

BATCH_TYPES = ("training", "batch", "embedding")  # asynchronous work kept out of request measures unless asked for
STEP = {"minute": "1 minute", "hour": "1 hour", "day": "1 day", "week": "7 days", "month": "1 month"}
_WEIGHTS = f"""weights AS (  -- each distinct traceState's sampling weight, as store/derived/request_entries.py stores it
    SELECT trace_state, {WEIGHT} AS w
    FROM (SELECT trace_state, {THRESHOLD} AS th FROM (SELECT DISTINCT trace_state FROM spans WHERE trace_state IS NOT NULL))
)"""
_GB_PER_UNIT = ("CASE lower(trim(ConsumedUnit)) WHEN 'gb' THEN 1.0 WHEN 'gib' THEN 1.073741824 WHEN 'tb' THEN 1000.0 "
                "WHEN 'tib' THEN 1099.511627776 WHEN 'mb' THEN 0.001 WHEN 'mib' THEN 0.001048576 "
                "WHEN 'bytes' THEN 1e-9 WHEN 'byte' THEN 1e-9 END")


@dataclass(frozen=True)
class Call:
    """What one family query is asked: its measures, grouping, filters, time range (Unix ns) and grain."""

    family: str
    measures: tuple[Measure, ...]
    by: tuple[Dimension, ...]
    where: tuple[tuple[Dimension, str], ...]
    from_ns: int | None
    to_ns: int | None
    grain: str = "day"
    rates: Mapping[str, float] = field(default_factory=dict)  # currency → reporting-currency units per 1
    report_currency: str | None = None
    copies: bool = True  # whether any span was delivered more than once (span_dups has rows): else nothing is grouped


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _dim_sql(d: Dimension, family: str, p: _Params, grain: str) -> str:
    if d.name.startswith(TAG_PREFIX):
        return f"json_extract_string(Tags, {p.add('$.' + _json_key(d.name.removeprefix(TAG_PREFIX)))})"
    expr = d.expr(family)
    assert expr is not None, (d.name, family)
    if d.name == "time" and family != "costs":
        return f"date_trunc({p.add(grain)}, {expr})"
    return expr


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _boundary(call: Call) -> tuple[str, ...]:
    """The span columns an entry must differ from its parent in: set by grouping or filtering on tier, site, service."""
    cols = {"tier": "tier", "site": "site", "service": "service_name"}
    named = {d.boundary for d in (*call.by, *(w for w, _ in call.where)) if d.boundary}
    return tuple(cols[b] for b in ("tier", "site", "service") if b in named)


def _asks_batch(call: Call) -> bool:
    return any(d.name == "workload_type" for d in (*call.by, *(w for w, _ in call.where)))


def _window(col: str, call: Call, p: _Params) -> list[str]:
    out = []
    if call.from_ns is not None:
        out.append(f"{col} >= {p.add(call.from_ns)}")
    if call.to_ns is not None:
        out.append(f"{col} < {p.add(call.to_ns)}")
    return out


def _source(call: Call, p: _Params) -> tuple[str, list[str]]:
    """(the family's rows as a SELECT, extra predicates on them) before filters and deduplication."""
    if call.family == "entries":  # ingest keeps each root and SERVER/CONSUMER span once, weighted (migration 0013)
        cols = {"tier": "parent_tier", "site": "parent_site", "service_name": "parent_service"}
        crossed = " OR ".join(f"{cols[c]} IS DISTINCT FROM {c}" for c in _boundary(call))
        preds = [f"(is_root OR NOT parent_found OR {crossed})" if crossed else "is_root", *_window("start_ns", call, p)]
        if not _asks_batch(call):
            preds.append(f"coalesce(workload_type, '') NOT IN {BATCH_TYPES!r}")
        return "SELECT * FROM request_entries", preds
    if call.family == "usage":
        return ("SELECT trace_id, span_id, tier, site, service_name, name, workload, workload_type, data_class, start_ns, "
                "input_tokens, output_tokens, cache_hit, trace_state FROM spans",
                ["(input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cache_hit IS NOT NULL)",
                 *_window("start_ns", call, p)])
    if call.family == "hops":
        return ("SELECT c.trace_id, c.span_id, s.span_id AS server_span_id, c.workload, c.tier, c.site, "
                "s.tier AS to_tier, c.start_ns, c.trace_state, "
                "coalesce(c.request_bytes, s.request_bytes) AS request_bytes, "
                "coalesce(c.response_bytes, s.response_bytes) AS response_bytes "
                "FROM hop_clients c JOIN hop_servers s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id "
                "WHERE c.tier <> s.tier OR c.site IS DISTINCT FROM s.site", _window("start_ns", call, p))
    if call.family == "gpu":
        return ("SELECT time_ns, tier, site, workload, service_name, host_name, canonical_value, "
                "coalesce(attributes->>'hw.id', attributes->>'gpu', attributes->>'UUID', '') AS gpu "
                "FROM metric_points WHERE canonical_name = 'gpu_utilization_ratio'", _window("time_ns", call, p))
    raise AssertionError(call.family)


def _filters(call: Call, p: _Params) -> list[str]:
    return [f"{_dim_sql(d, call.family, p, call.grain)} = {p.add(value)}" for d, value in call.where]


def _select(call: Call, names: Sequence[str], dims: Sequence[str], source: str) -> str:
    """The family's aggregate measures (percentiles are _quantile_ctes') grouped by the dimensions."""
    aggs = [f"{m.expr} AS {m.name}" for m in call.measures if m.expr is not None]
    keys = [f"{expr} AS {name}" for expr, name in zip(dims, names, strict=True)]
    group = " GROUP BY ALL" if keys else ""
    return f"SELECT {', '.join(keys + aggs)} FROM {source}{group}"


def _spans_family(call: Call, p: _Params) -> str:
    source, preds = _source(call, p)
    preds += _filters(call, p)
    names = [d.name for d in call.by]
    dims = [_dim_sql(d, call.family, p, call.grain) for d in call.by]
    where = " AND ".join(preds) or "true"
    if call.family == "entries":  # already one row per span, weighted
        ctes = [f"facts AS (SELECT * FROM ({source}) WHERE {where})"]
    elif not call.copies:  # no span was delivered twice: every row counts as it is
        ctes = [_WEIGHTS, f"facts AS (SELECT c.*, coalesce(wt.w, 1.0) AS w FROM (SELECT * FROM ({source}) WHERE {where}) c "
                "LEFT JOIN weights wt ON wt.trace_state = c.trace_state)"]
    else:  # spans delivered more than once (span_dups, migration 0013) are the only rows grouped to count once
        ids = ("trace_id", "span_id") if call.family == "usage" else ("trace_id", "span_id", "server_span_id")
        copies = " OR ".join(f"d{i}.trace_id IS NOT NULL" for i in range(len(ids) - 1))
        joins = "".join(f" LEFT JOIN span_dups d{i} ON d{i}.trace_id = c.trace_id AND d{i}.span_id = c.{col}"
                        for i, col in enumerate(ids[1:]))
        ctes = [_WEIGHTS, f"cand AS (SELECT c.*, ({copies}) AS copied FROM (SELECT * FROM ({source}) WHERE {where}) c"
                f"{joins})",
                "dedup AS (SELECT * EXCLUDE (copied) FROM cand WHERE NOT copied UNION ALL "
                "SELECT DISTINCT ON (trace_id, span_id) * EXCLUDE (copied) FROM cand WHERE copied)",
                "facts AS (SELECT d.*, coalesce(wt.w, 1.0) AS w FROM dedup d "
                "LEFT JOIN weights wt ON wt.trace_state = d.trace_state)"]
    quantiles = [m for m in call.measures if m.quantile is not None]
    if not quantiles:
        return "WITH " + ",\n".join(ctes) + "\n" + _select(call, names, dims, "facts")
    keys = [f"g{i}" for i in range(len(dims))]
    plain = [m for m in call.measures if m.expr is not None]
    group = [f"{d} AS {k}" for d, k in zip(dims, keys, strict=True)]
    ctes += _quantile_ctes(quantiles, dims, keys)
    selected = ", ".join([*group, *(f"{m.expr} AS {m.name}" for m in plain)])
    ctes.append(f"agg AS (SELECT {selected} FROM facts{' GROUP BY ALL' if keys else ''})" if selected
                else "agg AS (SELECT 1 AS one)")
    on = " AND ".join(f"a.{k} IS NOT DISTINCT FROM q.{k}" for k in keys) or "true"
    out = [*(f"a.{k} AS {n}" for k, n in zip(keys, names, strict=True)), *(f"a.{m.name}" for m in plain),
           *(f"q.{m.name}" for m in quantiles)]
    return "WITH " + ",\n".join(ctes) + f"\nSELECT {', '.join(out)} FROM agg a JOIN quant q ON {on}"


def _same(a: str, b: str, keys: list[str]) -> str:
    return " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in keys) or "true"


def _quantile_ctes(quantiles: list[Measure], dims: list[str], keys: list[str]) -> list[str]:
    """Exact weighted percentiles without sorting every row: weights summed per group and log-spaced duration bucket
    find the bucket where each percentile falls, and only that bucket's rows are ranked. A percentile is the smallest
    duration whose cumulative weight reaches q × the group's weight (float sums get a 1e-12 relative tolerance)."""
    g = "".join(f"{k}, " for k in keys)
    part = f"PARTITION BY {', '.join(keys)} " if keys else ""
    by = f" GROUP BY {', '.join(keys)}" if keys else ""
    reach = "* tw * (1 - 1e-12)"
    targets = ", ".join(f"min(bk) FILTER (WHERE below + bw >= {m.quantile!r} {reach}) AS t{i}"
                        for i, m in enumerate(quantiles))
    picks = ", ".join(f"min(duration_ns) FILTER (WHERE bk = t{i} AND cw >= {m.quantile!r} {reach}) / 1e6 AS {m.name}"
                      for i, m in enumerate(quantiles))
    cols = "".join(f"{d} AS {k}, " for d, k in zip(dims, keys, strict=True))
    in_target = " OR ".join(f"b.bk = t.t{i}" for i in range(len(quantiles)))
    carried = "".join(f"b.{k}, " for k in keys) + "b.bk, b.duration_ns, t.tw, " + "".join(
        f"t.t{i}, " for i in range(len(quantiles)))
    return [
        f"b AS (SELECT {cols}duration_ns, w, "
        "floor(sign(duration_ns) * ln(abs(duration_ns) + 1) * 200)::BIGINT AS bk FROM facts)",
        f"hist AS (SELECT {g}bk, sum(w) AS bw FROM b GROUP BY ALL)",
        f"cum AS (SELECT *, sum(bw) OVER ({part}ORDER BY bk ROWS UNBOUNDED PRECEDING) - bw AS below, "
        f"sum(bw) OVER ({part.strip()}) AS tw FROM hist)",
        f"targets AS (SELECT {g}any_value(tw) AS tw, {targets} FROM cum{by})",
        f"ranked AS (SELECT {carried}c.below + sum(b.w) OVER (PARTITION BY {''.join(f'b.{k}, ' for k in keys)}b.bk "
        f"ORDER BY b.duration_ns ROWS UNBOUNDED PRECEDING) AS cw FROM b JOIN targets t ON {_same('b', 't', keys)} "
        f"JOIN cum c ON {_same('b', 'c', keys)} AND c.bk = b.bk WHERE {in_target})",
        f"quant AS (SELECT {g}{picks} FROM ranked{by})",
    ]


def _gpu(call: Call, p: _Params) -> str:
    source, preds = _source(call, p)
    preds += _filters(call, p)
    names = [d.name for d in call.by]
    dims = [_dim_sql(d, call.family, p, call.grain) for d in call.by]
    return (f"WITH facts AS (SELECT * FROM ({source}) WHERE {' AND '.join(preds) or 'true'})\n"
            + _select(call, names, dims, "facts"))


def _costs(call: Call, p: _Params) -> str:
    """Ledger rows prorated: each charge contributes the share of its period inside the range (and bucket)."""
    if call.rates:
        pairs = ", ".join(f"({p.add(c)}, {p.add(float(r))})" for c, r in sorted(call.rates.items()))
        rates = f"rates(cur, r) AS (VALUES {pairs}), "
        join, rate = "LEFT JOIN rates ON rates.cur = c.BillingCurrency", "coalesce(rates.r, 1.0)"
        currency = f"CASE WHEN rates.r IS NULL THEN c.BillingCurrency ELSE {p.add(call.report_currency)} END"
    else:
        rates, join, rate, currency = "", "", "1.0", "c.BillingCurrency"
    lo_us = p.add(None if call.from_ns is None else call.from_ns // 1000)
    hi_us = p.add(None if call.to_ns is None else call.to_ns // 1000)
    lo, hi = f"greatest(ps_us, coalesce({lo_us}, ps_us))", f"least(pe_us, coalesce({hi_us}, pe_us))"
    in_range = f"({lo_us} IS NULL OR ps_us >= {lo_us}) AND ({hi_us} IS NULL OR ps_us < {hi_us})"
    spread = ""
    if any(d.name == "time" for d in call.by):
        g, step = p.add(call.grain), p.add(STEP[call.grain])
        spread = (f", unnest(generate_series(date_trunc({g}, ps), greatest(ps, pe - INTERVAL 1 MICROSECOND), "
                  f"CAST({step} AS INTERVAL))) AS bk(bucket)")
        lo = f"greatest({lo}, epoch_us(bucket))"
        hi = f"least({hi}, epoch_us(bucket + CAST({step} AS INTERVAL)))"
        in_range += f" AND date_trunc({g}, ps) = bucket"
    base = (f"SELECT c.* EXCLUDE (EffectiveCost, BilledCost), ChargePeriodStart AS ps, "
            f"coalesce(ChargePeriodEnd, ChargePeriodStart) AS pe, epoch_us(ChargePeriodStart) AS ps_us, "
            f"epoch_us(coalesce(ChargePeriodEnd, ChargePeriodStart)) AS pe_us, "
            f"c.EffectiveCost::DOUBLE * {rate} AS EffectiveCost, c.BilledCost::DOUBLE * {rate} AS BilledCost, "
            f"CASE WHEN c.x_TransferDirection IS NOT NULL THEN c.ConsumedQuantity::DOUBLE * {_GB_PER_UNIT} END "
            f"AS transfer_gb, {currency} AS currency FROM cost_links c {join} WHERE c.ChargePeriodStart IS NOT NULL")
    frac = (f"CASE WHEN pe_us <= ps_us THEN CASE WHEN {in_range} THEN 1.0 ELSE 0.0 END "
            f"ELSE greatest(0, {hi} - {lo}) / (pe_us - ps_us) END")
    preds = _filters(call, p)
    names = [d.name for d in call.by]
    dims = [_dim_sql(d, call.family, p, call.grain) for d in call.by]
    if "currency" not in names:
        names, dims = [*names, "currency"], [*dims, "currency"]
    where = f" WHERE {' AND '.join(preds)}" if preds else ""
    bucket = "bk.bucket, " if spread else ""
    facts = f"facts AS (SELECT * FROM (SELECT b.*, {bucket}{frac} AS frac FROM ({base}) b{spread}){where})"
    sql = (f"WITH {rates}{facts}\n" + _select(call, names, dims, "facts WHERE frac > 0"))
    return sql


def compile_call(call: Call) -> tuple[str, dict[str, object]]:
    """(SQL, parameters) of one family's measures grouped by `call.by`, one row per group."""
    p = _Params()
    if call.family in ("entries", "usage", "hops"):
        sql = _spans_family(call, p)
    elif call.family == "gpu":
        sql = _gpu(call, p)
    elif call.family == "costs":
        sql = _costs(call, p)
    else:
        raise AssertionError(call.family)
    return sql, p.values
