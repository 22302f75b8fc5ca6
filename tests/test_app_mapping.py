"""Coverage on every dashboard page and the Mapping page, under AppTest: the numbers `tierwise query mapping_coverage`
prints, and the rules `tierwise map suggest` proposes, on a store with unplaced spans and unallocated money."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_helpers import isolated, run_cli
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, open_page

from app.pages import PAGES
from app.views import mapping

__all__ = ["fresh_cache"]  # fixture shared with test_app_pages

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "committed"
CAD_BILL = ROOT / "tests" / "fixtures" / "finops" / "azure-ea-export-sample-focusconverters.csv"  # all unallocated
RESOURCES = ({"service.name": "vision", "k8s.cluster.name": "factory-1"},  # no cloud attribute: tier unknown
             {"service.name": "vision", "k8s.cluster.name": "factory-2", "host.name": "pod-b"},
             {"service.name": "lab", "host.name": "lab-1"},
             {"service.name": "api", "cloud.provider": "aws", "cloud.region": "us-east-1"})  # placed: hyperscale
SPANS_PER_RESOURCE = (30, 20, 10, 10)


def unplaced_traces(path: Path) -> Path:
    """One server span per line, per resource as many as SPANS_PER_RESOURCE says, on the sample's first day."""
    lines = []
    for r, (attrs, count) in enumerate(zip(RESOURCES, SPANS_PER_RESOURCE, strict=True)):
        resource = {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}
        for i in range(count):
            start = 1_790_812_800_000_000_000 + (r * 100 + i) * 10**9  # 2026-10-01 UTC
            span = {"traceId": f"{r + 1:02x}{i:030x}", "spanId": f"{r + 1:02x}{i:014x}", "name": "op", "kind": 2,
                    "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 5 * 10**6)}
            lines.append(json.dumps({"resourceSpans": [{"resource": resource,
                                                        "scopeSpans": [{"scope": {"name": "s"}, "spans": [span]}]}]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(work: Path, db: Path, *sources: Path) -> Path:
    with isolated(work):
        done = run_cli("ingest", "--quiet", "--db", str(db), *map(str, sources))
    assert done.exit_code == 0, done.output
    return db


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed sample's traces (placed) and bills (some money unallocated), a CAD bill linked to nothing and
    spans no detector places."""
    work = tmp_path_factory.mktemp("mapping")
    return ingest(work, work / "mixed.duckdb", SAMPLE / "traces", SAMPLE / "bills", CAD_BILL,
                  unplaced_traces(work / "unplaced.jsonl"))


def cli_json(*args: str) -> list[dict[str, object]]:
    done = run_cli(*args, "--format", "json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert isinstance(out, list)
    return out


def strip_text(at: AppTest) -> str:
    """The coverage strip as it reads (Markdown's escapes removed)."""
    found = [c.value for c in at.caption if c.value.startswith((":material/rule:", ":material/check_circle:"))]
    assert len(found) == 1, [c.value for c in at.caption]
    return found[0].replace("\\", "")


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_shows_the_coverage_the_cli_prints(mixed_db: Path, spec: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from app.pages import PageSpec

    assert isinstance(spec, PageSpec)
    rows = cli_json("query", "mapping_coverage", "--db", str(mixed_db))
    at = open_page(mixed_db, spec.url_path, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    line = strip_text(at)
    by = {(r["kind"], r["unit"]): r for r in rows}
    assert set(by) == {("spans", "spans"), ("requests", "requests"), ("money", "CAD"), ("money", "USD")}
    expected = [f"{by['spans', 'spans']['mapped_pct']:.1f} % of spans",
                f"{by['requests', 'requests']['mapped_pct']:.1f} % of requests"]
    for currency in ("CAD", "USD"):
        r = by["money", currency]
        expected.append(f"{r['mapped_pct']:.1f} % of {currency} money ({r['mapped']:,.2f} of {r['total']:,.2f} "
                        f"{currency})")
    assert line == ":material/rule: **Placed:** " + " · ".join(expected) + (
        "" if spec.url_path == "mapping" else " · [What is unplaced, and rules to place it →](mapping)")
    assert "None" not in line and "0.0 % of CAD money (0.00 of 1.26 CAD)" in line  # the CAD bill links to nothing


def test_the_mapping_page_shows_the_rule_of_the_largest_group(mixed_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suggested = cli_json("map", "suggest", "--db", str(mixed_db))
    spans = [s for s in suggested if s["kind"] == "telemetry"]
    money = [s for s in suggested if s["kind"] == "costs"]
    assert [s["size"] for s in spans] == [30.0, 20.0, 10.0] and money
    at = open_page(mixed_db, "mapping", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [mapping.HEADING]
    codes = [c.value for c in at.code]
    assert codes[0] == mapping.APPLY == "tierwise map apply --config tierwise.toml"
    span_rules, money_rules = codes[1:]
    assert span_rules.startswith('# k8s.cluster.name = factory-1 (1 service): 30 spans\n[[map]]\nname = "factory-1 '
                                 'cluster"\n')
    for block, found in ((span_rules, spans), (money_rules, money)):  # every proposal, largest first, as the CLI's
        at_ = [block.index(str(s["toml"]).rstrip()) for s in found]
        assert at_ == sorted(at_), block
    biggest = max(money, key=lambda s: abs(float(str(s["size"]))))
    size = f"{float(str(biggest['size'])):,.2f} {biggest['unit']}"
    assert money_rules.startswith(f"# {biggest['group']}: {size}\n{biggest['toml']}")
    shown_spans, shown_money = at.dataframe  # the query rows, with their CSV downloads
    assert list(shown_spans.value["spans"]) == [30, 20, 10]
    assert set(shown_money.value["currency"]) == {"CAD"}  # the sample's USD is all linked, the CAD bill's is not
    for frame in at.dataframe:  # headers people read; money to the cent beside its currency
        config = json.loads(frame.proto.columns or "{}")
        assert not [n for n in frame.value.columns if "_" in (config.get(n, {}).get("label") or n)], config
    assert json.loads(shown_money.proto.columns)["effective_cost"]["type_config"]["format"] == "accounting"
    assert [s.value for s in at.success] == []


def test_a_store_with_nothing_unplaced_or_no_costs_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    placed = ingest(tmp_path, tmp_path / "placed.duckdb", sorted((SAMPLE / "traces").glob("*.jsonl.gz"))[0])
    at = open_page(placed, "overview", monkeypatch)
    assert strip_text(at) == ":material/check_circle: **Placed:** everything (all spans and requests)."
    at = open_page(placed, "mapping", monkeypatch)
    assert not at.exception and [s.value for s in at.success] == [
        "Everything is placed: no span of tier unknown and no money linked to no workload."]
    assert [c.value for c in at.code] == [] and len(at.get("plotly_chart")) == 1
    spans_only = ingest(tmp_path, tmp_path / "spans.duckdb", unplaced_traces(tmp_path / "unplaced.jsonl"))
    line = strip_text(open_page(spans_only, "finops", monkeypatch))
    assert line == (":material/rule: **Placed:** 14.3 % of spans · 14.3 % of requests · "  # 10 of 70: the cloud one
                    "[What is unplaced, and rules to place it →](mapping)")


def test_the_link_keeps_the_filters(mixed_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(mixed_db, "slow-paths", monkeypatch, tier="edge")
    assert strip_text(at).endswith("[What is unplaced, and rules to place it →](mapping?tier=edge)")
