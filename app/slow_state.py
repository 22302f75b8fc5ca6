"""The Slow paths page's own controls (percentile, columns, batch toggle, the clicked cell, the open tab, the critical
path's workload) as plain values and their URL form: pure functions, so every control round-trips through the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.state import param_text
from queries.catalog import TIER_NAMES

PERCENTILES = ("p50", "p95", "p99")
COLUMNS = ("workload", "site")
TABS = ("Slow traces", "Over time", "Hops", "Critical path", "Slow-path finder", "Latency budgets", "GPU and queues",
        "Caches", "Trust zones")
KEYS = ("pct", "cols", "batch", "cell_tier", "cell", "cell_type", "tab", "cp")  # every URL key the page owns
BATCH_TYPES = ("training", "batch", "embedding")  # workload types request latency leaves out unless asked for


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: requests entering `tier` for workload (or at site) `value`; `workload_type` is set when
    batch and training work is included (the model then groups by it), else None (interactive work only)."""

    tier: str
    value: str
    workload_type: str | None = None


@dataclass(frozen=True)
class SlowView:
    """What the Slow paths page shows besides the sidebar's filters; defaults are left out of the URL."""

    percentile: str = "p95"
    columns: str = "workload"
    batch: bool = False
    cell: Cell | None = None
    tab: str = TABS[0]
    cp_workload: str | None = None  # the critical path's workload, when the reader picked one other than the default

    @property
    def measure(self) -> str:
        """The semantic model's measure for the percentile: 'p95' → 'latency_p95_ms'."""
        return f"latency_{self.percentile}_ms"

    def to_query_params(self) -> dict[str, str]:
        raw = {"pct": self.percentile if self.percentile != "p95" else None,
               "cols": self.columns if self.columns != "workload" else None,
               "batch": "yes" if self.batch else None,
               "cell_tier": self.cell.tier if self.cell else None,
               "cell": self.cell.value if self.cell else None,
               "cell_type": self.cell.workload_type if self.cell else None,
               "tab": self.tab if self.tab != TABS[0] else None,
               "cp": self.cp_workload}
        return {k: v for k, v in raw.items() if v is not None}


def parse(params: Mapping[str, str | list[str]]) -> SlowView:
    """The page's controls from URL query parameters; a malformed value falls back to its default. Workload and site
    names are checked against the data by the page (a cell not in the heatmap is dropped there)."""
    pct, cols, tab = param_text(params, "pct"), param_text(params, "cols"), param_text(params, "tab")
    batch = param_text(params, "batch") in ("yes", "1", "true")
    tier, value, kind = param_text(params, "cell_tier"), param_text(params, "cell"), param_text(params, "cell_type")
    cell = None
    if tier in TIER_NAMES and value is not None and (kind is None or (batch and kind.isprintable())):
        cell = Cell(tier, value, kind if batch else None)
    return SlowView(percentile=pct if pct in PERCENTILES else "p95", columns=cols if cols in COLUMNS else "workload",
                    batch=batch, cell=cell, tab=tab if tab in TABS else TABS[0], cp_workload=param_text(params, "cp"))


def cell_label(value: str, workload_type: str | None, columns: str) -> str:
    """A heatmap column's label: the workload or site; by site with batch included, the site and the workload type
    (the model groups by both, since batch and training come in only by their type)."""
    return f"{value} · {workload_type}" if columns == "site" and workload_type else value
