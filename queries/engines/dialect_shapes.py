"""Query-shape rewrites ClickHouse spells differently from DuckDB: VALUES, LATERAL, positional GROUP BY, aliases, stars."""

from __future__ import annotations

from sqlglot import exp


def fn(name: str, *args: exp.Expression | str | int) -> exp.Anonymous:
    """A ClickHouse function call; str and int arguments become literals."""
    return exp.Anonymous(this=name, expressions=[lit(a) for a in args])


def lit(value: exp.Expression | str | int) -> exp.Expression:
    if isinstance(value, exp.Expression):
        return value
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def projections(tree: exp.Expression) -> None:
    """Output names and types as DuckDB gives them.

    `t.col` is named `col` (ClickHouse keeps `t.col` when a join has two such columns); comparisons are UInt8 in
    ClickHouse, so projected ones become Bool, as DuckDB's BOOLEAN.
    """
    predicates = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)
    for select in tree.find_all(exp.Select):
        for i, column in enumerate(select.expressions):
            if isinstance(column, exp.Column) and column.table and not isinstance(column.this, exp.Star):
                select.expressions[i] = exp.alias_(column.copy(), column.name)
                continue
            target = column.this if isinstance(column, exp.Alias) else column
            if isinstance(target, exp.Paren | exp.Coalesce):
                boolean = any(isinstance(a, predicates) for a in (target.this, *target.expressions))
            else:
                boolean = isinstance(target, predicates)
            if boolean:
                wrapped = fn("toBool", target.copy())
                if isinstance(column, exp.Alias):
                    column.set("this", wrapped)
                else:
                    select.expressions[i] = wrapped


def _lateral_values(select: exp.Select) -> None:
    """`, LATERAL (VALUES (k, v), …) AS a(c1, c2)` (an unpivot) → `ARRAY JOIN [(k, v), …] AS a`, `a.ci` → tupleElement."""
    for join in select.args.get("joins") or []:
        lateral = join.this
        if not (isinstance(lateral, exp.Lateral) and isinstance(lateral.this, exp.Subquery)
                and isinstance(lateral.this.this, exp.Values)):
            continue
        alias = lateral.args["alias"]
        name, columns = alias.name, [c.name for c in alias.columns]
        rows = exp.Array(expressions=[t.copy() for t in lateral.this.this.expressions])
        join.replace(exp.Join(this=exp.alias_(rows, name), kind="ARRAY"))
        for column in list(select.find_all(exp.Column)):
            if column.table in (name, "") and column.name in columns and column.find_ancestor(exp.Select) is select:
                element = fn("tupleElement", exp.column(name), columns.index(column.name) + 1)
                column.replace(exp.alias_(element, column.name) if column.parent is select else element)


def _cte_values(cte: exp.CTE) -> None:
    """`name(c1, c2) AS (VALUES …)` → `name AS (SELECT v1 AS c1, v2 AS c2 UNION ALL …)`."""
    body, alias = cte.this, cte.args.get("alias")
    values = body.args.get("from_") or body.args.get("from") if isinstance(body, exp.Select) else None
    if values is None or not isinstance(values.this, exp.Values) or alias is None or not alias.columns:
        return
    names = [c.name for c in alias.columns]
    selects = [exp.select(*[exp.alias_(v.copy(), n) for v, n in zip(row.expressions, names, strict=True)])
               for row in values.this.expressions]
    union: exp.Expression = selects[0]
    for nxt in selects[1:]:
        union = exp.union(union, nxt, distinct=False)
    cte.set("this", union)
    alias.set("columns", None)


def _positional_group_by(select: exp.Select) -> None:
    """`GROUP BY 1, 2` → the projected expressions themselves (ClickHouse would resolve names, not positions)."""
    group = select.args.get("group")
    if group is None:
        return
    for key in list(group.expressions):
        if isinstance(key, exp.Literal) and not key.is_string:
            target = select.expressions[int(key.this) - 1]
            key.replace((target.this if isinstance(target, exp.Alias) else target).copy())


def _unshadow(select: exp.Select) -> None:
    """`f(x) AS x`: DuckDB's WHERE/GROUP BY/HAVING and the other projections mean the column x, ClickHouse the alias;
    qualifying those references with the FROM table keeps them on the column (ORDER BY means the alias in both)."""
    source = select.args.get("from_") or select.args.get("from")
    if source is None or select.args.get("joins"):
        return
    table = source.this.alias_or_name
    shadowing = {a.alias for a in select.expressions if isinstance(a, exp.Alias)
                 and any(c.name == a.alias and not c.table for c in a.this.find_all(exp.Column))}
    if not table or not shadowing:
        return
    scopes: list[exp.Expression] = [select.args[k] for k in ("where", "group", "having") if select.args.get(k)]
    scopes += [a.this if isinstance(a, exp.Alias) else a for a in select.expressions]
    for scope in scopes:
        for column in list(scope.find_all(exp.Column)):
            if column.name in shadowing and not column.table and column.find_ancestor(exp.Select) is select:
                column.set("table", exp.to_identifier(table))


def _output_names(query: exp.Expression) -> list[str] | None:
    """Column names a CTE body yields, when every projection is named in the SQL (no `*`)."""
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return None
    names = [e.alias_or_name for e in query.expressions]
    return None if any(isinstance(e, exp.Star) or e.is_star or not n for e, n in zip(query.expressions, names, strict=True)) \
        else names


def _expand_stars(tree: exp.Expression) -> None:
    """`t.*` over a CTE in a join → `t.a AS a, …`: ClickHouse names such columns `t.a` when another table has an `a`."""
    ctes = {cte.alias: _output_names(cte.this) for cte in tree.find_all(exp.CTE)}
    for select in list(tree.find_all(exp.Select)):
        if not select.args.get("joins"):
            continue
        sources = [select.args.get("from_") or select.args.get("from")] + list(select.args["joins"])
        aliases = {src.this.alias_or_name: ctes.get(src.this.name) for src in sources
                   if src is not None and isinstance(src.this, exp.Table)}
        projections: list[exp.Expr] = []
        for e in select.expressions:
            names = aliases.get(e.table) if isinstance(e, exp.Column) and isinstance(e.this, exp.Star) else None
            projections += [exp.alias_(exp.column(n, table=e.table), n) for n in names] if names else [e]
        select.set("expressions", projections)


def restructure(tree: exp.Expression) -> None:
    """Rewrite, in place, the query shapes ClickHouse does not take as DuckDB writes them."""
    _expand_stars(tree)
    for cte in list(tree.find_all(exp.CTE)):
        cte.set("materialized", None)  # a DuckDB planning hint; ClickHouse has no such keyword
        _cte_values(cte)
    for select in list(tree.find_all(exp.Select)):
        _lateral_values(select)
        _positional_group_by(select)
        _unshadow(select)


