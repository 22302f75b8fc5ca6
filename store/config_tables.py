"""The checks every array of named tables in tierwise.toml shares ([[budget]], [[view]], [[map]], [[cost_map]])."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def _listed(fields: Sequence[str]) -> str:
    return ", ".join(fields[:-1]) + f" and {fields[-1]}" if len(fields) > 1 else fields[0]


def entries(raw: Any, table: str, fields: Sequence[str], config: str,
            error: type[ValueError]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each `[[table]]` entry with the label its errors start with (`<config> [[table]] #2 ('name')`), once it is a
    table holding only `fields`; `error` (the parser's own ValueError) names the entry and the field at fault."""
    if raw is None:
        return
    if not isinstance(raw, list):
        raise error(f"{config}: [[{table}]] must be an array of tables")
    for i, entry in enumerate(raw, 1):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        label = f"{config} [[{table}]] #{i}" + (f" ({name!r})" if isinstance(name, str) else "")
        if not isinstance(entry, Mapping):
            raise error(f"{label}: must be a table with {_listed(fields)}")
        unknown = sorted(set(entry) - set(fields))
        if unknown:
            raise error(f"{label}: unknown field {unknown[0]!r} (known: {', '.join(fields)})")
        yield label, entry


def scope(value: Any, label: str, error: type[ValueError]) -> tuple[tuple[str, str], ...]:
    """A `where` table of dimension = "value" (absent: none), as pairs in the file's order."""
    value = value or {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v for v in value.values()):
        raise error(f"{label}: `where` must be a table of dimension = \"value\"")
    return tuple((str(k), str(v)) for k, v in value.items())
