"""Catalogue entries for mapping: how much of the store is placed, and the largest groups that are not."""

from __future__ import annotations

from queries.catalog import Query, setting

LIMIT = setting("limit", int, "rows to list, largest first", 20, 1, 1000)

MAPPING: tuple[Query, ...] = (
    Query("mapping_coverage", "Share of spans, requests and money (per currency) that is placed: a tier other than "
          "unknown, or linked to a workload.", (),
          (("mapped", "unit"), ("total", "unit"), ("mapped_pct", "% of total")), sql="mapping_coverage"),
    Query("unmapped_span_groups", "Spans of tier unknown, grouped by the strongest attribute of where they run, "
          "largest first.", (LIMIT,), (("spans", "spans"), ("services", "distinct service.name")),
          sql="unmapped_span_groups"),
    Query("unallocated_cost_groups", "Money linked to no workload, per currency, provider, account and service, "
          "largest first.", (LIMIT,), (("effective_cost", "currency"), ("billed_cost", "currency"), ("rows", "rows")),
          sql="unallocated_cost_groups"),
)
