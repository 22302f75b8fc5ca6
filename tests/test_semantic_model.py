"""The semantic model as data: its registry is consistent, its docs page is current, and nonsense is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_helpers import run_cli

from queries.semantic import docs, metric, model, present
from queries.semantic.model import ModelError
from queries.units import UNITS

REQUIRED_MEASURES = {"requests", "requests_sampled", "errors", "error_rate_pct", "latency_p50_ms", "latency_p95_ms",
                     "latency_p99_ms", "egress_gb_observed", "egress_gb_billed", "effective_cost", "billed_cost",
                     "gpu_hours", "gpu_utilization_pct", "cache_hit_rate_pct", "input_tokens", "output_tokens",
                     "cost_per_1k_requests", "cost_per_1m_tokens"}
REQUIRED_DIMENSIONS = {"time", "tier", "site", "workload", "workload_type", "service", "operation", "data_class",
                       "provider", "cloud_service", "service_category", "charge_category", "account", "currency"}


def test_the_model_defines_every_required_measure_and_dimension_once() -> None:
    names = [m.name for m in model.model().measures]
    assert len(names) == len(set(names)) and set(names) >= REQUIRED_MEASURES
    assert {d.name for d in model.model().dimensions} >= REQUIRED_DIMENSIONS
    assert all(m.unit in UNITS and m.label and m.meaning and m.definition for m in model.model().measures)
    assert model.dimension("tag:team").expr("costs") == "tag"


def test_docs_measures_md_is_generated_from_the_model() -> None:
    assert docs.DOC.read_text(encoding="utf-8") == docs.render(), \
        "docs/measures.md is stale: run `python -m queries.semantic.docs`"


@pytest.mark.parametrize(("measures", "by", "where", "message"), [
    (("requests",), ("cloud_service",), (), "grouped by 'cloud_service' means nothing for measure 'requests'"),
    (("effective_cost",), ("operation",), (), "grouped by 'operation' means nothing for measure 'effective_cost'"),
    (("cost_per_1k_requests",), ("provider",), (), "means nothing for measure 'cost_per_1k_requests'"),
    (("requests",), (), (("currency", "USD"),), "filtered on 'currency' means nothing for measure 'requests'"),
    (("p95",), (), (), "no measure 'p95'"),
    (("requests",), ("colour",), (), "no dimension 'colour'"),
    (("effective_cost",), ("tag:bad\"key",), (), "tag key"),
])
def test_meaningless_combinations_are_refused_with_a_clear_message(
        measures: tuple[str, ...], by: tuple[str, ...], where: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        metric.explain(metric.Request(measures, by, where))


def test_the_cli_lists_measures_as_json_and_refuses_in_one_line(tmp_path: Path) -> None:
    listed = run_cli("metric", "--list", "--format", "json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert {r["name"] for r in rows} >= REQUIRED_MEASURES
    assert all({"name", "unit", "description"} <= set(r) for r in rows)
    refused = run_cli("metric", "requests", "--by", "provider", "--db", str(tmp_path / "none.duckdb"))
    assert refused.exit_code == 2 and "means nothing for measure 'requests'" in refused.output
    assert "Traceback" not in refused.output
    bad_time = run_cli("metric", "requests", "--from", "yesterday", "--db", str(tmp_path / "none.duckdb"))
    assert bad_time.exit_code == 2 and "--from" in bad_time.output and "Traceback" not in bad_time.output


def test_currency_rates_come_from_the_config() -> None:
    cfg = metric.currency_config({"currency": {"report": "usd", "rates": {"cad": 0.75}}})
    assert cfg == metric.Currency("USD", (("CAD", 0.75),))
    with pytest.raises(ModelError, match="report"):
        metric.currency_config({"currency": {"rates": {"CAD": 0.75}}})
    with pytest.raises(ModelError, match="above 0"):
        metric.currency_config({"currency": {"report": "USD", "rates": {"CAD": 0}}})


def test_periods_are_labelled_with_the_days_they_cover() -> None:
    from datetime import date

    from queries.semantic.present import period_label

    assert period_label(date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 6)) == "Nov 1–30 2026"
    assert period_label(date(2026, 12, 1), date(2027, 1, 1), date(2026, 12, 6)) == "Dec 1–6 2026, to date"
    assert period_label(date(2026, 11, 30), date(2026, 12, 1), None) == "Nov 30 2026"
    assert period_label(date(2026, 11, 7), date(2027, 1, 1), None) == "Nov 7 2026 – Dec 31 2026"


@pytest.mark.parametrize(("column", "beside_currency", "shown"), [
    ("p95_delta_ms", False, "p95 delta (ms)"), ("hit_ratio", False, "Hit ratio (%)"), ("error_rate", False, "Error rate (%)"),
    ("cost_saved_usd", False, "Cost saved (USD)"), ("cost_saved_usd", True, "Cost saved"),
    ("delta_cost_usd_month", False, "Delta cost (USD per month)"), ("gpu_idle_hours", False, "GPU idle hours"),
    ("tier", False, "Tier"), ("egress_bytes", False, "Egress (bytes)")])
def test_registered_query_columns_get_readable_headers(column: str, beside_currency: bool, shown: str) -> None:
    assert present.header(column, beside_currency) == shown
