"""What a derived table declares, and the SQL that folds, rebuilds and checks it, generated from that declaration."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

# A SELECT of a derived table's rows over a relation of spans: a batch being committed, or `spans`.
Rows = Callable[[str], str]


class Kind(Enum):
    """How a batch's rows join a derived table."""

    APPEND = "append"  # inserted as they are; readers never assume one row per key
    MERGE = "merge"  # one row per key: the batch's sums are added and its maxima kept when greater
    NEW_KEYS = "new keys"  # a set of keys: the batch adds the keys the table lacks


@dataclass(frozen=True)
class Derived:
    """A table kept current from spans inside the transaction that commits each span batch.

    `rows` recomputes the whole table from a relation of spans; `batch_rows`, when set, is a batch's rows when they
    also depend on what the store already holds (a key seen before, a parent committed earlier). `reads` names the
    derived tables those SELECTs read, which the registry folds and rebuilds first; `reads_before` names those read
    as they stood before the batch, which the registry folds after this one. `revisit` is a statement that completes
    rows stored by earlier batches from the batch (relation name in, SQL out), run before the batch's own rows.
    `compare`, when set, maps a relation holding the table's rows to the SELECT `check` compares (for tables whose
    rows only add up to their meaning, such as a trace's parts); `approx` lists DOUBLE sums compared within 1e-9.
    `clickhouse` is the table as a view over ClickHouse's `spans` (None: kept otherwise there, or not read there).
    """

    table: str
    kind: Kind
    columns: tuple[str, ...]
    rows: Rows
    keys: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    maxima: tuple[str, ...] = ()
    batch_rows: Rows | None = None
    reads: tuple[str, ...] = ()
    reads_before: tuple[str, ...] = ()
    revisit: Rows | None = None
    compare: tuple[Rows, ...] = ()
    approx: tuple[str, ...] = ()
    clickhouse: str | None = None

    def __post_init__(self) -> None:
        if self.kind is Kind.MERGE and not self.keys:
            raise ValueError(f"{self.table}: a MERGE table declares its keys")
        unknown = set((*self.keys, *self.sums, *self.maxima, *self.approx)) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.table}: {sorted(unknown)} are not among its columns")

    @property
    def fingerprint(self) -> str:
        """A digest of the definition: a stored table whose definition changed is rebuilt by `tierwise migrate`."""
        parts = [self.kind.value, ",".join(self.columns), ",".join(self.keys), ",".join(self.sums),
                 ",".join(self.maxima), self.rows("spans"), (self.batch_rows or self.rows)("batch"),
                 self.revisit("batch") if self.revisit else ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def fold_sql(self, view: str) -> str:
        """The statement that adds the batch in relation `view` to the table."""
        cols = ", ".join(self.columns)
        rows = (self.batch_rows or self.rows)(view)
        if self.kind is Kind.APPEND:
            return f"INSERT INTO {self.table} ({cols}) {rows}"
        if self.kind is Kind.NEW_KEYS:
            return f"INSERT INTO {self.table} ({cols}) (SELECT {cols} FROM ({rows}) EXCEPT SELECT {cols} FROM {self.table})"
        same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM b.{k}" for k in self.keys)
        update = ", ".join([f"{c} = t.{c} + b.{c}" for c in self.sums]
                           + [f"{c} = greatest(t.{c}, b.{c})" for c in self.maxima])
        matched = f"WHEN MATCHED THEN UPDATE SET {update} " if update else ""
        return (f"MERGE INTO {self.table} t USING ({rows}) b ON ({same}) {matched}"
                f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({', '.join('b.' + c for c in self.columns)})")

    def rebuild_sql(self) -> tuple[str, str]:
        """The statements that recompute the table from every span."""
        return f"DELETE FROM {self.table}", f"INSERT INTO {self.table} ({', '.join(self.columns)}) {self.rows('spans')}"

    def differences_sql(self) -> str:
        """SELECT count(*): rows by which the table differs from a recomputation over every span (0: it holds)."""
        kept, fresh = f"(SELECT {', '.join(self.columns)} FROM {self.table})", f"({self.rows('spans')})"
        if self.approx:  # one row per key on both sides: compare row by row, the DOUBLE sums within 1e-9
            cols = ", ".join(self.columns)
            same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM b.{k}" for k in self.keys)
            differs = " OR ".join(
                ["t.present IS NULL", "b.present IS NULL"]
                + [f"t.{c} IS DISTINCT FROM b.{c}" for c in self.columns if c not in self.keys and c not in self.approx]
                + [f"abs(t.{c} - b.{c}) > 1e-9 * greatest(abs(t.{c}), abs(b.{c}), 1.0)" for c in self.approx])
            return (f"SELECT count(*) FROM (SELECT {cols}, true AS present FROM {self.table}) t "
                    f"FULL OUTER JOIN (SELECT {cols}, true AS present FROM {fresh}) b ON ({same}) WHERE {differs}")
        views = self.compare or (lambda rel: f"SELECT * FROM {rel}",)
        return "SELECT " + " + ".join(f"({differing_rows_sql(view(kept), view(fresh))})" for view in views)


def differing_rows_sql(kept: str, fresh: str) -> str:
    """SELECT count(*): the rows of SELECT `kept` and SELECT `fresh` that the other lacks, as multisets."""
    return f"SELECT count(*) FROM (({kept} EXCEPT ALL {fresh}) UNION ALL ({fresh} EXCEPT ALL {kept}))"
