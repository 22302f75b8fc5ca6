"""queries.timeparse and the time parameters of `tierwise query`: nanoseconds, dates and ISO-8601 timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from ingest_helpers import run_cli, tiny_store

from queries import registry
from queries.timeparse import parse_instant_ns

NOV20 = 1_795_132_800_000_000_000  # 2026-11-20T00:00:00Z
HOUR = 3_600_000_000_000


def test_the_reference_instant() -> None:
    assert int(datetime(2026, 11, 20, tzinfo=UTC).timestamp()) * 1_000_000_000 == NOV20


@pytest.mark.parametrize(("text", "expected"), [
    ("1795132800000000000", NOV20),
    (" 1795132800000000000 ", NOV20),
    ("0", 0),
    ("-1", -1),
    ("2026-11-20", NOV20),
    ("2026-11-20T10:00:00Z", NOV20 + 10 * HOUR),
    ("2026-11-20t10:00:00z", NOV20 + 10 * HOUR),
    ("2026-11-20T10:00:00+02:00", NOV20 + 8 * HOUR),
    ("2026-11-20T10:00:00-05:30", NOV20 + 15 * HOUR + HOUR // 2),
    ("2026-11-20T10:00:00+0200", NOV20 + 8 * HOUR),
    ("2026-11-20T10:00:00+02", NOV20 + 8 * HOUR),
    ("2026-11-20 10:00:00", NOV20 + 10 * HOUR),
    ("2026-11-20T10:00", NOV20 + 10 * HOUR),
    ("2026-11-20T10:00:00.5Z", NOV20 + 10 * HOUR + 500_000_000),
    ("2026-11-20T10:00:00.123456789Z", NOV20 + 10 * HOUR + 123_456_789),
    ("2026-11-20T10:00:00,25", NOV20 + 10 * HOUR + 250_000_000),
    ("2026-11-20T00:00:00+14:00", NOV20 - 14 * HOUR),
    ("2026-11-20T00:00:00-14:00", NOV20 + 14 * HOUR),
    ("1969-12-31T23:59:59.999999999Z", -1),
    ("2262-04-11T23:47:16.854775807Z", 2**63 - 1),
    ("1677-09-21T00:12:43.145224192Z", -(2**63)),
])
def test_accepted_forms(text: str, expected: int) -> None:
    assert parse_instant_ns(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("soon", "'soon' is not a time"),
    ("", "is not a time"),
    ("2026-11-20T10:00:00+14:01", "outside -14:00 to +14:00"),
    ("2026-11-20T10:00:00-15:00", "outside -14:00 to +14:00"),
    ("2026-11-20T10:00:00+02:75", "not below 60"),
    ("2026-02-30", "not a real date and time"),
    ("2026-11-20T25:00", "not a real date and time"),
    ("2026-11-20T10:00:00.1234567891Z", "is not a time"),
    ("2026/11/20", "is not a time"),
    ("1.5e18", "is not a time"),
    ("2262-04-12", "outside 1677-09-21 to 2262-04-11"),
    ("9223372036854775808", "outside 1677-09-21 to 2262-04-11"),
    ("2026-11-20Z", "is not a time"),
])
def test_refused_forms_say_why_and_what_is_accepted(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601") as caught:
        parse_instant_ns(text)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_registry_converts_time_parameters_only() -> None:
    hops = registry.get("hops_by_tier_pair")
    assert registry.parse_params(hops, ["start_ns=2026-11-20", "end_ns=2026-11-20T10:00:00+02:00"]) == {
        "start_ns": NOV20, "end_ns": NOV20 + 8 * HOUR}
    assert registry.parse_params(hops, ["start_ns=", "end_ns=null"]) == {"start_ns": None, "end_ns": None}
    with pytest.raises(registry.QueryError, match="parameter 'end_ns' expects int Unix nanoseconds or a time: .*ISO-8601"):
        registry.parse_params(hops, ["end_ns=tomorrow"])
    with pytest.raises(registry.QueryError, match="parameter 'start_ns' .* outside -14:00 to \\+14:00"):
        registry.parse_params(hops, ["start_ns=2026-11-20T10:00:00+15:00"])
    traces = registry.get("band_trace_spans")  # an int that is not a time stays a plain int
    with pytest.raises(registry.QueryError, match="expects int, got '2026-11-20'"):
        registry.parse_params(traces, ["traces_per_band=2026-11-20"])


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_store(tmp_path_factory.mktemp("tiny_times"))


def _csv(db: Path, *params: str) -> str:
    args = [a for p in params for a in ("--param", p)]
    result = run_cli("query", "hops_by_tier_pair", "--db", str(db), "--format", "csv", "--param", "workload=assistant", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_reads_dates_and_timestamps_as_the_same_window(tiny_db: Path) -> None:
    """The tiny store's assistant traces start 2025-11-28 from 00:00 UTC; the window 00:01-00:03 keeps some of them."""
    as_ns = _csv(tiny_db, "start_ns=1764288060000000000", "end_ns=1764288180000000000")
    assert as_ns != _csv(tiny_db)
    assert _csv(tiny_db, "start_ns=2025-11-28T00:01:00Z", "end_ns=2025-11-28 00:03:00") == as_ns
    assert _csv(tiny_db, "start_ns=2025-11-28T02:01:00+02:00", "end_ns=2025-11-27T19:03:00.000-05:00") == as_ns
    assert _csv(tiny_db, "start_ns=2025-11-28", "end_ns=2025-11-29") == _csv(tiny_db)


@pytest.mark.parametrize("value", ["yesterday", "2025-11-28T00:00:00+15:00", "2025-13-01"])
def test_cli_refuses_bad_times_in_one_line(tiny_db: Path, value: str) -> None:
    result = run_cli("query", "hops_by_tier_pair", "--db", str(tiny_db), "--param", f"start_ns={value}")
    assert result.exit_code == 2 and result.stdout == ""
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "parameter 'start_ns'" in error[0] and "ISO-8601" in error[0]
    assert "Traceback" not in result.output
