"""Cost explorer, the home of FinOps: any range (presets counted back from the ledger's latest charge), grain,
group-by (any cost dimension or billing tag) and filters, all in the URL; saved views from `[[view]]`; the month so
far; a stacked chart, its table with totals, and the CSV."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import streamlit as st

from app import charts_costs, components, data
from app.views import common, finops_month, url_controls
from queries import cost_explorer as cx
from queries.semantic import metric as metrics
from queries.semantic import present
from queries.units import format_value
from store.settings import current_settings

HEADING = "FinOps: cost explorer"
NO_VIEW = "(current selection)"
OFFSET = {"day": timedelta(days=1), "week": timedelta(days=7)}


def _label(dim: str) -> str:
    return f"Tag {dim.removeprefix('tag:')}" if dim.startswith("tag:") else present.labels([dim])[dim]


def _widgets(e: cx.Explore) -> dict[str, object]:
    """Widget key → value showing `e`."""
    out: dict[str, object] = {"cx_range": e.range, "cx_grain": e.grain, "cx_by": e.by,
                              "cx_filters": [d for d, _ in e.where]}
    if e.range == "custom":
        out["cx_days"] = tuple(d for d in (e.start, e.end) if d)
    return out | {f"cx_w_{d}": v for d, v in e.where}


def _from_widgets() -> cx.Explore:
    """The explorer the widgets show (their session state)."""
    s = st.session_state
    rng = s.get("cx_range") or cx.Explore().range
    picked = [d for d in (s.get("cx_days") or ()) if isinstance(d, date)] if rng == "custom" else []
    start, end = (min(picked), max(picked)) if picked else (None, None)
    if rng == "custom" and start is None:
        rng = cx.Explore().range
    where = tuple(sorted((d, str(s[f"cx_w_{d}"])) for d in s.get("cx_filters") or () if s.get(f"cx_w_{d}")))
    return cx.Explore(rng, start, end, s.get("cx_grain") or "day", s.get("cx_by") or "tier", where)


def _apply_view() -> None:
    chosen = {v.name: v for v in _views()}.get(str(st.session_state.get("cx_view")))
    if chosen is not None:
        for key in [k for k in st.session_state if str(k).startswith("cx_w_")]:
            del st.session_state[key]
        st.session_state.update(_widgets(chosen.explore))
        if chosen.explore.range != "custom":
            st.session_state.pop("cx_days", None)


def _views() -> tuple[cx.SavedView, ...]:
    return cx.configured_views(current_settings().config_path)


def _values(dim: str) -> list[str]:
    rows = data.metric(("effective_cost",), (dim,))
    return sorted({str(v) for v in rows[dim].to_list() if v is not None})


def _controls(led: finops_month.Ledger) -> cx.Explore:
    url_controls.seed(_widgets(cx.parse(url_controls.opened_with())))
    try:
        views = _views()
    except cx.ViewError as err:
        st.error(f"Saved views: {err}", icon=":material/error:")
        views = ()
    names = [v.name for v in views]
    current = _from_widgets()
    st.session_state["cx_view"] = next((v.name for v in views if v.explore == current), NO_VIEW)
    st.segmented_control("Range", list(cx.RANGES), key="cx_range", format_func=lambda r: cx.RANGES[r])
    if st.session_state.get("cx_range") == "custom" and led.first and led.last:
        days = st.session_state.get("cx_days")
        if not days or not all(led.first <= d <= led.last for d in days):
            st.session_state["cx_days"] = (led.first, led.last)
        st.columns(2)[0].date_input("Days (UTC, inclusive)", key="cx_days", min_value=led.first, max_value=led.last)
    tags = [f"tag:{k}" for k in data.query("cost_tag_keys")["tag_key"].to_list()]
    dims = list(dict.fromkeys([*cx.DIMENSIONS, *tags, *(d for d, _ in current.where), current.by]))
    top = st.columns(3)
    top[0].selectbox("Saved view", [NO_VIEW, *names], key="cx_view", on_change=_apply_view,
                     help="`[[view]]` tables in tierwise.toml (docs/billing.md#saved-views)")
    top[1].segmented_control("Grain", cx.GRAINS, key="cx_grain")
    top[2].selectbox("Group by", dims, key="cx_by", format_func=_label)
    chosen = st.multiselect("Filter on", dims, key="cx_filters", format_func=_label)
    if chosen:
        for col, dim in zip(st.columns(min(len(chosen), 4)) * (len(chosen) // 4 + 1), chosen, strict=False):
            values = _values(dim)
            held = st.session_state.get(f"cx_w_{dim}")
            options = values if held in values or held is None else [str(held), *values]
            col.selectbox(_label(dim), options, key=f"cx_w_{dim}")
    e = _from_widgets()
    url_controls.write(e.to_params(), [*cx.KEYS, *(k for k in st.query_params if k.startswith(cx.FILTER_PREFIX))])
    return e


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Effective cost (after discounts and commitments) by any dimension, over any range, at any grain; "
               "every choice is in the URL, so a view is saved as a link or as a `[[view]]` in tierwise.toml. Presets "
               "count back from the ledger's latest charge, not from today.")
    if not data.models_measures():
        st.info("The cost explorer runs on the semantic model, which runs on the DuckDB store.")
        return
    led = finops_month.ledger()
    if led.last is None:
        components.no_rows("billing rows")
        return
    e = _controls(led)
    where = tuple(sorted((dict(f.where()) | dict(e.where)).items()))
    start, end = cx.days(e, led.first, led.last)
    shown = ", ".join(f"{_label(d)} = {v}" for d, v in where) or "none"
    st.caption(f"{cx.RANGES[e.range]}: {finops_month.data_day(start)} – {finops_month.data_day(end)} (UTC, the "
               f"ledger's last day is {finops_month.data_day(led.last)}). Filters: {shown}; the sidebar's tier, site "
               "and workload add to these, its time range gives way to the range here.")
    with st.expander(f"The month so far: {led.last:%B %Y} to date, like with like, and its forecast", expanded=True):
        finops_month.section(where, "cx_month")
    if start is None or end is None or start > end:
        components.no_rows("days")
        return
    _explore(e, where, start, end, led)


def _partial(times: list[datetime], grain: str, start: date, end: date, led: finops_month.Ledger) -> set[datetime]:
    lo, hi = max(start, led.first or start), min(end, led.last or end)
    out = set()
    for t in times:
        first = t.date()
        nxt = first + OFFSET[grain] if grain in OFFSET else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        if first < lo or nxt - timedelta(days=1) > hi:
            out.add(t)
    return out


def _explore(e: cx.Explore, where: tuple[tuple[str, str], ...], start: date, end: date,
             led: finops_month.Ledger) -> None:
    lo, hi = finops_month.ns(start), finops_month.ns(end + timedelta(days=1))
    series = data.metric(("effective_cost",), ("time", e.by), where, lo, hi, grain=e.grain)
    if series.height == 0:
        components.no_rows("costs")
        return
    totals = data.metric(("effective_cost",), (e.by,), where, lo, hi)
    grand = data.metric(("effective_cost",), (), where, lo, hi)
    label = _label(e.by)
    partial = _partial(series["time"].unique().to_list(), e.grain, start, end, led)
    for currency in series["currency"].unique().sort().to_list():
        order = [charts_costs.group_label(v) for v in
                 totals.filter(currency=currency).sort("effective_cost", descending=True)[e.by].to_list()]
        part = series.filter(currency=currency)
        components.chart(charts_costs.explorer(part, e.by, label, e.grain, currency, partial, order),
                         f"cx_chart_{currency}")
        st.dataframe(_table(part, totals.filter(currency=currency), grand.filter(currency=currency), e, label,
                            currency), key=f"cx_table_{currency}", hide_index=True)
    cmd = " ".join([f"tierwise metric effective_cost --by {e.by}", *(f"--where '{d}={v}'" for d, v in where),
                    f"--from {start} --to {end + timedelta(days=1)}"])
    st.caption(f"Each row's Total and the Total row are `{cmd}` (per currency, never added across currencies); the "
               "columns are its time buckets (`--by time," + e.by + f" --grain {e.grain}`). Hatched buckets are only "
               "partly inside the range or the ledger.")
    st.download_button("Download CSV", metrics.rows_for_output(series).write_csv(),
                       file_name=f"effective_cost_by_{e.grain}_{e.by.replace(':', '_')}.csv", mime="text/csv",
                       key="cx_csv", icon=":material/download:")


def _table(part: pl.DataFrame, totals: pl.DataFrame, grand: pl.DataFrame, e: cx.Explore, label: str,
           currency: str) -> pl.DataFrame:
    """One row per group (largest first) with a column per time bucket and its Total; a Total row last."""
    def money(v: object) -> str:
        return format_value(v, "money", currency)

    times = sorted(part["time"].unique().to_list())
    cells = {(charts_costs.group_label(r[e.by]), r["time"]): r["effective_cost"] for r in part.iter_rows(named=True)}
    rows = []
    for r in totals.sort("effective_cost", descending=True).iter_rows(named=True):
        group = charts_costs.group_label(r[e.by])
        rows.append({label: group, "Total": money(r["effective_cost"]),
                     **{charts_costs.period_label(t, e.grain): money(cells.get((group, t), 0.0)) for t in times}})
    by_time = part.group_by("time").agg(pl.col("effective_cost").sum())
    sums = dict(zip(by_time["time"].to_list(), by_time["effective_cost"].to_list(), strict=True))
    rows.append({label: present.TOTAL, "Total": money(grand["effective_cost"][0] if grand.height else 0.0),
                 **{charts_costs.period_label(t, e.grain): money(sums.get(t, 0.0)) for t in times}})
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))
