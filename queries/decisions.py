"""Accept/dismiss state of recommendations, kept in a JSON file beside the store (the app opens the store read-only)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATES = ("accepted", "dismissed")
log = logging.getLogger("tierwise.decisions")


@dataclass(frozen=True)
class Decision:
    """What someone decided about one recommendation, when (UTC ISO 8601) and who (None without login)."""

    key: str
    state: str
    at: str
    note: str = ""
    by: str | None = None


@dataclass(frozen=True)
class Loaded:
    """The decisions in the file, and `problem`: one line saying a damaged file was set aside (else empty)."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    problem: str = ""


@dataclass(frozen=True)
class Recorded:
    """The decision written, and `problem`: one line saying a damaged file was set aside first (else empty)."""

    decision: Decision
    problem: str = ""


class _Damaged(ValueError):
    """The file's text is not the JSON object of decisions this module writes."""


def path_for(db: Path) -> Path:
    """`<db>.decisions.json`, beside the DuckDB file."""
    return db.with_name(db.name + ".decisions.json")


def key(workload: str, from_tier: str, to_tier: str, rule: str) -> str:
    """The identity of a recommendation across runs: workload, move and rule."""
    return f"{workload}|{from_tier}|{to_tier}|{rule}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold `<file>.lock` exclusively: writers (and whoever sets a damaged file aside) take turns across processes.
    A separate lock file, because os.replace swaps the decisions file's inode under anyone locking it."""
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _parse(raw: bytes) -> dict[str, Decision]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _Damaged(str(e)) from None
    if not isinstance(data, dict):
        raise _Damaged("not a JSON object")
    out = {}
    for k, v in data.items():
        if not isinstance(v, dict) or v.get("state") not in STATES or not isinstance(v.get("at"), str):
            raise _Damaged(f"entry {k!r} has no valid state and time")
        by = v.get("by")
        out[k] = Decision(k, str(v["state"]), str(v["at"]), str(v.get("note", "")), None if by is None else str(by))
    return out


def _set_aside(path: Path, why: str) -> str:
    """Rename a damaged file to `<file>.corrupt-<UTC time>` (kept for a person to look at); the one-line notice."""
    aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}")
    os.replace(path, aside)
    notice = (f"The decisions file {path} was damaged ({why[:120]}) and was set aside as {aside.name}: earlier "
              "accept/dismiss choices are not shown; decisions from now on are kept.")
    log.warning(notice)
    return notice


def _read(path: Path) -> Loaded:
    """The file's decisions, a damaged file set aside. Call with the lock held: another process may have replaced
    the file since it was last seen damaged, and only one may rename it."""
    try:
        return Loaded(_parse(path.read_bytes()))
    except FileNotFoundError:
        return Loaded()
    except _Damaged as e:
        return Loaded(problem=_set_aside(path, str(e)))


def read(db: Path) -> Loaded:
    """Every recorded decision by key (empty when the file does not exist yet); a damaged file is set aside and
    `problem` says so in one line, never an exception."""
    path = path_for(db)
    try:
        return Loaded(_parse(path.read_bytes()))  # writes are atomic: no lock needed to read a whole file
    except FileNotFoundError:
        return Loaded()
    except _Damaged:
        with _locked(path):
            return _read(path)


def load(db: Path) -> dict[str, Decision]:
    """Every recorded decision by key, as read() (a damaged file is set aside and logged)."""
    return read(db).decisions


def _entry(d: Decision) -> dict[str, Any]:
    out = {f: v for f, v in asdict(d).items() if f != "key"}
    if out["by"] is None:
        del out["by"]
    return out


def record(db: Path, rec_key: str, state: str, note: str = "", by: str | None = None) -> Recorded:
    """Remember `state` for `rec_key` (replacing an earlier one), made `by` whom when known. Read, change and write
    happen under an exclusive lock, the write to a temporary file renamed over the old one: concurrent processes
    keep every decision and a reader never sees half a file."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    decision = Decision(rec_key, state, datetime.now(UTC).isoformat(timespec="seconds"), note, by)
    path = path_for(db)
    with _locked(path):
        before = _read(path)
        current = {k: _entry(d) for k, d in before.decisions.items()}
        current[rec_key] = _entry(decision)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(current, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Recorded(decision, before.problem)
