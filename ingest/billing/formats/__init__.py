"""Registry of native billing formats: required columns, the columns each mapping reads, and its SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ingest.billing.columns import FOCUS_12, FOCUS_13_ADDED, X_COLUMNS


@dataclass(frozen=True)
class BillingFormat:
    """One native export shape and how its columns become ledger columns."""

    name: str
    required: tuple[str, ...]          # a file without one of these is rejected as a whole
    tag_prefix: str = ""               # one-column-per-tag headers (`resourceTags/`, `tags/`)
    tag_strip: tuple[str, ...] = ()    # prefixes dropped from tag keys (`user:`)

    @property
    def sql(self) -> str:
        return _sql(self.name)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every native column the mapping refers to (absent optional ones read as NULL)."""
        return _reads(self.name)


@cache
def _sql(name: str) -> str:
    return resources.files("ingest.billing.formats").joinpath(f"{name}.sql").read_text("utf-8")


AZURE_COLUMNS = (
    "costinbillingcurrency", "cost", "pricingmodel", "chargetype", "paygcostinbillingcurrency", "paygprice", "quantity",
    "unitprice", "frequency", "productname", "product", "date", "billingperiodstartdate", "billingperiodenddate",
    "billingprofileid", "billingaccountid", "billingprofilename", "billingaccountname", "billingcurrencycode",
    "billingcurrency", "invoiceid", "publishername", "subscriptionid", "subscriptionname", "metercategory",
    "consumedservice", "resourcelocation", "meterregion", "availabilityzone", "resourceid", "resourcename",
    "productid", "partnumber", "metername", "meterid", "unitofmeasure", "benefitid", "reservationid", "benefitname",
    "reservationname", "tags", "metersubcategory", "servicefamily",
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
    BillingFormat("azure-cost", ("chargetype", "date", "metercategory", "billingperiodstartdate")),
    BillingFormat("gcp-billing", ("billing_account_id", "cost", "cost_type", "usage_start_time", "invoice", "currency")),
    BillingFormat("oci-cost", ("cost/myCost", "lineItem/intervalUsageStart", "cost/currencyCode"),
                  tag_prefix="tags/"),
)}
