"""Billing rows kept out of the ledger: which field, why and what to do, their file row, and the money they state."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ingest.billing.csv_rows import BROKEN
from ingest.billing.detect import Detected
from ingest.billing.source import MAX_AMOUNT

REJECTS = "tw_billing_rejects"
# The first field that keeps a mapped row out of the ledger, or NULL. Amounts must be summable (source.MAX_AMOUNT);
# charge and billing periods must lie in the years bills cover (dates.py: a date read for sure, never a guess); a Tags
# cell that is not JSON would otherwise vanish silently and take the row's workload and tier with it.
REJECT_SQL = f"""CASE WHEN BilledCost IS NULL OR abs(BilledCost) >= {MAX_AMOUNT} THEN 'BilledCost'
    WHEN EffectiveCost IS NULL OR abs(EffectiveCost) >= {MAX_AMOUNT} THEN 'EffectiveCost'
    WHEN ChargePeriodStart IS NULL OR NOT tw_period_ok(ChargePeriodStart) THEN 'ChargePeriodStart'
    WHEN NOT tw_period_ok(ChargePeriodEnd) THEN 'ChargePeriodEnd'
    WHEN NOT tw_period_ok(BillingPeriodStart) THEN 'BillingPeriodStart'
    WHEN NOT tw_period_ok(BillingPeriodEnd) THEN 'BillingPeriodEnd'
    WHEN ChargeCategory IS NULL OR ChargeCategory NOT IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')
        THEN 'ChargeCategory'
    WHEN ProviderName IS NULL THEN 'ProviderName'
    WHEN Tags IS NULL AND trim(__tags_text) NOT IN ('', '{{}}', '[]') THEN 'Tags' END"""
_TEXT = "'''' || left(trim(__billed_text), 40) || ''''"
_TOO_LARGE = "' is beyond ±10^15, more than any bill line, and would break the totals; check the export'"
# What was found and what to do, per reject; the written amount is quoted where the mapping knows it.
REASON_SQL = f"""CASE
    WHEN __reject = 'BilledCost' AND BilledCost IS NOT NULL
        THEN coalesce({_TEXT}, BilledCost::VARCHAR) || {_TOO_LARGE}
    WHEN __reject = 'EffectiveCost' AND EffectiveCost IS NOT NULL THEN EffectiveCost::VARCHAR || {_TOO_LARGE}
    WHEN __reject = 'BilledCost' AND nullif(trim(__billed_text), '') IS NULL
        THEN 'missing: every row needs an amount (0 when nothing is charged)'
    WHEN __reject = 'BilledCost' AND lower(trim(__billed_text, ' +-')) IN ('nan', 'inf', 'infinity')
        THEN {_TEXT} || ' is not an amount; write the charge as a decimal number such as 1234.56'
    WHEN __reject = 'BilledCost' AND abs(TRY_CAST(__billed_text AS DOUBLE)) >= {MAX_AMOUNT}
        THEN {_TEXT} || {_TOO_LARGE}
    WHEN __reject = 'BilledCost' AND tw_grouped(__billed_text) IS NOT NULL
        THEN {_TEXT} || ' has thousands separators; write it as ' || replace(trim(__billed_text), ',', '')
    WHEN __reject IN ('BilledCost', 'EffectiveCost') THEN 'missing or not a decimal number'
    WHEN __reject IN ('ChargePeriodStart', 'ChargePeriodEnd', 'BillingPeriodStart', 'BillingPeriodEnd')
        THEN 'missing, not a date-time, or outside the years 2000 to 2100; write it like 2025-11-01T00:00:00Z'
    WHEN __reject = 'ChargeCategory' THEN 'missing or not one of Usage, Purchase, Tax, Credit, Adjustment'
    WHEN __reject = 'Tags' THEN 'not JSON, so the row''s workload and tier tags cannot be read; write them as a JSON '
        || 'object such as {{"app": "search"}} or leave the cell empty'
    ELSE 'missing: the row names no provider' END"""


def may_exist(path: Path, det: Detected, accepted: int, last_row: object) -> bool:
    """False only when every data row of the file is known to be in the ledger (so no quarantine pass is needed).

    Parquet knows its row count; a plain CSV has at most (line count − header) rows, and when the ledger holds
    rows 1..N with N at that bound, nothing was rejected. Other containers are always re-checked.
    """
    if not isinstance(last_row, int) or accepted != last_row:
        return True
    if det.container == "parquet":
        return bool(pq.ParquetFile(path).metadata.num_rows != accepted)
    if det.container == "csv":
        lines, tail = 0, b"\n"
        with open(path, "rb") as f:
            while chunk := f.read(1 << 24):
                lines += chunk.count(b"\n")
                tail = chunk[-1:]
        return accepted < lines - 1 + (tail != b"\n")
    return True


def collect(con: duckdb.DuckDBPyConnection, view: str, scan: bool, broken: bool,
            place: tuple[object, object] | None) -> None:
    """Create REJECTS from the mapped rows with a reject reason (read only when `scan`) and, when `broken`, the CSV rows
    that did not split, booked under `place` (the file's one provider and billing period) if it has one.

    Each keeps the BilledCost it states when that can be summed: a number, or one written with thousands separators,
    and its billing period when that is one a bill can have (dates.py), else none.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REJECTS} AS SELECT x_SourceRow, __reject, {REASON_SQL} AS __reason, "
        f"left(CASE __reject WHEN 'Tags' THEN __tags_text ELSE __excerpt END, 200) AS __excerpt, ProviderName, "
        f"CASE WHEN tw_period_ok(BillingPeriodStart) THEN BillingPeriodStart END AS BillingPeriodStart, "
        f"tw_summable(coalesce(__source_billed, tw_grouped(__billed_text))) AS __source_billed "
        f"FROM {view} WHERE {'true' if scan else 'false'} AND __reject IS NOT NULL")
    if broken:
        provider, period = place or (None, None)
        con.execute(f"INSERT INTO {REJECTS} SELECT x_SourceRow, field, reason, trim(excerpt, chr(13) || chr(10)), "
                    f"$provider, $period, NULL FROM {BROKEN}", {"provider": provider, "period": period})


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every reject (the file repeats one that quarantined them)."""
    con.execute(f"DELETE FROM {REJECTS}")


def record(con: duckdb.DuckDBPyConnection, sha: str, source: str) -> int:
    """Quarantine REJECTS under the file; returns how many."""
    con.execute(f"INSERT INTO quarantine SELECT $sha, $src, 0, x_SourceRow, 'row', __reject, __reason, __excerpt, now() "
                f"FROM {REJECTS} ORDER BY x_SourceRow", {"sha": sha, "src": source})
    return int(con.execute(f"SELECT count(*) FROM {REJECTS}").fetchall()[0][0])


def drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {REJECTS}")
