"""The ClickHouse schema: numbered, append-only DDL files applied in order, plus the contract rules the views read."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import pyarrow as pa

from store import contract, derived, tier_sql
from store.clickhouse import layouts
from store.clickhouse.client import ClickHouseClient
from store.clickhouse.layouts import Layout
from store.settings import TierRules

MIGRATIONS_TABLE = "tierwise_schema_migrations"
OWNED_TABLE = "tierwise_owned_tables"
# the file whose materialized view latency_rollup_mv is current (0090's, replaced by 0105 with 0104's tier rules): the
# backfill runs its SELECT, its text is part of the roll-up definition, and applying it starts a backfill
ROLLUP_VERSION = 105
ROLLUP_DAYS_VERSION = 91
ADAPTERS_BEFORE = 101  # files from this version on read the exporter's tables through layouts.py's adapter views
DEDUP_WINDOW = 10000


@dataclass(frozen=True)
class SchemaFile:
    """One numbered DDL file from store/clickhouse/schema."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """The file's statements (ClickHouse takes one per request); our DDL has no `;` inside literals."""
        body = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip() for s in body.split(";") if s.strip()]

    @property
    def supersedes(self) -> tuple[int, ...]:
        """Earlier files this one replaces (a `-- supersedes: 0005, 0006` line): a store that has not applied them
        records them without running them."""
        found = re.search(r"^-- supersedes: ([\d, ]+)$", self.sql, re.MULTILINE)
        return tuple(int(v) for v in found.group(1).split(",")) if found else ()


