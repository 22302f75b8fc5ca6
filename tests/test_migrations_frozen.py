"""Migrations are append-only: a shipped migration file never changes, and a new one comes after every shipped one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"DUCKDB": ROOT / "store" / "migrations", "CLICKHOUSE": ROOT / "store" / "clickhouse" / "schema"}

# sha256 of every migration as shipped; a store records each checksum and refuses to start when one differs.
DUCKDB = {
    "0001_core.sql": "9abd766880d31ad3a9827734b175b519373087ed3b73f17ee8486141fe15af33",
    "0002_costs.sql": "79e98c30ac5f3f6defe5563b36b85b61b45554d2575b3d3184c44a2568815ff4",
    "0003_hops_view.sql": "63556f821b9ed85ab829ae939dcd83e01ac8f79ed3d1b6b3bd7aa1d515e4c400",
    "0004_link_maps.sql": "7d453e93d3ec8379f7fa9e24b4e41ec9d116e702815be52208c8094dc2f4b715",
    "0005_latency_rollup.sql": "9f886ebe902fce36e7108a6b1bfb49ee94d63bb8ae663d38250f40becb26bca2",
    "0006_trace_index.sql": "f5b6d23d562027fb78a40c24104000d734bf922dc9f678ae254cc93301287f79",
    "0007_hop_spans.sql": "9eea318c1ea5cc5fbb3e88935a2867cb88c89f4359b8e63ff51b9486395e4900",
    "0008_costs_layout.sql": "5a59fdde313c7d22ca4f823cd8298ba4391c5ddadf5edcfb4db50f87d0701f9e",
    "0009_trace_profiles.sql": "9face3fe55325a4924740263367f9c48527122bd816d6fadef89fadc8ba621e3",
    "0010_trace_keys.sql": "8adead627c5686b00045914dc191c1fbf1e361408ef45a4a536261336e8a4fe3",
    "0011_usage_rollup.sql": "ac77fbd8ef1fb1f2349476cc8a1c3aa36d174b1aef89e2d910226261230053a5",
    "0012_trace_root_dups.sql": "21a9a2d97e06f08f2df394cec1acd5f34983002674528e2e3eab5609fa117cfa",
    "0013_request_entries.sql": "c8487e98b5975832a7a73a705c4d3bd8eadea9ca44a855ca15e250445a48a592",
    "0014_billing_charge_sets.sql": "9a69eb87724386141f485c0d6c9000c357b61a3e0e91df406bed1cfbad7bef7e",
    "0015_drop_unread_trace_tables.sql": "ecc9dc4c94c6d276ea8b68ddc7dbdd3d45f941ec77b70fecae411e2ddd9433e8",
    "0016_derived_definitions.sql": "f72c419e625dc70c9f6581f8d2fb8637f3f34de56a16014028dff4ff691be0d6",
}
CLICKHOUSE = {
    "0001_otel_traces.sql": "a7983d80f6028a5d650f36ffe680e025576e9dc852a0bca21c77bf21171220a9",
    "0002_otel_metrics.sql": "8714d68422b0fde0449c7ddad1651b24c1f3d6f6de0b6d3dd04a122033012188",
    "0003_costs.sql": "bec545767b75e45530f6becf26347a18f4729df26391b1f9050270303ee3c4c1",
    "0004_ledger.sql": "0687831c07d3d48c5cd5110d9110b5e87efa75a5c206475ea50d6c51b4c3b87a",
    "0005_spans_view.sql": "42a71e857872ffd98a4ab01ba6693f20acc190c73617f18329ff526e7e8e1300",
    "0006_metric_points_view.sql": "b4ef0ebf99e157a25a60f33b0b82b63abd3d455b7d69088907c9bda2a8872913",
    "0090_latency_rollup.sql": "aab301bedeea22f6add425e8d235f29eb77a6baa82d0ba6ffba15c62b6d2a2ff",
    "0091_latency_rollup_days.sql": "27ce15d06f7ed66cd8d7c45697a20907e303551fd70afc9c21d21a39270cd27f",
    "0100_insert_dedup.sql": "c3e66990b0f682867033a67ae90c5731efce0510b4bc8a4fb58f30d48e472cbb",
}
SHIPPED = {"DUCKDB": DUCKDB, "CLICKHOUSE": CLICKHOUSE}


@pytest.mark.parametrize("engine", sorted(FOLDERS))
def test_shipped_migrations_are_unchanged_and_new_ones_come_last(engine: str) -> None:
    shipped, folder = SHIPPED[engine], FOLDERS[engine]
    present = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.sql")}
    edited = sorted(n for n, digest in shipped.items() if present.get(n) != digest)
    assert not edited, f"shipped migrations edited or removed (add a new migration instead): {edited}"
    last = max(int(n.split("_", 1)[0]) for n in shipped)
    inserted = sorted(n for n in present if n not in shipped and int(n.split("_", 1)[0]) <= last)
    assert not inserted, f"new migrations numbered before a shipped one: {inserted}"
