"""The registry of measures and dimensions, read from model.toml into frozen records and checked once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

TAG_PREFIX = "tag:"
TAG_KEY = re.compile(r"[A-Za-z0-9_.:/@ +=-]{1,128}")
GRAINS = ("minute", "hour", "day", "week", "month")


class ModelError(ValueError):
    """A measure, dimension or combination the model does not define."""


@dataclass(frozen=True)
class Measure:
    """One number tierwise shows: its name, label, unit, family (or the two measures it divides) and meaning."""

    name: str
    label: str
    unit: str
    meaning: str
    definition: str
    adjusted: bool
    family: str | None = None
    expr: str | None = None
    quantile: float | None = None
    ratio: tuple[str, str] | None = None
    scale: float = 1.0
    per_second: str | None = None  # this measure ÷ the seconds of its time bucket (or of the whole range)


@dataclass(frozen=True)
class Dimension:
    """One way to group or filter: label, meaning and its SQL expression per family (its families)."""

    name: str
    label: str
    description: str
    sql: tuple[tuple[str, str], ...]
    boundary: str | None = None  # the entry boundary grouping by it sets: tier, site or service

    def expr(self, family: str) -> str | None:
        return dict(self.sql).get(family)


@dataclass(frozen=True)
class Model:
    families: tuple[tuple[str, str], ...]
    measures: tuple[Measure, ...]
    dimensions: tuple[Dimension, ...]


def _text() -> str:
    return resources.files("queries.semantic").joinpath("model.toml").read_text(encoding="utf-8")


@cache
def model() -> Model:
    """The model as model.toml defines it."""
    raw = tomllib.loads(_text())
    dims = []
    for name, d in raw["dimensions"].items():
        b = d.get("boundary")
        dims.append(Dimension(name, d["label"], d["description"], tuple(sorted(d["sql"].items())),
                              name if b is True else (b or None)))
    measures = []
    for name, m in raw["measures"].items():
        ratio = m.get("ratio")
        measures.append(Measure(name, m["label"], m["unit"], m["meaning"], m["definition"], bool(m["adjusted"]),
                                m.get("family"), m.get("expr"), m.get("quantile"),
                                (ratio[0], ratio[1]) if ratio else None, float(m.get("scale", 1.0)),
                                m.get("per_second")))
    out = Model(tuple((k, v["description"]) for k, v in raw["families"].items()), tuple(measures), tuple(dims))
    _check(out)
    return out


def _check(m: Model) -> None:
    families = {f for f, _ in m.families}
    names = {x.name for x in m.measures}
    additive = {x.name for x in m.measures if x.expr is not None and x.unit == "count"}
    for x in m.measures:
        if x.per_second is not None:
            if x.per_second not in additive or x.family or x.expr or x.quantile or x.ratio:
                raise ModelError(f"measure {x.name}: per_second names a count measure and nothing else is set")
            continue
        if x.ratio is None and (x.family not in families or (x.expr is None) == (x.quantile is None)):
            raise ModelError(f"measure {x.name}: needs a known family and exactly one of expr, quantile")
        if x.ratio is not None and not set(x.ratio) <= names:
            raise ModelError(f"measure {x.name}: ratio of unknown measures {x.ratio}")
    for d in m.dimensions:
        if not {f for f, _ in d.sql} <= families:
            raise ModelError(f"dimension {d.name}: unknown family in {d.sql}")


def measure(name: str) -> Measure:
    for x in model().measures:
        if x.name == name:
            return x
    known = ", ".join(x.name for x in model().measures)
    raise ModelError(f"no measure {name!r}; known measures: {known}")


def families_of(m: Measure) -> tuple[str, ...]:
    """The fact families a measure reads: its own, or those of the measures it divides."""
    if m.per_second is not None:
        return families_of(measure(m.per_second))
    if m.ratio is None:
        assert m.family is not None
        return (m.family,)
    return tuple(dict.fromkeys(f for part in m.ratio for f in families_of(measure(part))))


def dimension(name: str) -> Dimension:
    if name.startswith(TAG_PREFIX):
        key = name.removeprefix(TAG_PREFIX)
        if not TAG_KEY.fullmatch(key):
            raise ModelError(f"tag key {key!r}: use letters, digits and . _ : / @ + = - (at most 128)")
        return Dimension(name, f"Tag {key}", f"Billing tag or label {key!r} (FOCUS Tags).", (("costs", "tag"),))
    for d in model().dimensions:
        if d.name == name:
            return d
    known = ", ".join([d.name for d in model().dimensions] + ["tag:<key>"])
    raise ModelError(f"no dimension {name!r}; known dimensions: {known}")


def check_applies(measures: tuple[Measure, ...], dims: tuple[Dimension, ...], role: str) -> None:
    """Refuse a dimension that means nothing for one of the measures, naming both."""
    for m in measures:
        for fam in families_of(m):
            for d in dims:
                if d.expr(fam) is None:
                    valid = [x.name for x in model().dimensions if x.expr(fam) is not None]
                    if fam == "costs":
                        valid.append("tag:<key>")
                    raise ModelError(f"{role} {d.name!r} means nothing for measure {m.name!r} ({fam}); "
                                     f"it can be {role}: {', '.join(valid)}")
