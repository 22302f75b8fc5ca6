"""Registry of native billing formats: required columns, the columns each mapping reads, and its SQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from ingest.billing.columns import FOCUS_12, FOCUS_13_ADDED, X_COLUMNS


@dataclass(frozen=True)
class BillingFormat:
    """One native export shape and how its columns become ledger columns."""

    name: str
    required: tuple[str, ...]          # a file without one of these is rejected as a whole
    tag_prefix: str = ""               # one-column-per-tag headers (`resourceTags/`, `tags/`)
    tag_strip: tuple[str, ...] = ()    # prefixes dropped from tag keys (`user:`)
    day_order: str = ""                # mdy | dmy: the order of day and month the format documents for slash dates

    @property
    def sql(self) -> str:
        return _sql(self.name)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every native column the mapping refers to (absent optional ones read as NULL)."""
        return _reads(self.name)

    @property
    def dates(self) -> Mapping[str, str]:
        """Ledger date-time column → the native column its mapping reads it from (through `tw_ts`)."""
        return _dates(self.name)


@cache
def _sql(name: str) -> str:
    return resources.files("ingest.billing.formats").joinpath(f"{name}.sql").read_text("utf-8")


@cache
def _dates(name: str) -> Mapping[str, str]:
    found = (re.search(r'tw_ts\(("?)([^")]+)\1\).*\bAS (\w+)', line) for line in _sql(name).splitlines())
    return MappingProxyType({m[3]: m[2] for m in found if m})


AZURE_COLUMNS = (
    "costinbillingcurrency", "cost", "pricingmodel", "chargetype", "paygcostinbillingcurrency", "paygprice", "quantity",
    "unitprice", "frequency", "productname", "product", "date", "billingperiodstartdate", "billingperiodenddate",
    "billingprofileid", "billingaccountid", "billingprofilename", "billingaccountname", "billingcurrencycode",
    "billingcurrency", "invoiceid", "publishername", "subscriptionid", "subscriptionname", "metercategory",
    "consumedservice", "resourcelocation", "meterregion", "availabilityzone", "resourceid", "resourcename",
    "productid", "partnumber", "metername", "meterid", "unitofmeasure", "benefitid", "reservationid", "benefitname",
    "reservationname", "tags", "metersubcategory", "servicefamily",
)
AZURE_LEGACY_COLUMNS = (  # pay-as-you-go usage details, schema 2019-11-01
    "subscriptionguid", "resourcegroup", "resourcelocation", "usagedatetime", "metercategory", "metersubcategory",
    "meterid", "metername", "meterregion", "usagequantity", "resourcerate", "pretaxcost", "consumedservice",
    "resourcetype", "instanceid", "tags", "servicename", "currency", "unitofmeasure",
)
GCP_COLUMNS = (
    "billing_account_id", "service", "sku", "usage_start_time", "usage_end_time", "project", "labels", "location",
    "cost", "currency", "usage", "credits", "invoice", "cost_type", "cost_at_list", "resource", "seller_name",
)
CUR2_PATTERN = re.compile(r"\b(?:line_item|bill|pricing|product|reservation|savings_plan)_[a-z0-9_]+\b")


@cache
def _reads(name: str) -> tuple[str, ...]:
    sql = _sql(name)
    if name == "focus":
        return (*FOCUS_12, *FOCUS_13_ADDED, *X_COLUMNS, "x_SkuMeterCategory")
    if name == "azure-cost":
        return AZURE_COLUMNS
    if name == "azure-usage-legacy":
        return AZURE_LEGACY_COLUMNS
    if name == "gcp-billing":
        return GCP_COLUMNS
    if name == "aws-cur2":
        return tuple(dict.fromkeys([*CUR2_PATTERN.findall(sql), "product", "resource_tags"]))
    return tuple(dict.fromkeys(m for m in re.findall(r'"([^"]+)"', sql) if "/" in m))


FORMATS: dict[str, BillingFormat] = {f.name: f for f in (
    BillingFormat("focus", ("BilledCost", "EffectiveCost", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
                            "BillingPeriodStart", "BillingCurrency")),
    BillingFormat("aws-cur-legacy", ("lineItem/UnblendedCost", "lineItem/LineItemType", "lineItem/UsageStartDate",
                                     "bill/BillingPeriodStartDate", "lineItem/CurrencyCode"),
                  tag_prefix="resourceTags/", tag_strip=("user:",)),
    BillingFormat("aws-cur2", ("line_item_unblended_cost", "line_item_line_item_type", "line_item_usage_start_date",
                               "bill_billing_period_start_date", "line_item_currency_code")),
    BillingFormat("azure-cost", ("ChargeType", "Date", "MeterCategory", "BillingPeriodStartDate"), day_order="mdy"),
    BillingFormat("azure-usage-legacy", ("PreTaxCost", "UsageDateTime", "MeterCategory", "Currency"), day_order="mdy"),
    BillingFormat("gcp-billing", ("billing_account_id", "cost", "cost_type", "usage_start_time", "invoice", "currency")),
    BillingFormat("oci-cost", ("cost/myCost", "lineItem/intervalUsageStart", "cost/currencyCode"),
                  tag_prefix="tags/"),
)}
