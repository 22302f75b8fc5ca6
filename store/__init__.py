"""Opening the DuckDB store, applying its numbered, append-only migrations, and keeping its derived tables current."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from store import derived, tier_sql

MIGRATIONS_TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered schema file from store/migrations."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class StoreError(RuntimeError):
    """The store cannot be used as asked (missing, behind on migrations, edited migrations)."""


def migrations() -> tuple[Migration, ...]:
    """All migrations shipped with this version, in order."""
    found = []
    for entry in resources.files("store").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append(Migration(version, entry.name.removesuffix(".sql"), entry.read_text("utf-8")))
    return tuple(sorted(found, key=lambda m: m.version))


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store, with the tier macros (store/tier_sql.py) the queries order by; read-only connections refuse a
    missing file instead of creating one."""
    p = Path(path)
    if read_only and not p.exists():
        raise StoreError(f"no tierwise store at {p}: run `tierwise ingest` or `tierwise migrate` first")
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(p), read_only=read_only)
    tier_sql.install_duckdb(con)
    return con


def applied_versions(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Version → checksum of the migrations this store has applied."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = $t", {"t": MIGRATIONS_TABLE}
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute(f"SELECT version, checksum FROM {MIGRATIONS_TABLE}").fetchall()
    return {int(v): str(c) for v, c in rows}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, each in its own transaction, then rebuild the derived tables whose definition
    changed (store/derived); returns the names of the migrations applied."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(version INTEGER PRIMARY KEY, name VARCHAR, checksum VARCHAR, applied_at TIMESTAMPTZ)"
    )
    done = applied_versions(con)
    applied = []
    for m in migrations():
        if m.version in done:
            if done[m.version] != m.checksum:
                raise StoreError(f"migration {m.name} was edited after it was applied; add a new one instead")
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.sql)
            con.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} VALUES ($v, $n, $c, now())",
                {"v": m.version, "n": m.name, "c": m.checksum},
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(m.name)
    if derived.DEFINITIONS_TABLE in _tables(con):  # not when an older schema is asked for (tests of old stores)
        derived.rebuild_changed(con)
    return applied


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def check_current(con: duckdb.DuckDBPyConnection) -> None:
    """Fail fast when a read-only reader meets a store that is behind this version's schema."""
    done = applied_versions(con)
    missing = [m.name for m in migrations() if m.version not in done]
    if missing:
        raise StoreError(f"store is behind ({', '.join(missing)} not applied): run `tierwise migrate`")
    changed = derived.stale(con)
    if changed:
        raise StoreError(f"derived tables {', '.join(changed)} predate their definition: run `tierwise migrate`")


def open_writer(path: Path | str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A writable, migrated connection: every writer goes through here. `memory_limit` bounds DuckDB's own memory
    (its default is 80 % of RAM), from Settings.writer_memory; a validated size, so it is safe to inline."""
    con = connect(path)
    if memory_limit is not None:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    migrate(con)
    return con
