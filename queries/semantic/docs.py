"""docs/measures.md, generated from the model: `python -m queries.semantic.docs` rewrites it (a test checks it)."""

from __future__ import annotations

import sys
from pathlib import Path

from queries.semantic import model

DOC = Path(__file__).resolve().parents[2] / "docs" / "measures.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The page: every measure (unit, sampling adjustment, meaning, definition, dimensions) and every dimension."""
    m = model.model()
    lines = ["# Measures and dimensions", "",
             "Generated from `queries/semantic/model.toml` by `python -m queries.semantic.docs`; do not edit by hand.",
             "Every page, `tierwise metric`, export and recommendation input reads these numbers through the model.",
             "`tierwise metric MEASURE --by DIM --where DIM=VALUE --from T --to T` gives any of them.", "",
             "Sampling adjustment: a span's weight is 2^56 ÷ (2^56 − T) for the W3C `tracestate` threshold `ot=th:T`, "
             "else 1; adjusted measures sum weights, `requests_sampled` counts what is stored. A span delivered twice "
             "(same trace and span id) counts once everywhere.", "",
             "## Measures", "",
             "| measure | label | unit | adjusted | meaning | definition | dimensions |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for x in m.measures:
        fams = model.families_of(x)
        dims = [d.name for d in m.dimensions if all(d.expr(f) is not None for f in fams)]
        if fams == ("costs",):
            dims.append("tag:&lt;key&gt;")
        lines.append(f"| `{x.name}` | {x.label} | {x.unit} | {'yes' if x.adjusted else 'no'} | {_cell(x.meaning)} | "
                     f"{_cell(x.definition)} | {', '.join(dims)} |")
    lines += ["", "## Dimensions", "", "| dimension | label | meaning | families |", "| --- | --- | --- | --- |"]
    for d in m.dimensions:
        lines.append(f"| `{d.name}` | {d.label} | {_cell(d.description)} | {', '.join(f for f, _ in d.sql)} |")
    lines.append("| `tag:<key>` | Tag | A billing tag or label in FOCUS `Tags` (AWS `user:` tags, Azure tags, GCP labels). "
                 "| costs |")
    lines += ["", "## Families", "", "| family | rows |", "| --- | --- |"]
    lines += [f"| {name} | {_cell(text)} |" for name, text in m.families]
    lines += ["", "## Units", "",
              "count: thousands separators; pct: 1 decimal and %; ms: ms below 1 s, else s; money: 2 decimals, "
              "separators and the ISO currency; gb: 1e9 bytes; hours: clock hours; ratio: ×; per_s: per second "
              "(2 significant digits below 0.1/s, 2 decimals below 10/s, 1 below 100/s). A missing value shows "
              "as –. Money is never summed across currencies; `[currency]` in tierwise.toml (`report = \"USD\"`, "
              "`[currency.rates] CAD = 0.73`) converts at the rates you give.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
