"""Hand-written cost-ledger rows for tests: `costs` is a view (migration 0008), so they go to its wide table."""

from __future__ import annotations

import duckdb

from ingest.billing import ledger

# the NOT NULL ledger columns, so a test names only what it is about
REQUIRED: dict[str, object] = {"BilledCost": 1, "EffectiveCost": 1, "ChargeCategory": "Usage", "ProviderName": "p",
                               "x_SourceFormat": "focus-1.2", "x_SourceFile": "f", "batch_key": "b"}


def insert_cost(con: duckdb.DuckDBPyConnection, **values: object) -> None:
    """One `costs` row with `values` (ledger column → value) over REQUIRED; every other column NULL."""
    row = REQUIRED | values
    con.execute(f"INSERT INTO {ledger.WIDE} ({', '.join(row)}) VALUES ({', '.join(f'${c}' for c in row)})", row)
