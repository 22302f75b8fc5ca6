"""Accept/dismiss state of recommendations, kept in a JSON file beside the store (the app opens the store read-only)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

STATES = ("accepted", "dismissed")


@dataclass(frozen=True)
class Decision:
    """What someone decided about one recommendation, and when (UTC ISO 8601)."""

    key: str
    state: str
    at: str
    note: str = ""


def path_for(db: Path) -> Path:
    """`<db>.decisions.json`, beside the DuckDB file."""
    return db.with_name(db.name + ".decisions.json")


def key(workload: str, from_tier: str, to_tier: str, rule: str) -> str:
    """The identity of a recommendation across runs: workload, move and rule."""
    return f"{workload}|{from_tier}|{to_tier}|{rule}"


def load(db: Path) -> dict[str, Decision]:
    """Every recorded decision by key (empty when the file does not exist yet)."""
    path = path_for(db)
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: Decision(k, str(v["state"]), str(v["at"]), str(v.get("note", ""))) for k, v in raw.items()}


def record(db: Path, rec_key: str, state: str, note: str = "") -> Decision:
    """Remember `state` for `rec_key` (replacing an earlier one); written atomically via a temporary file."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    decision = Decision(rec_key, state, datetime.now(UTC).isoformat(timespec="seconds"), note)
    current = {k: {f: v for f, v in asdict(d).items() if f != "key"} for k, d in load(db).items()}
    current[rec_key] = {f: v for f, v in asdict(decision).items() if f != "key"}
    path = path_for(db)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(current, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return decision
