"""FinOps checks on the page: anomalies that matter (queries/anomalies.py), budgets (queries/budgets.py) and the
allocation table (queries/allocation_table.py): the numbers `tierwise anomalies`, `tierwise budgets` and `tierwise query
cost_allocation_table` give."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from app import components, data
from app.views import finops_month
from queries import anomalies, budgets
from queries import cost_explorer as cx
from queries.semantic import present
from queries.units import format_value
from store.settings import current_settings

STATUS = {"ok": "✅ ok", "warning": "⚠️ warning", "forecast_breach": "🟠 forecast to breach", "breached": "🔴 breached"}
EXAMPLE = '''[[budget]]
name = "hyperscale GPUs"
amount = 20000                # per calendar month (UTC), in `currency`
currency = "USD"
where = { tier = "hyperscale", cloud_service = "Amazon SageMaker" }   # any cost dimension, or tag:<key>
alert_pct = [80, 100]         # warning from 80 % of the amount (spend or forecast)'''


def explorer_link(a: anomalies.Anomaly) -> str:
    """The cost explorer on the anomaly's value, over its day and the week whose median set the expected cost."""
    by = "workload" if a.dimension != "workload" else "cloud_service"
    e = cx.Explore("custom", a.day - timedelta(days=anomalies.WINDOW_DAYS), a.day, "day", by,
                   ((a.dimension, a.value),))
    return "costs?" + urlencode(e.to_params())


def anomalies_section() -> None:
    led = finops_month.ledger()
    window = anomalies.window_before(led.last_start)
    if window is None:
        components.no_rows("billing rows")
        return
    least = st.number_input("Minimum impact (in the day's currency)", min_value=0.0, value=anomalies.MIN_IMPACT,
                            step=10.0, key="fin_anom_min", help="or 20 % of the expected cost, whichever is larger")
    first = data.query("ledger_coverage")["first_charge_start"][0]
    found = anomalies.find_with(finops_month.run, first, window[0], window[1], least)
    st.caption(f"Days from {finops_month.data_day(window[0])} to {finops_month.data_day(window[1] - timedelta(days=1))}"
               f" (the ledger's last 30 days) whose effective cost per cloud service, workload, site or account rose "
               f"above the expected (the median of its previous {anomalies.WINDOW_DAYS} days) by at least "
               f"{format_value(least, 'count')} in the day's currency or {anomalies.MIN_SHARE:.0%} of the expected, "
               "whichever is larger, and beyond the usual day-to-day noise. Each spike is listed once, by the "
               "dimension that drives it, largest money impact first: `tierwise anomalies`. Whole ledger: no filter "
               "applies.")
    if not found:
        st.success("No anomaly: no day cost more than expected by the minimum impact.", icon=":material/check:")
        return
    rows = [{"Rank": str(i), "Day": a.day.isoformat(), "Driver": present.labels([a.dimension])[a.dimension],
             "Value": a.value, "Actual": format_value(a.actual, "money", a.currency),
             "Expected": format_value(a.expected, "money", a.currency),
             "Impact": format_value(a.impact, "money", a.currency),
             "Impact %": format_value(100 * a.impact / a.expected if a.expected else None, "pct"),
             "Explore": explorer_link(a)} for i, a in enumerate(found, 1)]
    st.dataframe(pl.DataFrame(rows), key="fin_anomalies_table", hide_index=True, column_config={
        "Explore": st.column_config.LinkColumn("Explore", display_text="open in the cost explorer")})
    st.download_button("Download CSV", pl.DataFrame([a.as_dict() for a in found]).write_csv(),
                       file_name="anomalies.csv", mime="text/csv", key="fin_anomalies_csv",
                       icon=":material/download:")


def _scope(where: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in where) or "whole ledger"


