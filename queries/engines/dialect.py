"""DuckDB query SQL (the single source) to ClickHouse SQL: sqlglot plus a pinned map for semantics-sensitive functions."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import cast

import sqlglot
from sqlglot import exp

from queries.engines.dialect_shapes import fn as _fn
from queries.engines.dialect_shapes import projections as _projections
from queries.engines.dialect_shapes import restructure as _restructure

# Settings every ClickHouse query runs with, so that ClickHouse follows the SQL semantics DuckDB has:
# outer joins give NULLs (not type defaults), aggregates over no rows give NULL (sum/avg FILTER on nothing),
# time arithmetic is UTC. (Aliases that shadow a column are handled in the SQL: queries/engines/dialect_shapes.py.)
SETTINGS: dict[str, str | int] = {
    "session_timezone": "UTC",
    "join_use_nulls": 1,
    "aggregate_functions_null_for_empty": 1,
    "cast_keep_nullable": 1,
}

# Registry parameter types (Python) to the ClickHouse type of the `{name:Type}` placeholder; all may be NULL.
PARAM_TYPES: dict[type, str] = {int: "Nullable(Int64)", float: "Nullable(Float64)", str: "Nullable(String)"}

# Aggregates DuckDB filters with FILTER (WHERE c) become the same ClickHouse function with the -If combinator.
_IF_COMBINABLE: dict[type[exp.Expression], str] = {
    exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max", exp.Count: "count",
}


# DuckDB functions whose values ClickHouse cannot reproduce, and the portable spelling to use instead.
_DUCKDB_ONLY = {
    "hash": "DuckDB's hash() is an internal hash ClickHouse cannot reproduce: order or sample by md5(x), "
            "whose hex digest both engines compute identically",
}


class DialectError(ValueError):
    """DuckDB SQL that has no faithful ClickHouse form here: write queries/engines/clickhouse/<name>.sql instead."""


def _exact_quantile(q: exp.Expression, x: exp.Expression, cond: exp.Expression | None = None) -> exp.Expression:
    """quantile_cont / median → quantileExactInclusive (R-7, exact): ClickHouse's `quantile`/`median` are samples."""
    if isinstance(q, exp.Array):
        name, params = "quantilesExactInclusive", list(q.expressions)
    else:
        name, params = "quantileExactInclusive", [q]
    args = [x] if cond is None else [x, cond]
    # sqlglot renders ParameterizedAgg as this(expressions)(params): the levels go first, the values second
    return exp.ParameterizedAgg(this=exp.var(name + ("If" if cond is not None else "")), expressions=params, params=args)


def _discrete_quantile(q: exp.Expression, x: exp.Expression, cond: exp.Expression | None = None) -> exp.Expression:
    """quantile_disc → the ceil(n·q)-th smallest value (DuckDB's rule; no ClickHouse quantileExact* variant uses it)."""
    values = _fn("groupArray", x) if cond is None else _fn("groupArrayIf", x, cond)
    n = _fn("count", x.copy()) if cond is None else _fn("countIf", exp.Not(this=exp.Is(this=x.copy(), expression=exp.null())),
                                                         cond.copy())

    def at(level: exp.Expression) -> exp.Expression:
        rank = _fn("greatest", _fn("toInt64", _fn("ceil", exp.Mul(this=n.copy(), expression=level))), 1)
        return _fn("arrayElement", _fn("arraySort", values.copy()), rank)

    if isinstance(q, exp.Array):
        return exp.Anonymous(this="arrayMap", expressions=[
            exp.Lambda(this=at(exp.column("level__")), expressions=[exp.to_identifier("level__")]), q])
    return exp.If(this=exp.EQ(this=n.copy(), expression=exp.Literal.number(0)), true=exp.null(), false=at(q))


def _json_key(path: exp.Expression) -> str | exp.Expression:
    """Our JSON columns are flat attribute maps: `->>'a.b'` and `'$."a.b"'` both name the one key `a.b`; a column or
    lambda variable (never a `$` path: DuckDB reads plain text as one key) is that key as is."""
    if isinstance(path, exp.JSONPath):
        keys = [str(k.this) for k in path.expressions if isinstance(k, exp.JSONPathKey)]
        if len(keys) != len(path.expressions) - 1:
            raise DialectError(f"JSON path {path.sql()} is not a plain key")
        return ".".join(keys)
    if isinstance(path, exp.Literal) and path.is_string:
        text = str(path.this)
        return text[2:].strip('"') if text.startswith("$.") else text
    if isinstance(path, exp.Column | exp.Dot | exp.Identifier):
        return path.copy()
    raise DialectError(f"JSON path {path.sql()} is not a constant key")


