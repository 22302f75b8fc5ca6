"""The ClickHouse schema: numbered, append-only DDL files applied in order, plus the contract rules the views read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import pyarrow as pa

from ingest import contract
from ingest.clickhouse.client import ClickHouseClient
from ingest.settings import TierRules

MIGRATIONS_TABLE = "tierwise_schema_migrations"
ROLLUP_DAYS_VERSION = 91


@dataclass(frozen=True)
class SchemaFile:
    """One numbered DDL file from ingest/clickhouse/schema."""

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


class SchemaError(RuntimeError):
    """The ClickHouse schema cannot be brought up to date (an applied file was edited)."""


def files() -> tuple[SchemaFile, ...]:
    """All schema files shipped with this version, in order."""
    found = []
    for entry in resources.files("ingest.clickhouse").joinpath("schema").iterdir():
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


def apply(client: ClickHouseClient) -> list[str]:
    """Apply pending schema files in order, then views.sql; returns the names of the files applied.

    ClickHouse has no transactional DDL, so every statement is idempotent (IF NOT EXISTS / OR REPLACE) and a file
    is recorded only once all of its statements ran: an interrupted apply simply runs the file again.
    """
    done = applied_versions(client)
    applied = []
    for f in files():
        if f.version in done:
            if done[f.version] != f.checksum:
                raise SchemaError(f"ClickHouse schema file {f.name} was edited after it was applied; add a new one")
            continue
        for stmt in f.statements():
            client.command(stmt)
        client.command(f"INSERT INTO {MIGRATIONS_TABLE} VALUES ({{v:Int32}}, {{n:String}}, {{c:String}}, now64(6))",
                       {"v": f.version, "n": f.name, "c": f.checksum})
        applied.append(f.name)
    views = resources.files("ingest.clickhouse").joinpath("views.sql")
    if views.is_file():  # hops and cost_links over our tables (CREATE ... IF NOT EXISTS: cheap to rerun)
        for stmt in views.read_text("utf-8").split("\n;"):
            if any(line.strip() and not line.lstrip().startswith("--") for line in stmt.splitlines()):
                client.command(stmt)
    return applied


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
