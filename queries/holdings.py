"""What a store holds, kind by kind: how many spans, metric points and cost rows, and the time each covers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

# One row each: count, first, last. Spans and points keep Unix nanoseconds; costs keep UTC timestamps.
KINDS: tuple[tuple[str, str], ...] = (
    ("spans", "SELECT count(*), min(start_ns), max(end_ns) FROM spans"),
    ("metric points", "SELECT count(*), min(time_ns), max(time_ns) FROM metric_points"),
    ("cost rows", "SELECT count(*), min(ChargePeriodStart), max(ChargePeriodEnd) FROM costs"),
)


@dataclass(frozen=True)
class Held:
    """One kind of row in the store: how many, and the time they cover in UTC (None when there are none)."""

    kind: str
    rows: int
    first: datetime | None
    last: datetime | None


def _utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int):
        return datetime.fromtimestamp(value // 1_000_000_000, UTC)
    return None


def holdings(first_row: Callable[[str], Sequence[object]]) -> tuple[Held, ...]:
    """Spans, metric points and cost rows, from `first_row`, which runs one SQL text on the store and returns its row
    (the DuckDB connection or ClickHouse client the caller holds)."""
    out = []
    for kind, sql in KINDS:
        n, first, last = first_row(sql)
        rows = int(n) if isinstance(n, int) else 0
        out.append(Held(kind, rows, _utc(first) if rows else None, _utc(last) if rows else None))
    return tuple(out)
