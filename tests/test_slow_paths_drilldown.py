"""Issue 21, part 3: a heatmap click lands on that cell's traces, the slowest-cell KPI follows the percentile, the
columns and the batch toggle, batch work is out by default, and every control of Slow paths and the sidebar's time
presets and exact times round-trip through the URL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from ingest_helpers import ingest_cli
from streamlit.testing.v1 import AppTest

from app import charts, data, plain, slow_state, state
from app.slow_state import Cell, SlowView
from app.views.slow_paths import _selected_cell as REAL_SELECTED_CELL
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as model_metric
from queries.timeparse import parse_instant_ns

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("drill")
    db = work / "sample.duckdb"
    ingest_cli(work, db, SAMPLE / "traces")
    return db


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    data.clear()
    yield
    data.clear()


def page_script() -> None:
    from app import main

    main.run(only="slow-paths")


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("TIERWISE_DB", str(db))
    at = AppTest.from_function(page_script, default_timeout=90)
    at.query_params.update(params)
    return at.run()


def model(db: Path, measures: tuple[str, ...], by: tuple[str, ...],
          where: tuple[tuple[str, str], ...] = ()) -> pl.DataFrame:
    duck = DuckDBEngine.open(db)
    try:
        return model_metric.run(duck, model_metric.Request(measures, by, where))
    finally:
        duck.close()


def query(db: Path, name: str, params: dict[str, object]) -> pl.DataFrame:
    duck = DuckDBEngine.open(db)
    try:
        return registry.run(duck, name, params)
    finally:
        duck.close()


def kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def click(monkeypatch: pytest.MonkeyPatch, points: list[dict[str, str]]) -> None:
    """AppTest cannot click a Plotly point: the click arrives as the selection event st.plotly_chart returns."""
    from app.views import slow_paths

    event = SimpleNamespace(selection=SimpleNamespace(points=points))
    monkeypatch.setattr(slow_paths, "_selected_cell", lambda _: REAL_SELECTED_CELL(event))


def listed(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["trace_id"])


def test_a_click_lists_the_cells_traces_and_an_empty_selection_after_it_keeps_them(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With tier=edge (the report: the heatmap showed edge cells while the list said no traces), clicking each edge
    cell lists the traces of the requests it counts; Plotly's empty selection that comes with a click keeps it."""
    at = open_page(sample_db, monkeypatch, tier="edge")
    cells = model(sample_db, ("requests",), ("tier", "workload"), (("tier", "edge"),))
    assert cells.height >= 2
    for cell in cells.iter_rows(named=True):
        click(monkeypatch, [{"x": cell["workload"], "y": "edge"}])
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert f"Traces with a request in edge · {plain.md(cell['workload'])}" in [s.value for s in at.subheader]
        expected = query(sample_db, "cell_traces", {"tier": "edge", "workload": cell["workload"], "limit_count": 20})
        assert expected.height and listed(at) == expected["trace_id"].to_list()
        assert at.query_params["cell_tier"] == "edge" and at.query_params["cell"] == cell["workload"]
        click(monkeypatch, [])  # plotly_selected with no points
        at.run()
        assert listed(at) == expected["trace_id"].to_list()
    at.button(key="sre_clear_cell").click().run()
    assert "Example slow traces" in [s.value for s in at.subheader] and "cell" not in at.query_params


