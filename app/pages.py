"""The page registry: each dashboard page's title, icon, audience, view and URL path; navigation is built from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.views import costs, executive, finops, mapping, overview, recommendations, services, slow_paths, trace, trace_search

# Navigation sections, in menu order. A page joins the menu by being listed in PAGES; a page is listed only once
# the queries it shows exist (FinOps, Executive and Recommendations wait for the scorecard and billing analyses).
AUDIENCES = ("Overview", "SRE", "FinOps", "Executive", "Recommendations")


@dataclass(frozen=True)
class PageSpec:
    """One page: `view` draws it from the current filters; `heading` is the title it shows (tests look for it)."""

    title: str
    icon: str
    audience: str
    view: Callable[[], None]
    url_path: str
    heading: str
    default: bool = False
    lazy_tabs: bool = False  # its view draws only the open tab (components.drawn); the warm-up draws them all

    @property
    def href(self) -> str:
        """The page's path in the browser: the default page lives at the app's root (Streamlit ignores its url_path)."""
        return "" if self.default else self.url_path


PAGES: tuple[PageSpec, ...] = (
    PageSpec("Estate overview", ":material/hub:", "Overview", overview.view, "overview", overview.HEADING, default=True),
    PageSpec("Mapping", ":material/rule:", "Overview", mapping.view, "mapping", mapping.HEADING),
    PageSpec("Slow paths", ":material/speed:", "SRE", slow_paths.view, "slow-paths", slow_paths.HEADING,
             lazy_tabs=True),
    PageSpec("Trace view", ":material/timeline:", "SRE", trace.view, "trace", trace.HEADING),
    PageSpec("Trace search", ":material/manage_search:", "SRE", trace_search.view, "search", trace_search.HEADING),
    PageSpec("Services", ":material/monitor_heart:", "SRE", services.view, "services", services.HEADING),
    PageSpec("Cost explorer", ":material/query_stats:", "FinOps", costs.view, "costs", costs.HEADING),
    PageSpec("Monthly costs", ":material/payments:", "FinOps", finops.view, "finops", finops.HEADING, lazy_tabs=True),
    PageSpec("Executive ROI", ":material/trending_up:", "Executive", executive.view, "executive", executive.HEADING),
    PageSpec("Recommendations", ":material/recommend:", "Recommendations", recommendations.view, "recommendations",
             recommendations.HEADING),
)


def by_path(url_path: str) -> PageSpec:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)