def _json_text(doc: exp.Expression, key: str | exp.Expression) -> exp.Expression:
    """DuckDB `json_extract_string`/`->>`: the string itself, a number's text, NULL when missing or null."""
    def k() -> str | exp.Expression:
        return key.copy() if isinstance(key, exp.Expression) else key

    kind = _fn("JSONType", doc.copy(), k())
    return exp.Anonymous(this="multiIf", expressions=[
        exp.EQ(this=kind, expression=exp.Literal.string("String")), _fn("JSONExtractString", doc.copy(), k()),
        exp.In(this=kind.copy(), expressions=[exp.Literal.string(t) for t in ("Int64", "UInt64", "Double", "Bool")]),
        _fn("JSONExtractRaw", doc.copy(), k()),
        exp.null(),
    ])


def _date_trunc(unit: exp.Expression, ts: exp.Expression) -> exp.Expression:
    """date_trunc → dateTrunc (week starts Monday in both), kept a UTC DateTime64(6) as DuckDB's TIMESTAMP.

    A parameter unit that is NULL gives NULL, as in DuckDB (dateTrunc itself refuses an empty unit).
    """
    if not isinstance(unit, exp.Placeholder):
        return _fn("toDateTime64", _fn("dateTrunc", unit, ts), 6, "UTC")
    truncated = _fn("toDateTime64", _fn("dateTrunc", _fn("ifNull", unit.copy(), "hour"), ts), 6, "UTC")
    return exp.If(this=exp.Is(this=unit, expression=exp.null()), true=exp.null(), false=truncated)


def _hex_to_ubigint(node: exp.Cast) -> exp.Expression | None:
    """`('0x' || h)::UBIGINT` (h an even number of hex digits, ≤ 16) → the same integer via unhex."""
    inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
    if isinstance(inner, exp.DPipe) and isinstance(inner.this, exp.Literal) and inner.this.this == "0x":
        return _fn("reinterpretAsUInt64", _fn("reverse", _fn("unhex", inner.expression)))
    return None


def _mode(x: exp.Expression) -> exp.Expression:
    """mode(x) exactly (ClickHouse `topK` is approximate): the most frequent non-NULL value, ties to the smallest."""
    arr = _fn("groupArray", x)
    ranked = exp.Anonymous(this="arraySort", expressions=[
        exp.Lambda(this=exp.Tuple(expressions=[
            exp.Neg(this=_fn("countEqual", arr.copy(), exp.column("u"))), exp.column("u")]),
            expressions=[exp.to_identifier("u")]),
        _fn("arrayDistinct", arr.copy()),
    ])
    return exp.If(this=_fn("empty", arr.copy()), true=exp.null(), false=_fn("arrayElement", ranked, 1))


def _ch_time_format(fmt: exp.Expression) -> exp.Expression:
    """strftime → formatDateTime: the same % codes except minutes (`%M` is the month name in ClickHouse, `%i` minutes)."""
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise DialectError("strftime with a non-constant format")
    unsupported = {"%f", "%b", "%B", "%a", "%A", "%p", "%I", "%z", "%Z"}
    text = str(fmt.this)
    if any(code in text for code in unsupported):
        raise DialectError(f"strftime format {text!r} uses a code not mapped here")
    return exp.Literal.string(text.replace("%M", "%i"))


def _filter_of(node: exp.Expression) -> exp.Expression | None:
    """The condition of `FILTER (WHERE c)` when `node` is the aggregate it filters (outside windows)."""
    parent = node.parent
    if isinstance(parent, exp.Filter) and parent.this is node and not isinstance(parent.parent, exp.Window):
        where = parent.expression
        return cast(exp.Expression, where.this if isinstance(where, exp.Where) else where)
    return None


def _combined(node: exp.Expression) -> exp.Expression:
    node.meta["filter_combined"] = True
    return node


