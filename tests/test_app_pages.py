"""Dashboard pages under Streamlit's AppTest on the committed sample: they render, and show the queries' numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest
from ingest_helpers import isolated, run_cli
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

import store
from app import charts, data, plain, state
from app.pages import PAGES
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as model_metric
from store.contract import TIERS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "committed"
MAIN = ROOT / "app" / "main.py"
HOSTILE = ["'; DROP TABLE spans; --", "edge' OR '1'='1", '"><script>alert(1)</script>', "x" * 10_000, "%00", "mars"]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed sample's traces and bills, loaded by the real `tierwise ingest`."""
    workdir = tmp_path_factory.mktemp("sample")
    db = workdir / "sample.duckdb"
    with isolated(workdir):
        metrics = sorted((SAMPLE / "metrics").glob("*.jsonl.gz"))[:2]  # two days of GPU and queue metrics
        result = run_cli("ingest", "--quiet", "--db", str(db), str(SAMPLE / "traces"), str(SAMPLE / "bills"),
                         *map(str, metrics))
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def own_db(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample store, so a decisions file written beside it stays in this test."""
    db = tmp_path / "own.duckdb"
    shutil.copy(sample_db, db)
    return db


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    data.clear()
    yield
    data.clear()


def rows(db: Path, name: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    duck = DuckDBEngine.open(db)
    try:
        return registry.run(duck, name, params or {})
    finally:
        duck.close()


def page_script(page: str) -> None:
    from app import main

    main.run(only=page)


def open_page(db: Path, page: str, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("TIERWISE_DB", str(db))
    at = AppTest.from_function(page_script, args=(page,), default_timeout=60)
    at.query_params.update(params)
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_renders_with_its_heading(sample_db: Path, spec: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.pages import PageSpec

    assert isinstance(spec, PageSpec)
    at = open_page(sample_db, spec.url_path, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [spec.heading]
    assert len(at.get("plotly_chart")) >= 1
    if spec.url_path == "slow-paths":  # every SRE section drew from its query, GPU included, each tab once opened
        keys = {c.proto.id for c in at.get("plotly_chart")}
        assert len(keys) == 1, keys  # the heatmap; the first tab is the slow traces table
        assert len(at.dataframe) >= 1
        for tab in ("Over time", "Hops", "Critical path", "Slow-path finder", "GPU and queues", "Caches"):
            at.session_state["sre_tab"] = tab
            at.run()
            assert not at.exception, (tab, [e.value for e in at.exception])
            keys |= {c.proto.id for c in at.get("plotly_chart")}
        assert len(keys) == 7, keys  # + over time, hops, critical path, slow-path gap, GPU, caches


def spy_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the SQL queries run and the polars jobs derived from then on, in order."""
    ran: list[str] = []
    real_run, real_derive = registry.run, registry.derive

    def run(engine: DuckDBEngine, name: str, params: dict[str, object] | None = None) -> pl.DataFrame:
        ran.append(name)
        return real_run(engine, name, params)

    def derive(name: str, rows: pl.DataFrame, params: dict[str, object] | None = None) -> pl.DataFrame:
        ran.append(name)
        return real_derive(name, rows, params)

    monkeypatch.setattr(registry, "run", run)
    monkeypatch.setattr(registry, "derive", derive)
    return ran


def test_closed_tabs_and_expanders_run_no_queries(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the open tab's analyses run: the critical path and the slow-path finder wait until their tab is opened,
    and the second of them reuses the traces the first one's SQL picked."""
    ran = spy_queries(monkeypatch)
    at = open_page(sample_db, "slow-paths", monkeypatch)
    assert not at.exception and "slow_traces" in ran
    assert not {"critical_path_shares", "slow_path", "band_trace_spans", "slow_attributes", "cache_hit_rate",
                "trust_zone_violations"} & set(ran), ran
    at.session_state["sre_tab"] = "Critical path"
    at.run()
    assert "critical_path_shares" in ran and "band_trace_spans" in ran and "slow_path" not in ran
    at.session_state["sre_tab"] = "Slow-path finder"
    at.run()
    assert {"slow_path", "slow_attributes"} <= set(ran) and "cache_hit_rate" not in ran
    assert ran.count("band_trace_spans") == 1, ran


def test_after_the_warm_up_no_page_or_tab_waits_for_a_query(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The serve-time warm-up draws every page outside a session, closed tabs included, so a first visitor at the
    default filters finds every page and every Slow paths tab already computed."""
    from app import warm

    monkeypatch.setenv("TIERWISE_DB", str(sample_db))
    took = warm.warm_pages()
    assert [name for name, _ in took] == [*(p.url_path for p in PAGES), "fragments", "tabs"]
    ran = spy_queries(monkeypatch)
    for spec in PAGES:
        at = open_page(sample_db, spec.url_path, monkeypatch)
        assert not at.exception, (spec.url_path, [e.value for e in at.exception])
    at = open_page(sample_db, "slow-paths", monkeypatch)
    for tab in ("Over time", "Hops", "Critical path", "Slow-path finder", "Latency budgets", "GPU and queues", "Caches",
                "Trust zones"):
        at.session_state["sre_tab"] = tab
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])
    at = open_page(sample_db, "finops", monkeypatch)
    for tab in ("Egress", "GPU allocated vs used", "Anomalies", "Reconciliation"):
        at.session_state["finops_tab"] = tab
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])
    assert ran == []


def test_a_tier_filter_narrows_cached_rows_exactly(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """data.narrowed filters the all-tier result; it must equal the query run with the tier."""
    monkeypatch.setenv("TIERWISE_DB", str(sample_db))
    scope = {"site": None, "workload": None, "start_ns": None, "end_ns": None}
    for name, params in (("latency_by_tier_workload", {**scope, "by_site": None}),
                         ("latency_over_time", {**scope, "bucket": "day"}),
                         ("latency_regressions", {"workload": None})):
        for tier in TIERS:
            shown = data.narrowed(name, {**params, "tier": tier})
            direct = rows(sample_db, name, {**params, "tier": tier})
            assert shown.height > 0 or name == "latency_regressions"
            assert shown.equals(direct), (name, tier)


def test_polars_jobs_from_cached_rows_equal_the_registry(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard derives critical_path_shares and slow_path from one cached band_trace_spans call; the rows are
    those `tierwise query` prints (up to float summation order)."""
    monkeypatch.setenv("TIERWISE_DB", str(sample_db))
    for params in ({}, {"workload": "kiosk-copilot", "band": 0.2}):
        for name in ("critical_path_shares", "slow_path"):
            shown, direct = data.query(name, params), rows(sample_db, name, params)
            assert shown.height > 0, (name, params)
            assert_frame_equal(shown, direct, rel_tol=1e-9)


def test_navigation_entry_point_opens_the_overview(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["main.py", "--db", str(sample_db)])
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Estate overview"
    assert at.sidebar.selectbox(key="f_tier").options[0] == "All"


def model_p95(db: Path, start_ns: int | None = None, end_ns: int | None = None) -> dict[str, str]:
    duck = DuckDBEngine.open(db)
    try:
        rows = model_metric.run(duck, model_metric.Request(("latency_p95_ms",), ("tier",), (), start_ns, end_ns))
    finally:
        duck.close()
    return {f"{r['tier']} p95": charts.fmt_ms(r["latency_p95_ms"]) for r in rows.iter_rows(named=True)}


def test_overview_shows_p95_per_tier_from_the_semantic_model(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "overview", monkeypatch)
    expected = model_p95(sample_db)
    assert metrics(at) == expected and len(expected) == 4


def test_time_range_in_the_url_changes_the_numbers(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "overview", monkeypatch, start="2026-10-05", end="2026-10-06")
    f = state.Filters(start=date(2026, 10, 5), end=date(2026, 10, 6))
    assert metrics(at) == model_p95(sample_db, f.start_ns, f.end_ns)
    assert metrics(at) != metrics(open_page(sample_db, "overview", monkeypatch))
    assert at.query_params == {"start": "2026-10-05", "end": "2026-10-06"}


def model_cells(db: Path, where: tuple[tuple[str, str], ...] = ()) -> pl.DataFrame:
    duck = DuckDBEngine.open(db)
    try:
        return model_metric.run(duck, model_metric.Request(("latency_p95_ms",), ("tier", "workload"), where))
    finally:
        duck.close()


def test_slow_paths_tier_filter_matches_the_model(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "slow-paths", monkeypatch, tier="edge")
    cells = model_cells(sample_db, (("tier", "edge"),))
    assert set(cells["tier"]) == {"edge"}
    assert metrics(at)["slowest cell p95"] == charts.fmt_ms(float(cells.sort("latency_p95_ms")["latency_p95_ms"][-1]))
    assert at.sidebar.selectbox(key="f_tier").value == "edge"
    assert at.query_params == {"tier": "edge"}


def test_the_slowest_cell_follows_the_percentile_and_leaves_batch_out(sample_db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "slow-paths", monkeypatch)
    at.session_state["sre_metric"] = "latency_p99_ms"
    at.run()
    assert "slowest cell p99" in metrics(at)
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        batch = {r[0] for r in con.execute("SELECT DISTINCT workload FROM spans WHERE workload_type IN "
                                           "('training', 'batch', 'embedding')").fetchall()}
    finally:
        con.close()
    assert batch and not batch & set(model_cells(sample_db)["workload"].to_list())


def test_trace_view_opens_a_trace_by_id(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = rows(sample_db, "slow_traces", {"limit_count": 5, "min_tiers_count": 3})
    assert slow.height and (slow["tiers"] >= 3).all()
    tid = str(slow["trace_id"][0])
    at = open_page(sample_db, "trace", monkeypatch, trace_id=tid)
    assert not at.exception
    assert at.text_input(key="trace_id_input").value == tid
    assert metrics(at)["end-to-end"] == charts.fmt_ms(slow["duration_ms"][0])
    assert metrics(at)["spans"] == str(slow["spans"][0])


@pytest.mark.parametrize("page", [p.url_path for p in PAGES])
def test_hostile_query_strings_are_harmless(sample_db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = rows(sample_db, "latency_by_tier")
    for value in HOSTILE:
        at = open_page(sample_db, page, monkeypatch, tier=value, site=value, workload=value, start=value, end=value,
                       trace_id=value, bucket=value)
        assert not at.exception, (value[:40], [e.value for e in at.exception])
        assert at.query_params == {}, "hostile values must be dropped from the URL"
    assert rows(sample_db, "latency_by_tier").equals(before)


def test_parse_keeps_only_values_the_store_holds() -> None:
    dims = state.Dimensions(("device", "edge"), ("store-7",), ("chat",), date(2026, 10, 1), date(2026, 10, 31))
    assert state.parse({v: v for v in HOSTILE}, dims) == state.Filters()
    assert state.parse({"tier": HOSTILE[0], "start": "2026-13-01", "trace_id": "ab" * 20}, dims) == state.Filters()
    f = state.parse({"tier": "edge", "site": "store-7", "workload": "chat", "start": "2026-09-01", "end": "2026-10-02",
                     "trace_id": "AB" * 16}, dims)
    assert f == state.Filters(date(2026, 10, 1), date(2026, 10, 2), "edge", "store-7", "chat", "ab" * 16)
    assert state.parse(f.to_query_params(), dims) == f
    assert f.end_ns is not None and f.start_ns is not None and f.end_ns - f.start_ns == 2 * 86_400 * 10**9


def test_missing_and_empty_stores_explain_how_to_load_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "none.duckdb"
    at = open_page(missing, "overview", monkeypatch)
    assert not at.exception and "does not exist yet" in at.info[0].value
    assert any("tierwise ingest" in c.value for c in at.code) and not missing.exists()
    empty = tmp_path / "empty.duckdb"
    store.open_writer(empty).close()
    data.clear()
    at = open_page(empty, "slow-paths", monkeypatch)
    assert not at.exception and "holds no spans yet" in at.info[0].value


def test_fresh_data_appears_and_a_writer_lock_is_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "live.duckdb"
    traces = sorted((SAMPLE / "traces").glob("*.jsonl.gz"))
    assert run_cli("ingest", "--quiet", "--db", str(db), str(traces[0])).exit_code == 0
    monkeypatch.setenv("TIERWISE_DB", str(db))
    first = data.query("latency_by_tier")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(0.8); "
        "con.close()"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t = time.perf_counter()
        con = data._connect(db)  # retried until the writer lets go
        con.close()
        assert time.perf_counter() - t > 0.1
    finally:
        holder.wait(timeout=10)
    assert run_cli("ingest", "--quiet", "--db", str(db), str(traces[1])).exit_code == 0
    second = data.query("latency_by_tier")
    assert second["requests"].sum() > first["requests"].sum()


def test_streamlit_lives_only_in_app_and_caching_only_in_data() -> None:
    for folder in ("ingest", "queries", "sample_data", "store", "bench"):
        for py in (ROOT / folder).rglob("*.py"):
            text = py.read_text(encoding="utf-8")
            assert "import streamlit" not in text and "from streamlit" not in text, py
    for py in (ROOT / "app").rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        if py.name != "data.py":
            assert "cache_data" not in text and "cache_resource" not in text, py
        assert "import pandas" not in text, py


def test_a_heatmap_click_opens_the_cells_slow_traces(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clicking a cell lists that cell's slowest traces, switching to their tab from any other; the same selection
    kept on later reruns leaves the reader's tab alone."""
    at = open_page(sample_db, "slow-paths", monkeypatch)
    at.session_state["sre_tab"] = "Caches"
    at.run()
    assert [s.value for s in at.subheader if s.value.startswith("Example slow traces")] == []
    cells = model_cells(sample_db)
    cell = cells.filter(pl.col("workload").is_not_null()).sort("latency_p95_ms", descending=True).row(0, named=True)
    from app.views import slow_paths

    # AppTest cannot click a Plotly point: the click arrives as the selection event Streamlit returns
    selection = SimpleNamespace(selection=SimpleNamespace(points=[{"x": cell["workload"], "y": cell["tier"]}]))
    real = slow_paths._selected_cell
    monkeypatch.setattr(slow_paths, "_selected_cell", lambda event: real(selection))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    heading = f"Traces with a request in {plain.md(cell['tier'])} · {plain.md(cell['workload'])}"
    assert heading in [s.value for s in at.subheader]
    shown = at.dataframe[0].value
    expected = rows(sample_db, "cell_traces", {"tier": cell["tier"], "workload": cell["workload"], "limit_count": 20})
    assert expected.height and list(shown["trace_id"]) == expected["trace_id"].to_list()
    at.session_state["sre_tab"] = "Hops"
    at.run()
    assert heading not in [s.value for s in at.subheader]  # the selection stays, the reader's tab choice wins


def test_a_one_tier_heatmap_keeps_room_for_its_colour_bar() -> None:
    """A tier filter leaves one heatmap row; the figure keeps three rows' height so the colour bar stays readable."""
    one = pl.DataFrame({"tier": ["edge", "edge"], "workload": ["a", "b"], "latency_p95_ms": [12.0, 3400.0]})
    two = pl.concat([one, pl.DataFrame({"tier": ["device"], "workload": ["a"], "latency_p95_ms": [5.0]})])
    four = pl.concat([two, pl.DataFrame({"tier": ["regional", "hyperscale"], "workload": ["a", "a"],
                                         "latency_p95_ms": [7.0, 9.0]})])
    assert charts.heatmap(one).layout.height == charts.heatmap(two).layout.height == 300
    assert charts.heatmap(four).layout.height == 360


def test_tables_show_headers_people_read(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No snake_case header on any page's tables, lazy tabs included; fractions are shown as %."""
    seen: dict[str, str] = {}
    for page, tab_key, tabs in (("finops", "finops_tab", ("Unit costs", "Egress", "GPU allocated vs used", "Anomalies",
                                                           "Reconciliation")),
                                ("slow-paths", "sre_tab", ("Slow-path finder", "GPU and queues", "Caches")),
                                ("overview", None, ()), ("executive", None, ()), ("recommendations", None, ())):
        at = open_page(sample_db, page, monkeypatch)
        for tab in (None, *tabs):
            if tab is not None and tab_key is not None:
                at.session_state[tab_key] = tab
                at.run()
            assert not at.exception, (page, tab, [e.value for e in at.exception])
            for frame in at.dataframe:
                config = json.loads(frame.proto.columns or "{}")
                for name in frame.value.columns:
                    label = config.get(name, {}).get("label") or name
                    seen[f"{page}/{tab}/{name}"] = label
                    if name.endswith("_ratio"):
                        assert config[name]["type_config"]["format"] == "percent", (page, name)
    drawn = {k.rsplit("/", 1)[0] for k in seen}
    assert {"finops/Reconciliation", "slow-paths/Caches", "executive/None"} <= drawn, drawn
    raw = {k: v for k, v in seen.items() if "_" in v}
    assert not raw, raw