def test_a_shared_url_opens_on_the_same_cell(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cell = model(sample_db, ("requests",), ("tier", "site")).filter(pl.col("site").is_not_null()).row(0, named=True)
    at = open_page(sample_db, monkeypatch, cols="site", cell_tier=cell["tier"], cell=cell["site"])
    assert not at.exception, [e.value for e in at.exception]
    expected = query(sample_db, "cell_traces", {"tier": cell["tier"], "site": cell["site"], "by_site": "yes"})
    assert expected.height and listed(at) == expected["trace_id"].to_list()
    bogus = open_page(sample_db, monkeypatch, cell_tier="edge", cell="no-such-workload")
    assert not bogus.exception and "Example slow traces" in [s.value for s in bogus.subheader]
    assert "cell" not in bogus.query_params


@pytest.mark.parametrize(("pct", "cols"), [("p95", "workload"), ("p99", "workload"), ("p50", "site"),
                                           ("p99", "site")])
def test_the_slowest_cell_follows_percentile_and_columns(sample_db: Path, monkeypatch: pytest.MonkeyPatch, pct: str,
                                                         cols: str) -> None:
    at = open_page(sample_db, monkeypatch)
    at.segmented_control(key="sre_metric").set_value(f"latency_{pct}_ms")
    at.segmented_control(key="sre_by").set_value(cols)
    at.run()
    measure = f"latency_{pct}_ms"
    cells = model(sample_db, (measure,), ("tier", cols)).sort(measure, descending=True, nulls_last=True)
    worst = cells.row(0, named=True)
    assert kpis(at)[f"slowest cell {pct}"] == charts.fmt_ms(worst[measure])
    assert {k: v for k, v in at.query_params.items() if k in ("pct", "cols")} == \
        SlowView(pct, cols).to_query_params()


def test_batch_is_left_out_unless_the_toggle_asks(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, monkeypatch)
    interactive = model(sample_db, ("latency_p95_ms",), ("tier", "workload"))
    everything = model(sample_db, ("latency_p95_ms",), ("tier", "workload", "workload_type"))
    batch = everything.filter(pl.col("workload_type").is_in(slow_state.BATCH_TYPES))
    assert batch.height and not set(batch["workload"]) & set(interactive["workload"])
    assert kpis(at)["slowest cell p95"] == charts.fmt_ms(interactive["latency_p95_ms"].max())  # type: ignore[arg-type]
    at.toggle(key="sre_batch").set_value(True).run()
    assert kpis(at)["slowest cell p95"] == charts.fmt_ms(everything["latency_p95_ms"].max())  # type: ignore[arg-type]
    assert at.query_params["batch"] == "yes"
    job = batch.sort("latency_p95_ms", descending=True).row(0, named=True)
    click(monkeypatch, [{"x": job["workload"], "y": job["tier"]}])
    at.run()
    expected = query(sample_db, "cell_traces", {"tier": job["tier"], "workload": job["workload"],
                                                "workload_type": job["workload_type"]})
    assert expected.height and listed(at) == expected["trace_id"].to_list()
    assert at.query_params["cell_type"] == job["workload_type"]


def test_the_critical_path_follows_the_sidebar_workload(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workloads = model(sample_db, ("requests",), ("workload",))["workload"].drop_nulls().sort().to_list()
    at = open_page(sample_db, monkeypatch, cols="site", tab="Critical path")
    assert at.selectbox(key="sre_cp_workload").value == workloads[0]
    at.sidebar.selectbox(key="f_workload").select(workloads[1]).run()
    assert at.selectbox(key="sre_cp_workload").value == workloads[1]
    assert "cp" not in at.query_params and at.query_params["tab"] == "Critical path"
    at.selectbox(key="sre_cp_workload").select(workloads[2]).run()
    assert at.query_params["cp"] == workloads[2]
    shared = open_page(sample_db, monkeypatch, **dict(at.query_params))
    assert shared.selectbox(key="sre_cp_workload").value == workloads[2]
    assert shared.sidebar.selectbox(key="f_workload").value == workloads[1]


def test_every_control_survives_the_url(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Controls set by hand → the URL → a new session opened on that URL shows the same controls and numbers."""
    at = open_page(sample_db, monkeypatch)
    at.segmented_control(key="sre_metric").set_value("latency_p99_ms")
    at.segmented_control(key="sre_by").set_value("site")
    at.toggle(key="sre_batch").set_value(True)
    at.sidebar.selectbox(key="f_mode").select("Last 24h")
    at.run()
    at.session_state["sre_tab"] = "Hops"
    at.run()
    params = dict(at.query_params)
    assert params == {"pct": "p99", "cols": "site", "batch": "yes", "tab": "Hops", "last": "24h"}
    again = open_page(sample_db, monkeypatch, **params)
    assert not again.exception, [e.value for e in again.exception]
    assert again.segmented_control(key="sre_metric").value == "latency_p99_ms"
    assert again.segmented_control(key="sre_by").value == "site"
    assert again.toggle(key="sre_batch").value is True
    assert again.sidebar.selectbox(key="f_mode").value == "Last 24h"
    assert again.session_state["sre_tab"] == "Hops"
    assert kpis(again) == kpis(at)
    assert dict(again.query_params) == params


def test_a_preset_ends_at_the_stores_last_data(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    last_ns = int(query(sample_db, "data_extent", {})["last_ns"][0])
    at = open_page(sample_db, monkeypatch, last="6h")
    assert not at.exception
    f = at.session_state["tierwise.filters"]
    assert f.window() == {"start_ns": last_ns + 1 - 6 * 3600 * 10**9, "end_ns": last_ns + 1}
    assert any("not at now" in c.value for c in at.sidebar.caption)
    measure = model_metric.Request(("latency_p95_ms",), ("tier", "workload"), (), f.start_ns, f.end_ns)
    duck = DuckDBEngine.open(sample_db)
    try:
        cells = model_metric.run(duck, measure)
    finally:
        duck.close()
    assert kpis(at)["slowest cell p95"] == charts.fmt_ms(cells["latency_p95_ms"].max())  # type: ignore[arg-type]
    exact = open_page(sample_db, monkeypatch, **{"from": "2026-10-02T06:00:00Z", "to": "2026-10-02T07:30:00Z"})
    g = exact.session_state["tierwise.filters"]
    assert (g.start_ns, g.end_ns) == (parse_instant_ns("2026-10-02T06:00:00Z"),
                                      parse_instant_ns("2026-10-02T07:30:00Z"))
    assert exact.sidebar.text_input(key="f_from").value == "2026-10-02 06:00:00"
    assert dict(exact.query_params) == {"from": "2026-10-02T06:00:00Z",
                                                                 "to": "2026-10-02T07:30:00Z"}
    old = open_page(sample_db, monkeypatch, start="2026-10-02", end="2026-10-03")
    assert dict(old.query_params) == {"start": "2026-10-02", "end": "2026-10-03"}


DIMS = state.Dimensions(("device", "edge"), ("store-7",), ("chat",), date(2026, 10, 1), date(2026, 10, 31),
                        1_790_000_000_123_456_789)


@pytest.mark.parametrize("view", [
    SlowView(), SlowView("p99"), SlowView("p50", "site"), SlowView(batch=True),
    SlowView(cell=Cell("edge", "public-chat")), SlowView("p95", "site", True, Cell("regional", "eu-1", "batch")),
    SlowView(tab="Critical path", cp_workload="store-rag"), SlowView(tab="Trust zones"),
    SlowView(cell=Cell("unknown", "a · b & <c>")),
])
def test_slow_path_controls_round_trip(view: SlowView) -> None:
    params = view.to_query_params()
    assert set(params) <= set(slow_state.KEYS)
    assert slow_state.parse(params) == view


def test_bad_slow_path_params_fall_back_to_defaults() -> None:
    assert slow_state.parse({"pct": "p42", "cols": "colour", "tab": "Nope", "cell_tier": "mars", "cell": "x",
                             "batch": "maybe", "cp": "x" * 500}) == SlowView()
    assert slow_state.parse({"cell_tier": "edge"}) == SlowView()  # a tier without its column value is no cell


@pytest.mark.parametrize("filters", [
    state.Filters(), state.Filters(tier="edge", workload="chat"),
    state.Filters(date(2026, 10, 2), date(2026, 10, 5), site="store-7"),
    state.windowed(state.Filters(last="15m", anchor_ns=DIMS.last_ns)),
    state.windowed(state.Filters(last="7d", anchor_ns=DIMS.last_ns, tier="device")),
    state.windowed(state.Filters(from_ns=1_790_000_000_000_000_000, to_ns=1_790_003_600_500_000_000)),
    state.windowed(state.Filters(from_ns=1_789_000_000_000_000_000)),
    state.Filters(trace_id="ab" * 16),
])
def test_sidebar_filters_round_trip(filters: state.Filters) -> None:
    params = filters.to_query_params()
    back = state.parse(params, DIMS)
    assert back == filters
    assert back.window() == filters.window()


def test_presets_are_anchored_and_exact_times_validated() -> None:
    f = state.parse({"last": "1h"}, DIMS)
    assert f.window() == {"start_ns": DIMS.last_ns + 1 - 3600 * 10**9, "end_ns": DIMS.last_ns + 1}  # type: ignore[operator]
    assert f.start == f.end == date(2026, 9, 21)
    assert state.parse({"last": "2h"}, DIMS) == state.Filters()
    assert state.parse({"from": "2026-10-02T10:00Z", "to": "2026-10-02T09:00Z"}, DIMS) == state.Filters()
    assert state.parse({"from": "soon"}, DIMS) == state.Filters()
    assert state.parse({"last": "1h", "start": "2026-10-02"}, DIMS).to_query_params() == {"last": "1h"}