def _filtered(node: exp.Filter) -> exp.Expression:
    """`agg(x) FILTER (WHERE c)` → `aggIf(x, c)`; count(*) → countIf(c); count(DISTINCT x) → uniqExactIf(x, c)."""
    agg, where = node.this, node.expression
    if agg.meta.get("filter_combined"):
        return cast(exp.Expression, agg)
    cond = where.this if isinstance(where, exp.Where) else where
    for kind, name in _IF_COMBINABLE.items():
        if type(agg) is kind:
            arg = agg.this
            if isinstance(arg, exp.Star):
                return _fn(name + "If", cond)
            if isinstance(arg, exp.Distinct):
                if name != "count":
                    break
                return _fn("uniqExactIf", *arg.expressions, cond)
            return _fn(name + "If", arg, cond)
    raise DialectError(f"FILTER on {agg.sql('duckdb')[:80]} is not mapped")


def _sort_keys(ordered: list[exp.Expression]) -> list[exp.Expression]:
    """ORDER BY keys as tuple members: ascending as they are, descending (numbers only) negated."""
    keys: list[exp.Expression] = []
    for o in ordered:
        key = o.this if isinstance(o, exp.Ordered) else o
        keys.append(exp.Neg(this=exp.Paren(this=key)) if isinstance(o, exp.Ordered) and o.args.get("desc") else key)
    return keys


def _ordered_list(order: exp.Expression, cond: exp.Expression | None) -> exp.Expression:
    """list(x ORDER BY k…) [FILTER (WHERE c)] → the values of groupArray[If]((k…, x)) sorted by the keys."""
    if not isinstance(order, exp.Order):
        return _fn("groupArray", order) if cond is None else _fn("groupArrayIf", order, cond)
    keys = _sort_keys(list(order.expressions))
    packed = exp.Tuple(expressions=[*keys, order.this])
    collected = _fn("groupArray", packed) if cond is None else _fn("groupArrayIf", packed, cond)
    pick = exp.Lambda(this=_fn("tupleElement", exp.column("t"), len(keys) + 1), expressions=[exp.to_identifier("t")])
    return exp.Anonymous(this="arrayMap", expressions=[pick, _fn("arraySort", collected)])


def _string_agg(node: exp.GroupConcat, cond: exp.Expression | None) -> exp.Expression:
    """string_agg(x, sep [ORDER BY …]); DISTINCT ordered by the value itself → sorted groupUniqArray."""
    sep = node.args.get("separator") or exp.Literal.string(",")
    inner = node.this
    if isinstance(inner, exp.Order) and isinstance(inner.this, exp.Distinct):
        values = inner.this.expressions
        keys = [o.this for o in inner.expressions if isinstance(o, exp.Ordered) and not o.args.get("desc")]
        if len(values) != 1 or len(keys) != 1 or keys[0] != values[0] or cond is not None:
            raise DialectError(f"string_agg(DISTINCT …) ordered by another key: {node.sql('duckdb')[:80]}")
        return _fn("arrayStringConcat", _fn("arraySort", _fn("groupUniqArray", values[0])), sep)
    return _fn("arrayStringConcat", _ordered_list(inner, cond), sep)


