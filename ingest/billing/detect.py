"""Recognises billing files by their header columns (never by their names)."""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow.parquet as pq

RATE_CARD_LINE = re.compile(rb"^rate_card:\s*1\s*$", re.MULTILINE)
HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class Detected:
    """A recognised billing file: its format, container and header columns."""

    fmt: str                 # focus | aws-cur-legacy | aws-cur2 | azure-cost | gcp-billing | oci-cost | rate-card
    container: str           # csv | csv.gz | parquet | jsonl | yaml
    columns: tuple[str, ...]
    version: str = ""        # FOCUS version the header matches (focus files only)


def _focus_version(cols: set[str]) -> str:
    if {"ServiceProviderName", "HostProviderName"} & cols:
        return "1.3"
    if {"InvoiceId", "BillingAccountType", "PricingCurrency", "SubAccountType"} & cols:
        return "1.2"
    if {"SkuMeter", "ServiceSubcategory", "SkuPriceDetails", "CapacityReservationId"} & cols:
        return "1.1"
    return "1.0"


def classify(columns: tuple[str, ...]) -> tuple[str, str] | None:
    """(format, version) for a header, or None when it is not a billing header we know."""
    cols = set(columns)
    lower = {c.lower() for c in columns}
    if {"BilledCost", "ChargePeriodStart"} <= cols and ({"ProviderName", "ServiceProviderName"} & cols):
        return "focus", _focus_version(cols)
    if {"lineItem/UnblendedCost", "lineItem/LineItemType"} <= cols:
        return "aws-cur-legacy", ""
    if {"line_item_unblended_cost", "line_item_line_item_type"} <= cols:
        return "aws-cur2", ""
    if {"lineItem/referenceNo", "cost/myCost"} <= cols:
        return "oci-cost", ""
    if {"metercategory", "chargetype", "date"} <= lower and ({"costinbillingcurrency", "cost"} & lower):
        return "azure-cost", ""
    if {"billing_account_id", "cost", "usage_start_time"} <= cols and ({"sku", "service"} & cols):
        return "gcp-billing", ""
    if {"rate_card", "kind", "id"} <= cols:
        return "rate-card", ""
    return None


def _csv_header(text: str) -> tuple[str, ...]:
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    return tuple(c.strip() for c in first)


def read_header(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(container, columns) of a CSV, gzip CSV, Parquet, JSON-lines or YAML rate-card file."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head[:4] == b"PAR1":
        return "parquet", tuple(pq.read_schema(path).names)
    container = "csv"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as g:
                head = g.read(HEAD_BYTES)
        except (OSError, EOFError):
            return None
        container = "csv.gz"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        line = stripped.split(b"\n", 1)[0]
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return ("jsonl", tuple(doc)) if isinstance(doc, dict) else None
    if container == "csv" and RATE_CARD_LINE.search(head):
        return "yaml", ("rate_card",)
    if b"\x00" in head[:4096]:
        return None
    cols = _csv_header(head.split(b"\n", 1)[0].decode("utf-8", "replace"))
    return (container, cols) if len(cols) >= 3 else None


def detect(path: Path) -> Detected | None:
    """The billing format of `path`, or None when it is not a billing file (e.g. OTLP)."""
    try:
        found = read_header(path)
    except OSError:
        return None
    if found is None:
        return None
    container, cols = found
    if container == "yaml":
        return Detected("rate-card", "yaml", cols)
    kind = classify(cols)
    if kind is None:
        return None
    if container == "jsonl" and kind[0] not in ("gcp-billing", "focus"):
        return None
    return Detected(kind[0], container, cols, kind[1])
