"""The dashboard on ClickHouse (chdb in-process): every page and tab renders, and shows the DuckDB app's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from ingest_helpers import isolated, run_cli
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, metrics, page_script

from app.pages import PAGES, PageSpec
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from queries.units import format_value

__all__ = ["fresh_cache"]  # fixture shared with test_app_pages

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"
SRE_TABS = ("Over time", "Hops", "Critical path", "Slow-path finder", "Latency budgets", "GPU and queues", "Caches",
            "Trust zones")
FINOPS_TABS = ("Unit costs", "Egress", "GPU allocated vs used", "Anomalies", "Reconciliation")


@dataclass(frozen=True)
class Stores:
    duckdb_path: Path
    clickhouse_url: str
    decisions_db: Path  # where the ClickHouse app keeps accept/dismiss decisions (no file: ClickHouse holds the data)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    """Three days of the committed sample (traces, every bill, one day of metrics) loaded by the real `tierwise ingest`
    into a DuckDB file and into a chdb directory."""
    work = tmp_path_factory.mktemp("app-ch")
    files = [*sorted((SAMPLE / "traces").glob("*.jsonl.gz"))[:3], SAMPLE / "bills",
             sorted((SAMPLE / "metrics").glob("*.jsonl.gz"))[0]]
    url = f"chdb://{work / 'ch'}"
    with isolated(work):
        duck = run_cli("ingest", "--quiet", "--db", str(work / "store.duckdb"), *map(str, files))
        assert duck.exit_code == 0, duck.output
        ch = run_cli("ingest", "--quiet", "--engine", "clickhouse", "--clickhouse-url", url, *map(str, files))
        assert ch.exit_code == 0, ch.output
    assert "0 rejected" in ch.output and ch.output.count("complete") == duck.output.count("complete")
    return Stores(work / "store.duckdb", url, work / "decisions.duckdb")


def open_page(stores: Stores, page: str, monkeypatch: pytest.MonkeyPatch, clickhouse: bool = True) -> AppTest:
    """The page as `tierwise serve --engine clickhouse --clickhouse-url URL` shows it (or on the DuckDB file)."""
    if clickhouse:
        monkeypatch.setenv("TIERWISE_ENGINE", "clickhouse")
        monkeypatch.setenv("TIERWISE_CLICKHOUSE_URL", stores.clickhouse_url)
        monkeypatch.setenv("TIERWISE_DB", str(stores.decisions_db))
    else:
        for key in ("TIERWISE_ENGINE", "TIERWISE_CLICKHOUSE_URL"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("TIERWISE_DB", str(stores.duckdb_path))
    return AppTest.from_function(page_script, args=(page,), default_timeout=120).run()


def errors(at: AppTest) -> list[str]:
    """Tracebacks, errors, and the notices of parts the engine could not show (components.engine_gaps)."""
    gaps = [w.value for w in at.warning if "cannot be shown on this engine" in w.value]
    return [e.value for e in at.exception] + [e.value for e in at.error] + gaps


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_and_tab_renders_on_clickhouse(stores: Stores, spec: PageSpec,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(stores, spec.url_path, monkeypatch)
    assert not errors(at), errors(at)
    assert [t.value for t in at.title] == [spec.heading]
    assert not stores.decisions_db.exists()  # the DuckDB path only names where decisions go: no store is created
    assert [c.value for c in at.caption if "**Placed:**" in c.value]  # the mapping strip
    key, tabs = {"slow-paths": ("sre_tab", SRE_TABS), "finops": ("finops_tab", FINOPS_TABS)}.get(spec.url_path,
                                                                                              ("", ()))
    drawn = len(at.get("plotly_chart")) + len(at.dataframe)
    for tab in tabs:
        at.session_state[key] = tab
        at.run()
        assert not errors(at), (tab, errors(at))
        drawn += len(at.get("plotly_chart")) + len(at.dataframe)
    if spec.url_path in ("services", "costs"):  # the semantic model's pages, which run on the DuckDB store: they say so
        assert [i.value for i in at.info if "runs on the DuckDB store" in i.value]
        return
    # the trace view waits for a trace id; the mapping page of a store with everything placed has only its chart
    assert drawn >= 1 if spec.url_path in ("trace", "mapping") else drawn >= 2, (drawn, [i.value for i in at.info])


def test_clickhouse_pages_show_the_duckdb_apps_numbers(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import data

    shown: dict[bool, dict[str, str]] = {}
    for clickhouse in (False, True):
        data.clear()  # the cache is keyed by the store path: never reuse one engine's rows for the other
        numbers: dict[str, str] = {}
        for page in ("overview", "finops"):
            at = open_page(stores, page, monkeypatch, clickhouse)
            assert not errors(at), (clickhouse, page, errors(at))
            numbers |= {f"{page}: {k}": v for k, v in metrics(at).items()}
        shown[clickhouse] = numbers
    duck, ch = shown[False], shown[True]
    assert {k for k in duck if k.startswith("overview")} == {f"overview: {t} p95" for t in
                                                             ("device", "edge", "regional", "hyperscale")}
    for key in ("finops: EffectiveCost", "finops: Cache savings", "finops: Idle GPU"):
        assert ch[key] == duck[key], key
    # The Overview on ClickHouse reads the registered latency_by_tier query (the semantic model runs on DuckDB only):
    # its p95s are that query's on the DuckDB store.
    duck = DuckDBEngine.open(stores.duckdb_path)
    try:
        per_span = registry.run(duck, "latency_by_tier", {})
    finally:
        duck.close()
    assert {k: v for k, v in ch.items() if k.startswith("overview")} == {
        f"overview: {r['tier']} p95": format_value(r["p95_ms"], "ms") for r in per_span.iter_rows(named=True)}


def test_a_query_clickhouse_refuses_reads_as_a_notice(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    """A section whose query fails on ClickHouse says so in its place; the rest of the page still draws."""
    from queries import registry

    real = registry.run

    def refuse_cache_savings(con: object, name: str, params: dict[str, object] | None = None) -> object:
        if name == "cache_savings" and getattr(con, "name", "") == "clickhouse":
            raise RuntimeError("Code: 62. DB::Exception: Syntax error (planted)\nstack trace line")
        return real(con, name, params)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "run", refuse_cache_savings)
    at = open_page(stores, "slow-paths", monkeypatch)
    at.session_state["sre_tab"] = "Caches"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [notice] = [w.value for w in at.warning]
    assert "query cache_savings failed on clickhouse: Code: 62. DB::Exception: Syntax error (planted)" in notice
    # the heatmap and the hit-rate chart still drew
    assert "stack trace line" not in notice and {c.key for c in at.get("plotly_chart")} >= {"sre_heatmap", "sre_cache"}