def _rewrite(node: exp.Expression, types: Mapping[str, str]) -> exp.Expression:
    if isinstance(node, exp.Placeholder):
        name = str(node.this)
        if name not in types:
            raise DialectError(f"parameter ${name} has no declared type")
        return exp.Placeholder(this=name, kind=exp.DataType.build(types[name], dialect="clickhouse"))
    if isinstance(node, exp.Filter) and not isinstance(node.parent, exp.Window):
        return _filtered(node)
    if isinstance(node, exp.PercentileCont):
        return _combined(_exact_quantile(node.expression, node.this, _filter_of(node)))
    if isinstance(node, exp.PercentileDisc):
        return _combined(_discrete_quantile(node.expression, node.this, _filter_of(node)))
    if isinstance(node, exp.Median):
        return _combined(_exact_quantile(exp.Literal.number(0.5), node.this, _filter_of(node)))
    if isinstance(node, exp.ArrayAgg):
        return _combined(_ordered_list(node.this, _filter_of(node)))
    if isinstance(node, exp.GroupConcat):
        return _combined(_string_agg(node, _filter_of(node)))
    if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
        return _fn("argMin", node.this.this, exp.Tuple(expressions=_sort_keys(list(node.this.expressions))))
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        lo, hi = node.expressions[0].this, node.expressions[0].expression
        return _fn("arraySlice", node.this, lo, exp.Add(this=exp.Sub(this=hi, expression=lo), expression=exp.Literal.number(1)))
    if isinstance(node, exp.IntDiv):
        return _fn("intDiv", node.this, node.expression)
    if isinstance(node, exp.UnixToTime):
        return _fn("fromUnixTimestamp64Micro", _fn("toInt64", node.this), "UTC")
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc):
        unit = node.args.get("unit")
        unit_expr = unit if isinstance(unit, exp.Placeholder | exp.Literal) else exp.Literal.string(str(node.unit).lower())
        return _date_trunc(unit_expr, node.this)
    if isinstance(node, exp.JSONExtractScalar):
        return _json_text(node.this, _json_key(node.expression))
    if isinstance(node, exp.Cast):
        hexed = _hex_to_ubigint(node)
        if hexed is not None:
            return hexed
        if node.to.is_type(exp.DType.DATE):
            return _fn("toDate", node.this)
    if isinstance(node, exp.TryCast) and node.to.is_type(exp.DType.DOUBLE):
        return _fn("toFloat64OrNull", _fn("toString", node.this))
    if isinstance(node, exp.Mode):
        return _mode(node.this)
    if isinstance(node, exp.ArgMax):
        return _fn("argMax", node.this, node.expression)
    if isinstance(node, exp.ArgMin):
        return _fn("argMin", node.this, node.expression)
    if isinstance(node, exp.LogicalOr):
        return _fn("toBool", _fn("max", node.this))
    if isinstance(node, exp.LogicalAnd):
        return _fn("toBool", _fn("min", node.this))
    if isinstance(node, exp.AnyValue):
        return _fn("any", node.this)
    if isinstance(node, exp.BitwiseAnd):  # ClickHouse has no `&` operator
        return _fn("bitAnd", node.this, node.expression)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "bit_count":
        return _fn("bitCount", *node.expressions)
    if isinstance(node, exp.Pad):
        return _fn("rightPad" if not node.args.get("is_left") else "leftPad", node.this, node.expression,
                   node.args.get("fill_pattern") or " ")
    if isinstance(node, exp.RegexpExtract):
        return _fn("regexpExtract", node.this, node.expression, node.args.get("group") or 0)
    if isinstance(node, exp.SplitPart):
        return _fn("arrayElement", _fn("splitByString", node.args["delimiter"], node.this), node.args["part_index"])
    if isinstance(node, exp.ArrayToString):
        return _fn("arrayStringConcat", node.this, node.expression)
    if isinstance(node, exp.TimeToStr):
        return _fn("formatDateTime", node.this, _ch_time_format(node.args["format"]))
    if isinstance(node, exp.Anonymous) and node.name.lower() in _DUCKDB_ONLY:
        raise DialectError(_DUCKDB_ONLY[node.name.lower()])
    if isinstance(node, exp.MD5):
        return _fn("lower", _fn("hex", _fn("MD5", node.this)))
    return node


@lru_cache(maxsize=256)
def _transpile(sql: str, types: tuple[tuple[str, str], ...]) -> str:
    typed = dict(types)
    statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    if len(statements) != 1:
        raise DialectError(f"expected one statement, found {len(statements)}")
    tree = cast(exp.Expression, statements[0])
    _restructure(tree)
    # bottom-up (children first), so that a rewritten function still has its arguments rewritten
    for node in reversed(list(tree.walk(bfs=True))):
        new = _rewrite(cast(exp.Expression, node), typed)
        if new is node:
            continue
        if node is tree:
            tree = new
        else:
            node.replace(new)
    _projections(tree)
    return tree.sql(dialect="clickhouse")


def to_clickhouse(sql: str, param_types: Mapping[str, type] | None = None) -> str:
    """ClickHouse SQL for DuckDB `sql`; `$name` parameters become `{name:Type}` from their Python types (cached)."""
    types = tuple(sorted((k, PARAM_TYPES[v]) for k, v in (param_types or {}).items()))
    return _transpile(sql, types)
