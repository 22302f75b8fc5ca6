"""Query SQL by name: the text of queries/<name>.sql, the `$named` parameters it uses, and every query shipped."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@cache
def sql(name: str) -> str:
    """The text of queries/<name>.sql."""
    return resources.files("queries").joinpath(f"{name}.sql").read_text(encoding="utf-8")


@cache
def placeholders(text: str) -> tuple[str, ...]:
    """The `$named` parameters SQL text uses, each once, in order of first use."""
    return tuple(dict.fromkeys(_PARAM.findall(text)))


def names() -> list[str]:
    """Every query shipped in queries/, by name."""
    return sorted(e.name.removesuffix(".sql") for e in resources.files("queries").iterdir()
                  if e.name.endswith(".sql"))
