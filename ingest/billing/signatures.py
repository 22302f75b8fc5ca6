"""The header columns each billing format is recognised by, and how near a header that matches none comes to each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.billing.formats import FORMATS

# A header cell that names a column: what CSV exports write, never JSON or markup cut at its commas.
COLUMN_NAME = re.compile(r"[^{}\"<>\\]{1,128}")


@dataclass(frozen=True)
class Signature:
    """The columns that tell one billing format: each group needs one of its columns (case-insensitive: `any_case`)."""

    fmt: str
    label: str
    groups: tuple[tuple[str, ...], ...]
    any_case: bool = False

    def _has(self, cols: Sequence[str], name: str) -> bool:
        return name.lower() in {c.lower() for c in cols} if self.any_case else name in cols

    def matches(self, cols: Sequence[str]) -> bool:
        return all(any(self._has(cols, c) for c in group) for group in self.groups)

    def needs(self) -> list[tuple[str, ...]]:
        """Its recognising groups, then the format's other required columns (one-column groups)."""
        named = {c.lower() for group in self.groups for c in group}
        fmt = FORMATS.get(self.fmt)
        return [*self.groups, *((c,) for c in (fmt.required if fmt else ()) if c.lower() not in named)]

    def missing(self, cols: Sequence[str]) -> list[str]:
        """What the header lacks to be read as this format (`A or B` for a group of alternatives). Required columns
        are matched without case, as the loader matches them."""
        lower = {c.lower() for c in cols}
        return [" or ".join(g) for i, g in enumerate(self.needs())
                if not any(self._has(cols, c) if i < len(self.groups) else c.lower() in lower for c in g)]

    def nearness(self, cols: Sequence[str]) -> float:
        """The share of the columns it needs that the header holds, a column written otherwise (`Billing account ID`
        for `billing_account_id`) counting half."""
        missing = self.missing(cols)
        return (len(self.needs()) - len(missing) + sum(0.5 for m in missing if _written_as(m, cols))) / len(self.needs())

    def lacks(self, cols: Sequence[str]) -> list[str]:
        """The missing columns as a message names them, with the header's column of the same name written otherwise."""
        return [f'{m} (the file has "{near}")' if (near := _written_as(m, cols)) else m for m in self.missing(cols)]


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _written_as(needed: str, cols: Sequence[str]) -> str:
    """The header column that names `needed` (or one of its `A or B` alternatives) with other case or separators."""
    wanted = {_plain(n) for n in needed.split(" or ")}
    return next((c for c in cols if _plain(c) in wanted), "")


SIGNATURES: tuple[Signature, ...] = (
    Signature("focus", "FOCUS 1.0-1.3", (("BilledCost",), ("ChargePeriodStart",), ("ProviderName", "ServiceProviderName"))),
    Signature("aws-cur-legacy", "AWS CUR (legacy)", (("lineItem/UnblendedCost",), ("lineItem/LineItemType",))),
    Signature("aws-cur2", "AWS CUR 2.0", (("line_item_unblended_cost",), ("line_item_line_item_type",))),
    Signature("oci-cost", "OCI cost report", (("lineItem/referenceNo",), ("cost/myCost",))),
    Signature("azure-cost", "Azure cost details (EA, MCA)",
              (("MeterCategory",), ("ChargeType",), ("Date",), ("CostInBillingCurrency", "Cost")), any_case=True),
    Signature("azure-usage-legacy", "Azure pay-as-you-go usage (legacy)",
              (("PreTaxCost",), ("UsageDateTime",), ("MeterCategory",)), any_case=True),
    Signature("gcp-billing", "GCP billing export",
              (("billing_account_id",), ("cost",), ("usage_start_time",), ("sku", "service"))),
    Signature("rate-card", "rate card (CSV)", (("rate_card",), ("kind",), ("id",))),
)


def recognise(cols: Sequence[str]) -> str | None:
    """The billing format whose columns the header holds, or None."""
    return next((s.fmt for s in SIGNATURES if s.matches(cols)), None)


def looks_tabular(cols: Sequence[str]) -> bool:
    """Whether a first line reads as a table's header (two or more distinct column names, none holding JSON's braces
    or quotes), not as damaged JSON: only such a file is refused as a bill whose format is unknown."""
    names = [c for c in cols if c]  # an empty name (a trailing comma) names nothing, and is no sign of damage
    return len(names) >= 2 and len({c.lower() for c in names}) == len(names) and all(
        COLUMN_NAME.fullmatch(c) for c in names)


def _names(missing: Sequence[str]) -> str:
    shown = ", ".join(missing[:4])
    return shown + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")


def unknown_header(cols: Sequence[str], container: str) -> str:
    """Why a table whose header matches no billing format is refused: every format tried, the nearest first, with the
    columns it lacks."""
    near = sorted(SIGNATURES, key=lambda s: (-s.nearness(cols), len(s.missing(cols))))
    tried = "; ".join(f"{s.label} lacks {_names(s.lacks(cols))}" for s in near)
    kind = "gzip CSV" if container == "csv.gz" else "CSV"
    return (f"a {kind} file whose {len(cols)} columns match no billing format tierwise reads (and it is not OTLP); "
            f"tried, closest first: {tried}. Export the bill in one of these formats, or rename its columns to the "
            "ones named here (docs/billing.md)")