def budgets_section() -> None:
    config = current_settings().config_path
    try:
        chosen = budgets.configured(config)
    except budgets.BudgetError as e:
        st.error(str(e), icon=":material/error:")
        return
    if not chosen:
        st.info(f"No budget is configured{f' in `{config}`' if config else ''}. Add one to tierwise.toml, then "
                "refresh: each `[[budget]]` is checked here and by `tierwise budgets` (exit code 3 on a breach or a "
                "forecast breach, for cron or CI).", icon=":material/savings:")
        st.code(EXAMPLE, language="toml")
        return
    led = finops_month.ledger()
    try:
        found = budgets.report_with(finops_month.run, chosen, budgets.month_of(led.last_start), led.last_end)
    except budgets.BudgetError as e:
        st.error(str(e), icon=":material/error:")
        return
    counts = {s: sum(1 for b in found if b.status == s) for s in budgets.STATUSES}
    st.caption(f"{len(found)} budget{'s' if len(found) != 1 else ''} for {found[0].month}, as of "
               f"{finops_month.data_day(found[0].as_of)}: " + ", ".join(f"{n} {STATUS[s].split(' ', 1)[1]}"
                                                                        for s, n in counts.items() if n)
               + ". Spend is effective cost under each budget's filters in its currency; the forecast adds the "
               f"month's remaining days at the median daily spend of the last {budgets.RUN_RATE_DAYS} days "
               "(`tierwise budgets`, which exits 3 on a breach or forecast breach).")
    rows = []
    for s in found:
        b, d = s.budget, s.as_dict()
        rows.append({"Budget": b.name, "Status": STATUS[s.status], "Scope": _scope(b.where),
                     "Amount": format_value(b.amount, "money", b.currency),
                     "Spent": format_value(s.actual, "money", b.currency), "Used": format_value(d["used_pct"], "pct"),
                     "Forecast": format_value(s.forecast, "money", b.currency),
                     "Forecast %": format_value(d["forecast_pct"], "pct"),
                     "Alerts": ", ".join(f"{a:g} %" for a in b.alert_pct)})
    st.dataframe(pl.DataFrame(rows), key="fin_budgets_table", hide_index=True)
    st.download_button("Download CSV", json.dumps([s.as_dict() for s in found], indent=1), file_name="budgets.json",
                       mime="application/json", key="fin_budgets_csv", icon=":material/download:")


def allocation_section() -> None:
    rows = data.query("cost_allocation_table")
    if rows.height == 0:
        components.no_rows("allocated costs")
        return
    ledger = data.metric(("effective_cost",), ())
    if ledger.height > 1:
        st.warning("The ledger holds more than one currency; the allocation inputs carry no currency, so this table "
                   "adds them. Read it per currency with the cost explorer instead.", icon=":material/warning:")
    money = [c for c in rows.columns if c.endswith("_usd")]
    total = rows.select(pl.lit(present.TOTAL).alias("workload"), pl.lit("all").alias("tier"),
                        *(pl.col(c).sum() for c in money),
                        (pl.col("gpu_used_usd").sum() / pl.col("gpu_paid_usd").sum()).alias("gpu_efficiency_ratio"))
    full = pl.concat([rows, total.select(rows.columns)], how="vertical_relaxed")
    names = {"workload": "Workload", "tier": "Tier", "allocated_usd": "Allocated", "shared_usd": "Shared",
             "idle_usd": "Idle GPU", "total_usd": "Total", "gpu_used_usd": "GPU used", "gpu_paid_usd": "GPU paid",
             "gpu_efficiency_ratio": "GPU efficiency"}
    shown = full.select(
        "workload", "tier", *(pl.col(c).map_elements(lambda v: format_value(v, "money", "USD"), return_dtype=pl.String)
                              for c in money if not c.startswith("gpu_")),
        pl.Series("gpu_efficiency_ratio", ["– (no GPU money)" if v is None else format_value(100 * v, "pct")
                                           for v in full["gpu_efficiency_ratio"].to_list()], dtype=pl.String),
    )
    shown = shown.rename({k: v for k, v in names.items() if k in shown.columns})
    ledger_usd = ledger.filter(currency="USD")["effective_cost"].sum() if ledger.height else 0.0
    summed = format_value(float(total["total_usd"][0]), "money", "USD")
    st.caption("Per workload and tier, Kubecost's way: **Allocated** is money linked to the workload by tag or "
               "resource; **Shared** its part of its sites' charges, split by the requests each workload sent there "
               "that day; **Idle GPU** its part of the money those sites' GPUs left unused (1 − measured utilization),"
               " split the same way; **GPU efficiency** is used ÷ paid on GPU sites (the CSV holds both amounts). "
               "Unallocated money (no workload, "
               f"no usage in its site) is its own row. The Total row, {summed}"
               f", is the ledger's effective cost ({format_value(ledger_usd, 'money', 'USD')}, `tierwise metric "
               "effective_cost`). Whole ledger: no filter applies (`tierwise query cost_allocation_table`).")
    st.dataframe(shown, key="fin_allocation_table", hide_index=True, height=35 * (shown.height + 1) + 3)
    st.download_button("Download CSV", rows.write_csv(), file_name="cost_allocation_table.csv", mime="text/csv",
                       key="fin_allocation_csv", icon=":material/download:")
