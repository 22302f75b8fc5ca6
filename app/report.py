"""The decision memo as a file: HTML from queries/memo.py's contents, printed to PDF by the Debian Chromium."""

from __future__ import annotations

import html
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from queries import decisions
from queries.memo import Memo
from queries.units import format_value

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")
STYLE = """
@page { size: A4; margin: 14mm 13mm; }
body { font: 9.5pt/1.35 "DejaVu Sans", sans-serif; color: #1b1f24; }
h1 { font-size: 15pt; margin: 0 0 2pt; } h2 { font-size: 11pt; margin: 10pt 0 4pt; border-bottom: 1px solid #ccd; }
p.sub { color: #555; margin: 0 0 6pt; } table { border-collapse: collapse; width: 100%; margin-bottom: 4pt; }
th, td { text-align: left; padding: 2pt 4pt; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; } .bar { background: #4c78a8; height: 7pt; }
ul { margin: 0; padding-left: 12pt; } li { margin: 0; } .muted { color: #666; font-size: 8.5pt; }
.appendix { page-break-before: auto; } td.why { font-size: 8pt; color: #333; padding-bottom: 5pt; }
tr.move td { border-bottom: none; padding-top: 5pt; } tbody.keep, tr { break-inside: avoid; } td.bars { width: 45%; }
.kpi { display: inline-block; margin-right: 18pt; }
.kpi b { display: block; font-size: 12pt; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _money(amount: object, currency: str) -> str:
    return f"{format_value(amount, 'money')} {currency}" if isinstance(amount, int | float) else "–"


def _ms(value: float) -> str:
    return f"{value:+,.0f} ms"


def _period(m: Memo) -> str:
    def day(ns: int | None, fallback: str) -> str:
        return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d") if ns is not None else fallback
    return f"{day(m.start_ns, 'first charge')} to {day(m.end_ns, 'last charge')} (UTC, end exclusive)"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    th = "".join(f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _spend(m: Memo) -> str:
    kpis = "".join(f'<span class="kpi">Spend ({_e(r["currency"])})<b>{_money(r["effective_cost"], r["currency"])}'
                   "</b></span>" for r in m.spend.iter_rows(named=True))
    top = max((float(v) for v in m.by_month["effective_cost"].to_list() if v is not None), default=0.0) or 1.0
    rows = []
    for r in m.by_month.sort("time").iter_rows(named=True):
        month, width = r["time"].strftime("%Y-%m"), max(0.0, float(r["effective_cost"] or 0)) / top * 100
        label = month
        if m.last_day is not None and month == f"{m.last_day:%Y-%m}" and m.last_day < _month_end(m.last_day):
            label = f"{month} (billed to date: through {m.last_day:%b %d})"
        rows.append((_e(label), _money(r["effective_cost"], r["currency"]),
                     f'<div class="bar" style="width:{width:.1f}%"></div>'))
    months = _table(("Month", "Spend", "Spend, from zero"), rows, (1,)).replace("<td class=\"\"><div", "<td class=\"bars\"><div")
    tiers = _table(("Tier", "Spend", "Share"), [
        (_e(r["tier"] or "unallocated"), _money(r["effective_cost"], r["currency"]), _share(r, m.spend))
        for r in m.by_tier.iter_rows(named=True)], (1, 2))
    workloads = _table(("Top workloads", "Spend", "Share"), [
        (_e(r["workload"] or "unallocated"), _money(r["effective_cost"], r["currency"]), _share(r, m.spend))
        for r in m.top_workloads.iter_rows(named=True)], (1, 2))
    note = ('<p class="muted">Months are calendar months (UTC); a month the bills have not finished is partial. The '
            "bars start at zero.</p>")
    return f"<h2>1. Spend and where it goes</h2><p>{kpis}</p>{months}{note}{tiers}{workloads}"


def _month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _share(row: dict[str, object], spend: pl.DataFrame) -> str:
    total = float(spend.filter(pl.col("currency") == row["currency"])["effective_cost"].sum() or 0.0)
    amount = row["effective_cost"]
    if not isinstance(amount, int | float) or not total:
        return "–"
    return f"{100 * float(amount) / total:.1f} %"


def _moves(m: Memo) -> str:
    if not m.moves:
        return "<h2>2. Recommended moves</h2><p>No move is recommended on this store.</p>"
    rows = []
    for r in m.moves:
        key = decisions.key(r.workload, r.from_tier, r.to_tier, r.rule)
        low, high = r.delta_p95_ms_range
        rng = _ms(r.delta_p95_ms) if low == high else f"{_ms(r.delta_p95_ms)} ({low:+,.0f} to {high:+,.0f})"
        reasons = "".join(f"<li>{_e(x)}</li>" for x in r.reasons)
        rows.append(f"<tbody class='keep'><tr class='move'><td><b>{_e(r.workload)}</b> {_e(r.from_tier)} → {_e(r.to_tier)} "
                    f"<span class='muted'>({_e(r.rule)})</span></td>"
                    f"<td class='n'>{_money(r.delta_cost_usd_month, 'USD')}/month</td><td class='n'>{rng}</td>"
                    f"<td>{_e(r.evidence)}</td><td class='n'>{r.confidence:.0%}</td>"
                    f"<td class='n'>{_money(r.value_usd_month, 'USD')}/month</td>"
                    f"<td>{_e(m.decided.get(key, 'open'))}</td></tr>"
                    f"<tr><td colspan='7' class='why'><ul>{reasons}</ul></td></tr></tbody>")
    head = "".join(f"<th class='{c}'>{h}</th>" for h, c in (("Move", ""), ("Δ cost", "n"), ("Δ p95 (range)", "n"),
                                                             ("Evidence", ""), ("Confidence", "n"), ("Value", "n"),
                                                             ("Status", "")))
    table = f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    s = m.savings
    totals = (f"<p>Projected savings (moves not dismissed that lower cost): "
              f"<b>{_money(s['projected_savings_usd_month'], 'USD')}/month</b>; realised (accepted): "
              f"<b>{_money(s['realised_savings_usd_month'], 'USD')}/month</b>. Value counts latency and compliance "
              f"beside money and is not money (appendix).</p>")
    return f"<h2>2. Recommended moves (top {len(m.moves)}, by value)</h2>{table}<h2>3. Savings</h2>{totals}"


def render_html(m: Memo) -> str:
    """The memo as one self-contained HTML page (printable on two A4 pages)."""
    appendix = _table(("", "Method and assumptions"), [(f"<b>{_e(k)}</b>", _e(v)) for k, v in m.method])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>tierwise decision memo</title>"
            f"<style>{STYLE}</style></head><body><h1>Placement decision memo</h1>"
            f"<p class='sub'>Period: {_e(_period(m))}. Generated {m.generated_at:%Y-%m-%d %H:%M} UTC by tierwise "
            f"from the same store, queries and recommendations as the dashboard.</p>"
            f"{_spend(m)}{_moves(m)}<div class='appendix'><h2>Appendix: method and assumptions</h2>{appendix}</div>"
            "</body></html>")


def write(m: Memo, out: Path, fmt: str) -> Path:
    """Write the memo to `out` as html or pdf (printed by Chromium from the HTML); returns `out`."""
    page = render_html(m)
    if fmt == "html":
        out.write_text(page, encoding="utf-8")
        return out
    with tempfile.TemporaryDirectory(prefix="tierwise-memo-") as tmp:
        source = Path(tmp) / "memo.html"
        source.write_text(page, encoding="utf-8")
        done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
                               f"--print-to-pdf={out.resolve()}", source.as_uri()],
                              capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"Chromium could not print {out}: {done.stderr.strip()[-300:]}")
    return out