@dataclass(frozen=True)
class SchemaReport:
    """What one schema step did: files applied (superseded ones recorded without running), the exporter tables'
    layouts, and what could not be created (file or view name, ClickHouse's message), retried by the next step."""

    applied: tuple[str, ...]
    tables: tuple[Layout, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def files_failed(self) -> tuple[str, ...]:
        """Numbered files that did not apply (tables the loaders write may be missing)."""
        return tuple(name for name, _ in self.failed if name[:4].isdigit())

    def applied_version(self, version: int) -> bool:
        return any(name.startswith(f"{version:04d}_") for name in self.applied)

    @property
    def unread(self) -> tuple[Layout, ...]:
        """Exporter tables whose layout is not understood: no view reads their rows."""
        return tuple(layout for layout in self.tables if layout.problem is not None)


class SchemaError(RuntimeError):
    """The ClickHouse schema cannot be brought up to date (an applied file was edited)."""


def files() -> tuple[SchemaFile, ...]:
    """All schema files shipped with this version, in order."""
    found = []
    for entry in resources.files("store.clickhouse").joinpath("schema").iterdir():
        if entry.name.endswith(".sql"):
            found.append(SchemaFile(int(entry.name.split("_", 1)[0]), entry.name.removesuffix(".sql"),
                                    entry.read_text("utf-8")))
    return tuple(sorted(found, key=lambda f: f.version))


def rollup_days() -> SchemaFile:
    """Schema 0091 (day histograms beside latency_rollup, filled from its day rows, and the views that keep them): for
    ClickHouse stores whose latency_rollup was written around the schema step, such as benchmark and test copies."""
    return next(f for f in files() if f.version == ROLLUP_DAYS_VERSION)


def applied_versions(client: ClickHouseClient) -> dict[int, str]:
    """Version → checksum of the schema files this ClickHouse database has applied."""
    client.command(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version Int32, name String, checksum String, "
        "applied_at DateTime64(6, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY version")
    rows = client.query_arrow(f"SELECT version, checksum FROM {MIGRATIONS_TABLE} FINAL").to_pylist()
    return {int(r["version"]): str(r["checksum"]) for r in rows}


def apply(client: ClickHouseClient) -> SchemaReport:
    """Apply pending schema files in order, the adapter views over the exporter's tables (before the files that read
    them, and again on every step, as the tables may have changed), the tier functions and views.sql.

    ClickHouse has no transactional DDL, so every statement is idempotent (IF NOT EXISTS / OR REPLACE) and a file
    is recorded only once all of its statements ran: an interrupted apply simply runs the file again. A file or view
    that fails is reported and the rest still applied; the next step retries it.
    """
    done = applied_versions(client)
    shipped = files()
    for f in shipped:
        if f.version in done and done[f.version] != f.checksum:
            raise SchemaError(f"ClickHouse schema file {f.name} was edited after it was applied; add a new one")
    superseded = {v for f in shipped for v in f.supersedes}
    before = _exporter_tables(client)
    applied: list[str] = []
    failed: list[tuple[str, str]] = []
    found: dict[str, layouts.Layout] | None = None
    for f in (f for f in shipped if f.version not in done):
        if f.version >= ADAPTERS_BEFORE and found is None:
            found = layouts.create_adapters(client)
        try:
            if f.version not in superseded:
                for stmt in f.statements():
                    client.command(stmt)
            _record(client, f)
        except Exception as e:  # reported by name; later files and the views still get their chance
            failed.append((f.name, _first_line(e)))
            continue
        applied.append(f.name)
    if found is None:
        found = layouts.create_adapters(client)
    failed += _own(client, _exporter_tables(client) - before)
    # the tier functions (store/tier_sql.py) before the views, which may call them; readers create them too, but one
    # not allowed to create functions relies on finding them here
    tier_sql.install_clickhouse(client)
    for name, stmt in view_statements():
        try:
            client.command(stmt)
        except Exception as e:  # one view that cannot be created must not keep the others from being created
            failed.append((name, _first_line(e)))
    return SchemaReport(tuple(applied), tuple(found.values()), tuple(failed))


def _record(client: ClickHouseClient, f: SchemaFile) -> None:
    client.command(f"INSERT INTO {MIGRATIONS_TABLE} VALUES ({{v:Int32}}, {{n:String}}, {{c:String}}, now64(6))",
                   {"v": f.version, "n": f.name, "c": f.checksum})


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__


def _exporter_tables(client: ClickHouseClient) -> set[str]:
    rows = client.query_arrow("SELECT name FROM system.tables WHERE database = currentDatabase() "
                              "AND name IN {t:Array(String)}", {"t": list(layouts.TABLES)}).to_pylist()
    return {str(r["name"]) for r in rows}


def _own(client: ClickHouseClient, created: set[str]) -> list[tuple[str, str]]:
    """Record the exporter-layout tables this step created (0001/0002 on a database the Collector had not filled)
    and give them the deduplication window tierwise's loads rely on. A table the Collector made is never altered."""
    failed = []
    for table in sorted(created):
        try:
            client.command(f"INSERT INTO {OWNED_TABLE} VALUES ({{t:String}}, now64(6))", {"t": table})
            client.command(f"ALTER TABLE `{table}` MODIFY SETTING non_replicated_deduplication_window = {DEDUP_WINDOW}")
        except Exception as e:
            failed.append((table, _first_line(e)))
    return failed


def owned(client: ClickHouseClient) -> set[str]:
    """The exporter-layout tables tierwise created itself (and so may configure)."""
    try:
        rows = client.query_arrow(f"SELECT name FROM {OWNED_TABLE} FINAL").to_pylist()
    except Exception:  # a store whose schema predates 0102 has recorded none
        return set()
    return {str(r["name"]) for r in rows}


_VIEW_NAME = re.compile(r"CREATE (?:OR REPLACE )?VIEW (?:IF NOT EXISTS )?`?(\w+)", re.IGNORECASE)


def view_statements() -> list[tuple[str, str]]:
    """(view, statement) for views.sql, then the derived-table registry's ClickHouse views not defined there."""
    text = resources.files("store.clickhouse").joinpath("views.sql").read_text("utf-8")
    named = []
    for stmt in text.split("\n;"):
        if any(line.strip() and not line.lstrip().startswith("--") for line in stmt.splitlines()):
            found = _VIEW_NAME.search(stmt)
            named.append((found.group(1) if found else stmt.strip()[:40], stmt))
    defined = {name for name, _ in named}
    return named + [(name, ddl) for name, ddl in derived.clickhouse_views() if name not in defined]


def write_rules(client: ClickHouseClient, rules: TierRules) -> None:
    """Replace the tier rules and metric aliases the views read with the current settings and contract."""
    rows = ([("edge_host", h, "edge") for h in sorted(rules.edge_hosts)]
            + [("edge_site", s, "edge") for s in sorted(rules.edge_sites)]
            + [("edge_platform", p, "edge") for p in sorted(rules.edge_platforms)]
            + [("region", r, t) for r, t in rules.region_tiers]
            + [("default_cloud", "", rules.default_cloud_tier)])
    client.command("TRUNCATE TABLE tier_rules")
    client.insert_arrow("tier_rules", pa.table({"rule": [r[0] for r in rows], "key": [r[1] for r in rows],
                                                "tier": [r[2] for r in rows]}))
    aliases = contract.METRIC_ALIASES
    client.command("TRUNCATE TABLE metric_aliases")
    client.insert_arrow("metric_aliases", pa.table({
        "metric_name": list(aliases), "canonical_name": [a.canonical for a in aliases.values()],
        "scale": [a.scale for a in aliases.values()], "unit": [a.unit for a in aliases.values()]}))
