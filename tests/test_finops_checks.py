"""`tierwise anomalies` and `tierwise budgets` on a hand-made ledger with a planted spike and known month-to-date spend."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from ingest_helpers import isolated, run_cli

HEADER = ("BilledCost,EffectiveCost,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,"
          "BillingPeriodEnd,BillingCurrency,ProviderName,ServiceCategory,ServiceName,ResourceId,SubAccountId,Tags")
FIRST, DAYS = date(2025, 10, 1), 40  # 2025-10-01 .. 2025-11-09: November is billed to date (9 days)
SPIKE_DAY, SPIKE = date(2025, 10, 25), 1800.0  # EC2's usual day is about 1,000 USD
SMALL_DAY = date(2025, 10, 20)  # S3 +30 USD: under the 50 USD minimum impact
EUR_BUMP, EUR_SPIKE = date(2025, 11, 2), date(2025, 11, 5)  # +60 EUR (under 20 % of 500) and +200 EUR


def _period(day: date) -> str:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return f"{first}T00:00:00Z,{nxt}T00:00:00Z"


def _row(day: date, cost: float, currency: str, provider: str, category: str, service: str, resource: str,
         account: str, workload: str) -> str:
    tags = '"{""workload"": ""' + workload + '""}"'
    return (f"{cost:.2f},{cost:.2f},Usage,{day}T00:00:00Z,{day + timedelta(days=1)}T00:00:00Z,{_period(day)},"
            f"{currency},{provider},{category},{service},{resource},{account},{tags}")


def ledger() -> str:
    rows = [HEADER]
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        ec2 = SPIKE if day == SPIKE_DAY else 1000.0 + 5 * (i % 3)
        s3 = 130.0 if day == SMALL_DAY else 100.0 + 2 * (i % 2)
        vm = {EUR_BUMP: 560.0, EUR_SPIKE: 700.0}.get(day, 500.0)
        rows += [_row(day, ec2, "USD", "AWS", "Compute", "Amazon Elastic Compute Cloud", "i-0chat", "111", "chat"),
                 _row(day, s3, "USD", "AWS", "Storage", "Amazon Simple Storage Service", "bucket-logs", "111",
                      "archive"),
                 _row(day, vm, "EUR", "Microsoft", "Compute", "Virtual Machines", "vm-eu", "sub-eu", "eu-chat")]
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("finops-checks")
    bill = work / "ledger.csv"
    bill.write_text(ledger(), encoding="utf-8")
    with isolated(work):
        loaded = run_cli("ingest", "--quiet", "--db", str(work / "store.duckdb"), str(bill))
    assert loaded.exit_code == 0 and f"{3 * DAYS} accepted, 0 rejected" in loaded.output, loaded.output
    return work / "store.duckdb"


def _cli(db: Path, *args: str) -> tuple[int, str]:
    with isolated(db.parent):
        result = run_cli(*args, "--db", str(db))
    return result.exit_code, result.output


def test_the_planted_spike_is_the_top_anomaly_with_its_impact_and_driver(db: Path) -> None:
    code, out = _cli(db, "anomalies", "--format", "json")
    assert code == 0, out
    found = json.loads(out)
    assert found[0] == {"day": str(SPIKE_DAY), "dimension": "cloud_service", "value": "Amazon Elastic Compute Cloud",
                        "actual": 1800.0, "expected": 1005.0, "impact": 795.0, "impact_pct": 79.1, "currency": "USD"}
    # one spike, reported once by its driver (the same money also rose in workload `chat`, account 111, …)
    assert [(a["day"], a["currency"]) for a in found] == [(str(SPIKE_DAY), "USD"), (str(EUR_SPIKE), "EUR")]
    assert (found[1]["value"], found[1]["impact"]) == ("Virtual Machines", 200.0)
    # under the minimum: S3's +30 USD (below 50 USD) and the VMs' +60 EUR (below 20 % of the expected 500 EUR)
    assert not [a for a in found if a["day"] in (str(SMALL_DAY), str(EUR_BUMP))]


def test_the_minimum_impact_and_window_are_the_users(db: Path) -> None:
    _, out = _cli(db, "anomalies", "--format", "json", "--min-impact", "1000")
    assert [a["currency"] for a in json.loads(out)] == []
    _, out = _cli(db, "anomalies", "--format", "json", "--from", "2025-10-26", "--to", "2025-11-10")
    assert [a["day"] for a in json.loads(out)] == [str(EUR_SPIKE)]
    code, out = _cli(db, "anomalies", "--from", "2025-10-26", "--min-impact", "1000")
    assert code == 0 and out.strip() == "no anomaly: no day cost more than expected by the minimum impact"


def _config(tmp: Path, *amounts: tuple[str, float]) -> Path:
    text = "".join(f'[[budget]]\nname = "{n}"\namount = {a}\ncurrency = "USD"\n'
                   f'where = {{ cloud_service = "Amazon Elastic Compute Cloud" }}\nalert_pct = [80, 100]\n\n'
                   for n, a in amounts)
    path = tmp / "tierwise.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_budgets_at_each_status_and_the_exit_code(db: Path, tmp_path: Path) -> None:
    # November to date: 9 days of EC2 (1,000 + 5 × (i mod 3) USD), then 21 days at the last two weeks' median
    spent = sum(1000.0 + 5 * (i % 3) for i in range(31, 40))
    forecast = spent + 21 * 1005.0
    config = _config(tmp_path, ("ok", 100_000), ("warning", 35_000), ("on course", 25_000), ("over", 5_000))
    code, out = _cli(db, "budgets", "--config", str(config), "--format", "json")
    assert code == 3, out  # a budget breached or forecast to breach
    got = {b["name"]: b for b in json.loads(out)}
    assert {n: b["status"] for n, b in got.items()} == {"ok": "ok", "warning": "warning",
                                                        "on course": "forecast_breach", "over": "breached"}
    assert {(b["month"], b["actual"], b["forecast"], b["as_of"]) for b in got.values()} == {
        ("2025-11", spent, forecast, "2025-11-09")}
    code, _ = _cli(db, "budgets", "--config", str(_config(tmp_path, ("ok", 100_000), ("warning", 35_000))))
    assert code == 0
    code, out = _cli(db, "budgets", "--config", str(config), "--month", "2025-10", "--format", "json")
    october = {b["name"]: b for b in json.loads(out)}
    assert october["ok"]["forecast"] == october["ok"]["actual"] == pytest.approx(
        sum(1000.0 + 5 * (i % 3) for i in range(31)) + SPIKE - 1000.0 - 5 * (24 % 3))  # a whole month: no forecast


@pytest.mark.parametrize(("text", "says"), [
    ('[[budget]]\nname = "x"\namount = -1\ncurrency = "USD"\n', "`amount` must be a number above 0"),
    ('[[budget]]\nname = "x"\namount = 1\ncurrency = "dollars"\n', "ISO 4217"),
    ('[[budget]]\nname = "x"\namount = 1\ncurrency = "USD"\nwhere = { planet = "mars" }\n', "planet"),
    ('[[budget]]\nname = "x"\namount = 1\ncurrency = "USD"\nlimit = 3\n', "unknown field 'limit'"),
])
def test_a_bad_budget_is_named_with_its_field(db: Path, tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "tierwise.toml"
    config.write_text(text, encoding="utf-8")
    code, out = _cli(db, "budgets", "--config", str(config))
    assert code in (1, 2) and says in out and "'x'" in out, out
