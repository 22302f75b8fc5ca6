"""Mapping rules over a decoded batch, before it is committed: the Arrow tables of its spans and metric points.

A batch's rows share few resources, so each rule decision is made once per distinct resource (and, for the rows
whose own attributes name a key the rules test, once per distinct value of those keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.otlp.decode import Decoded
from ingest.remap.placement import decide
from store.map_rules import Rule, referenced_keys

# Placement columns a rule may set, with the rule field each takes its value from.
SPAN_TARGETS = (("tier", "tier"), ("site", "site"), ("workload", "workload"), ("data_class", "data_class"))
POINT_TARGETS = SPAN_TARGETS[:3]


def _decisions(t: pa.Table, rules: Sequence[Rule]) -> np.ndarray:
    """Per row, the index in `rules` of the rule that places it (-1: none)."""
    keys = referenced_keys(rules)
    resources = pc.fill_null(t["resource_attributes"].combine_chunks(), "{}")
    encoded = pc.dictionary_encode(resources)
    parsed = [orjson.loads(text) for text in encoded.dictionary.to_pylist()]
    index = {id(r): i for i, r in enumerate(rules)}
    by_resource = np.array([index.get(id(decide(rules, res, {})), -1) for res in parsed] or [-1], np.int64)
    which = encoded.indices.to_numpy(zero_copy_only=False)
    out = by_resource[which] if len(parsed) else np.full(t.num_rows, -1, np.int64)
    own = pc.fill_null(t["attributes"].combine_chunks(), "")
    named = np.zeros(t.num_rows, bool)
    for key in keys:
        named |= pc.match_substring(own, orjson.dumps(key).decode()).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(named)
    if not len(rows):
        return out
    seen: dict[tuple[int, bytes], int] = {}
    for row, text in zip(rows.tolist(), own.take(pa.array(rows)).to_pylist(), strict=True):
        attrs = orjson.loads(text) if text else {}
        values = {k: attrs[k] for k in keys if attrs.get(k) is not None}
        resource = int(which[row])
        memo = (resource, orjson.dumps(values, option=orjson.OPT_SORT_KEYS))
        if memo not in seen:
            seen[memo] = index.get(id(decide(rules, parsed[resource], values)), -1)
        out[row] = seen[memo]
    return out


def place(t: pa.Table, rules: Sequence[Rule], targets: Sequence[tuple[str, str]]) -> pa.Table:
    """`t` (spans or points) with its placement columns as the first matching rule sets them."""
    if not rules or t.num_rows == 0:
        return t
    chosen = _decisions(t, rules)
    if (chosen < 0).all():
        return t
    pick = pa.array(np.where(chosen < 0, len(rules), chosen))
    for column, field in targets:
        values = pa.array([r.value(field) for r in rules] + [None], pa.string()).take(pick)
        t = t.set_column(t.schema.get_field_index(column), column,
                         pc.coalesce(values, t[column].combine_chunks()).cast(t.schema.field(column).type))
    names = pa.array([r.name if r.value("tier") else None for r in rules] + [None], pa.string()).take(pick)
    at = t.schema.get_field_index("tier_source")
    return t.set_column(at, "tier_source", pc.coalesce(names, t["tier_source"].combine_chunks()))


def place_decoded(batch: Decoded, rules: Sequence[Rule]) -> Decoded:
    """A decoded batch with the rules applied to its spans and points (the batch itself when there are no rules)."""
    if not rules:
        return batch
    spans = None if batch.spans is None else place(batch.spans, rules, SPAN_TARGETS)
    points = None if batch.points is None else place(batch.points, rules, POINT_TARGETS)
    return replace(batch, spans=spans, points=points)
