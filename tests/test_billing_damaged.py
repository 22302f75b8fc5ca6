"""Damaged billing files through the real CLI: bad rows are quarantined with their row, good rows and money are kept."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from ingest_helpers import run_cli

HEADER = ("BilledCost,EffectiveCost,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,"
          "BillingPeriodEnd,BillingCurrency,ProviderName,ServiceCategory,ServiceName,ResourceId,x_Tier,Tags")
ROWS = 400
BAD_ROW = 157
ADVICE = ("Traceback", "strict_mode", "ignore_errors", "Possible fix", "Possible Solution", "sniff")


def _row(i: int, billed: str | None = None, tags: str = '"{""app"": ""search""}"') -> str:
    """Data row i (1-based) of a November FOCUS bill: each a distinct charge of i + 0.25."""
    start = f"2025-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
    end = f"2025-11-{1 + i % 28:02d}T{i % 24:02d}:59:59Z"
    return (f"{billed if billed is not None else f'{i}.25'},{i}.25,Usage,{start},{end},2025-11-01T00:00:00Z,"
            f"2025-12-01T00:00:00Z,USD,AWS,Compute,Amazon Elastic Compute Cloud,i-{i:05d},hyperscale,{tags}")


def _bill(path: Path, rows: list[str], end: str = "\n") -> Path:
    path.write_bytes((end.join([HEADER, *rows]) + end).encode())
    return path


def _good() -> list[str]:
    return [_row(i) for i in range(1, ROWS + 1)]


def _cli(*args: str) -> Result:
    result = run_cli(*args)
    assert not any(words in result.output for words in ADVICE), result.output
    return result


def _ingest(db: Path, *files: Path) -> Result:
    return _cli("ingest", "--quiet", "--db", str(db), *map(str, files))


def _ledger(db: Path) -> list[tuple[int, Decimal]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(int(r), Decimal(b)) for r, b in con.execute(
            "SELECT x_SourceRow, BilledCost FROM costs ORDER BY x_SourceRow").fetchall()]
    finally:
        con.close()


def _reconciliation(db: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(_cli("query", "cost_reconciliation", "--db", str(db), "--format",
                                                    "json").output)
    return rows


def _damage(kind: str, line: str) -> bytes:
    fields = line.split(",")
    if kind == "extra column":
        return f"{line},surplus".encode()
    if kind == "missing columns":
        return ",".join(fields[:9]).encode()
    if kind == "unbalanced quote":
        return line.replace(",Compute,", ',"Compute,').encode()
    return line.encode().replace(b",AWS,", b",AW\xff,")  # bad UTF-8


@pytest.mark.parametrize("kind", ["extra column", "missing columns", "unbalanced quote", "bad UTF-8"])
def test_a_row_that_does_not_split_is_quarantined_and_the_others_kept(tmp_path: Path, kind: str) -> None:
    good = _good()
    lines = [HEADER.encode(), *(_damage(kind, r) if i == BAD_ROW else r.encode() for i, r in enumerate(good, 1))]
    bill = tmp_path / "bill.csv"
    bill.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "s.duckdb"
    result = _ingest(db, bill)
    assert result.exit_code == 0, result.output
    assert f"{ROWS - 1} accepted, 1 rejected" in result.output and f"row {BAD_ROW};" in result.output
    # every good row is in the ledger under its own file row number
    assert _ledger(db) == [(i, Decimal(f"{i}.25")) for i in range(1, ROWS + 1) if i != BAD_ROW]
    shown = _cli("quarantine", "--db", str(db)).output.splitlines()
    assert len(shown) == 1 and shown[0].startswith(f"{bill}:{BAD_ROW}: row ")
    words = {"extra column": "header names 14 columns", "missing columns": "ServiceCategory: the row has 9 values",
             "unbalanced quote": "never closed", "bad UTF-8": "ProviderName: holds bytes that are not UTF-8"}[kind]
    assert words in shown[0]
    (rec,) = _reconciliation(db)
    assert (rec["source_rows"], rec["ledger_rows"], rec["quarantined_rows"]) == (ROWS, ROWS - 1, 1)


def test_a_bill_cut_short_keeps_every_whole_row(tmp_path: Path) -> None:
    data = _bill(tmp_path / "full.csv", _good()).read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[:-30])
    db = tmp_path / "s.duckdb"
    result = _ingest(db, cut)
    assert result.exit_code == 0, result.output
    assert _ledger(db) == [(i, Decimal(f"{i}.25")) for i in range(1, ROWS)]
    (shown,) = _cli("quarantine", "--db", str(db)).output.splitlines()
    assert shown.startswith(f"{cut}:{ROWS}: ") and "the file ends inside this row" in shown


def test_damaged_containers_are_reported_and_the_other_files_still_load(tmp_path: Path) -> None:
    """Corrupt deflate data early and late, a gzip cut short, a file that only starts like Parquet: each named."""
    good = _bill(tmp_path / "good.csv", _good())
    packed = gzip.compress(_bill(tmp_path / "big.csv", [_row(i) for i in range(1, 20_001)]).read_bytes())
    damaged = {}
    for name, at in (("early.csv.gz", 1000), ("late.csv.gz", len(packed) // 3)):  # header readable; rows not
        flipped = bytearray(packed)
        flipped[at] ^= 0xFF
        damaged[tmp_path / name] = "gzip data is damaged"
        (tmp_path / name).write_bytes(bytes(flipped))
    (tmp_path / "short.csv.gz").write_bytes(packed[:-64])
    (tmp_path / "fake.parquet").write_bytes(b"PAR1" + b"not parquet at all" * 20)
    damaged |= {tmp_path / "short.csv.gz": "cut short", tmp_path / "fake.parquet": "footer cannot be read"}
    db = tmp_path / "s.duckdb"
    result = _ingest(db, *damaged, good)
    assert result.exit_code == 1
    lines = {line.split()[1].rstrip(":"): line for line in result.output.splitlines() if line.startswith(" ")}
    assert lines[str(good)].split()[0] == "complete" and f"{ROWS} accepted" in lines[str(good)]
    for path, words in damaged.items():
        assert lines[str(path)].split()[0] == "unreadable" and words in lines[str(path)], lines[str(path)]
        assert f"({path}: " in lines[str(path)] and "again" in lines[str(path)]
    assert [r for r, _ in _ledger(db)] == list(range(1, ROWS + 1))  # nothing of the damaged files


def test_money_that_cannot_be_summed_is_quarantined_and_reconciled(tmp_path: Path) -> None:
    rows = _good()
    bad = {2: _row(2, '"1,234.56"'), 3: _row(3, "NaN"), 4: _row(4, ""), 5: _row(5, "90000000000000000000000"),
           6: _row(6, "90000000000000000000000"), 7: _row(7, tags="{app=search")}
    bill = _bill(tmp_path / "bill.csv", [bad.get(i, r) for i, r in enumerate(rows, 1)])
    db = tmp_path / "s.duckdb"
    result = _ingest(db, bill)
    assert result.exit_code == 0, result.output
    assert f"{ROWS - 6} accepted, 6 rejected" in result.output
    shown = _cli("quarantine", "--db", str(db)).output.splitlines()
    reasons = {int(line.split(":")[1]): line.split(": ", 2)[2] for line in shown}
    assert reasons[2] == "'1,234.56' has thousands separators; write it as 1234.56"
    assert reasons[3].startswith("'NaN' is not an amount")
    assert reasons[4].startswith("missing: every row needs an amount")
    assert reasons[5].startswith("'90000000000000000000000' is beyond ±10^15") and reasons[6] == reasons[5]
    assert reasons[7].startswith("not JSON") and "BilledCost" not in shown[-1]
    (rec,) = _reconciliation(db)
    ledger = sum((Decimal(f"{i}.25") for i in range(1, ROWS + 1) if i not in bad), Decimal(0))
    assert Decimal(str(rec["ledger_billed_usd"])) == ledger
    assert (rec["source_rows"], rec["ledger_rows"], rec["quarantined_rows"]) == (ROWS, ROWS - 6, 6)
    # the money a person reads in the file: 1,234.56 and row 7's 7.25; NaN, empty and 9·10^22 cannot be summed
    assert Decimal(str(rec["quarantined_billed_usd"])) == Decimal("1234.56") + Decimal("7.25")


def test_the_same_bill_saved_again_adds_nothing(tmp_path: Path) -> None:
    rows = _good()
    rows[1] = _row(2, '"1,234.56"')
    bill = _bill(tmp_path / "bill.csv", rows)
    crlf = _bill(tmp_path / "bill-windows.csv", rows, end="\r\n")
    packed = tmp_path / "bill-again.csv.gz"
    packed.write_bytes(gzip.compress(bill.read_bytes()))
    db = tmp_path / "s.duckdb"
    assert _ingest(db, bill).exit_code == 0
    before = (_ledger(db), _reconciliation(db), _cli("quarantine", "--db", str(db)).output)
    result = _ingest(db, crlf, packed)
    assert result.exit_code == 0, result.output
    assert result.output.count(f"0 accepted, 0 rejected, {ROWS} skipped (nothing added: it holds exactly the charges "
                               f"of {bill}") == 2
    assert (_ledger(db), _reconciliation(db), _cli("quarantine", "--db", str(db)).output) == before
    # a bill with one charge more is another bill: loaded whole
    more = _bill(tmp_path / "bill-more.csv", [*rows, _row(ROWS + 1)])
    assert f"{ROWS} accepted, 1 rejected" in _ingest(db, more).output


@pytest.mark.parametrize(("start", "kept"), [("2025-11-05T10:00:00+25:00", False), ("2025-11-05T10:00:00+14:00", True),
                                             ("2025-11-05T10:00:00-12:00", True), ("2025-11-05T10:00:00+05:75", False)])
def test_an_offset_no_zone_has_is_quarantined_not_read_as_another_day(tmp_path: Path, start: str, kept: bool) -> None:
    odd = _row(BAD_ROW).replace(f"2025-11-{1 + BAD_ROW % 28:02d}T{BAD_ROW % 24:02d}:00:00Z", start, 1)
    rows = [odd if i == BAD_ROW else _row(i) for i in range(1, ROWS + 1)]
    db = tmp_path / "s.duckdb"
    _ingest(db, _bill(tmp_path / "bill.csv", rows))
    stored = [r for r, _ in _ledger(db)]
    assert (BAD_ROW in stored) is kept
    assert len(stored) == ROWS - (0 if kept else 1)
    if not kept:
        assert "ChargePeriodStart" in _cli("quarantine", "--db", str(db)).output
