"""Cloud bills matching the generated usage, in native formats: AWS CUR 2.0 CSV, Azure cost CSV, GCP billing JSON lines."""

from __future__ import annotations

import calendar
import csv
import uuid
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from sample_data.estate import GPUS, SITES, Host, Site
from sample_data.metrics import host_running, host_shape
from sample_data.ratecard import write_rate_card
from sample_data.vtrace import EgressKey

# The workload each cloud host mainly serves (its bill rows carry it as a tag; spans link the rest by resource id).
PRIMARY = {"ip-10-42-1-17.ec2.internal": "public-chat", "ip-10-42-2-17.ec2.internal": "public-chat",
           "ip-10-42-3-17.ec2.internal": "kiosk-copilot", "ip-10-42-4-17.ec2.internal": "doc-embedding-nightly",
           "ip-10-42-5-17.ec2.internal": "model-training", "vm-weu-a100-01": "private-assistant",
           "vm-weu-a100-02": "usage-rollup", "gke-ew4-l4-pool-7f3a": "factory-vision",
           "gke-ew4-l4-pool-9c1d": "factory-vision"}
EGRESS_USD_PER_GB = {"aws": 0.09, "azure": 0.087, "gcp": 0.12}  # GCP prices per GiB
STORAGE = {"aws": ("acme-training-data", 48_000.0, 0.023, "model-training"),
           "azure": ("stweuassistant", 5_000.0, 0.0184, "private-assistant"),
           "gcp": ("acme-features-ew4", 2_000.0, 0.020, "store-forecast")}
GB = 1e9
GIB = float(2**30)


def instance_rate_usd(host: Host) -> float:
    """On-demand price of one instance-hour: GPU-hours times the GPU's hourly price."""
    return round(host.gpu_count * GPUS[host.gpu].hourly_usd, 6)


def running_hours(host: Host, site: Site, day: int) -> int:
    """Hours of `day` the instance ran (always-on hosts 24; batch hosts only while their nightly job runs)."""
    shape = host_shape(site, host)
    return sum(1 for h in range(24) if host_running(host, shape, day * 24 + h))


def _month(d: date) -> tuple[date, date]:
    first = d.replace(day=1)
    return first, first + timedelta(days=calendar.monthrange(d.year, d.month)[1])


def _cloud_items(start: date, days: int, egress: dict[EgressKey, float], provider: str) -> Iterator[dict[str, Any]]:
    """Provider-neutral line items: compute, egress and storage per resource per day."""
    sites = [s for s in SITES.values() if s.provider == provider]
    bucket, gb, price, storage_wl = STORAGE[provider]
    for day in range(days):
        d = start + timedelta(days=day)
        for site in sites:
            for host in site.hosts:
                hours = running_hours(host, site, day)
                if hours:
                    rate = instance_rate_usd(host)
                    yield {"kind": "compute", "day": d, "site": site, "host": host, "qty": float(hours), "rate": rate,
                           "cost": round(hours * rate, 10), "workload": PRIMARY[host.name]}
        for (eday, site_id, rid, workload, _), nbytes in sorted(egress.items()):
            if eday != day or SITES[site_id].provider != provider:
                continue
            site = SITES[site_id]
            host = next(h for h in site.hosts if h.resource_id == rid)
            qty = nbytes / (GIB if provider == "gcp" else GB)
            yield {"kind": "egress", "day": d, "site": site, "host": host, "qty": round(qty, 9),
                   "rate": EGRESS_USD_PER_GB[provider], "cost": round(round(qty, 9) * EGRESS_USD_PER_GB[provider], 10),
                   "workload": workload, "bytes": nbytes}
        month_days = calendar.monthrange(d.year, d.month)[1]
        qty = round(gb / month_days, 9)
        yield {"kind": "storage", "day": d, "site": sites[0], "bucket": bucket, "qty": qty, "rate": price,
               "cost": round(qty * price, 10), "workload": storage_wl}


CUR2_COLUMNS = (
    "identity_line_item_id", "identity_time_interval", "bill_invoice_id", "bill_invoicing_entity", "bill_bill_type",
    "bill_payer_account_id", "bill_payer_account_name", "bill_billing_period_start_date", "bill_billing_period_end_date",
    "line_item_usage_account_id", "line_item_usage_account_name", "line_item_line_item_type",
    "line_item_usage_start_date", "line_item_usage_end_date", "line_item_product_code", "line_item_usage_type",
    "line_item_operation", "line_item_availability_zone", "line_item_resource_id", "line_item_usage_amount",
    "line_item_currency_code", "line_item_unblended_rate", "line_item_unblended_cost", "line_item_blended_rate",
    "line_item_blended_cost", "line_item_line_item_description", "line_item_legal_entity", "product",
    "product_instance_type", "product_location", "product_product_family", "product_region_code",
    "product_servicecode", "product_sku", "product_usagetype", "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate", "pricing_term", "pricing_unit", "resource_tags",
)


def _cur_row(n: int, it: dict[str, Any]) -> dict[str, Any]:
    d: date = it["day"]
    m0, m1 = _month(d)
    kind = it["kind"]
    code, family, unit = {"compute": ("AmazonEC2", "Compute Instance", "Hrs"),
                          "egress": ("AmazonEC2", "Data Transfer", "GB"),
                          "storage": ("AmazonS3", "Storage", "GB-Mo")}[kind]
    itype = it["host"].instance_type if kind == "compute" else ""
    usage_type = {"compute": f"BoxUsage:{itype}", "egress": "DataTransfer-Out-Bytes",
                  "storage": "TimedStorage-ByteHrs"}[kind]
    desc = {"compute": f"${it['rate']} per On Demand Linux {itype} Instance Hour",
            "egress": f"${it['rate']} per GB - first 10 TB / month data transfer out beyond the global free tier",
            "storage": f"${it['rate']} per GB - first 50 TB / month of storage used"}[kind]
    rid = it["bucket"] if kind == "storage" else it["host"].resource_id
    product = {"product_name": "Amazon Simple Storage Service" if kind == "storage" else "Amazon Elastic Compute Cloud",
               "region": "us-east-1"}
    if kind == "egress":
        product.update(transfer_type="AWS Outbound", to_location="External")
    return {
        "identity_line_item_id": f"{n:012x}", "identity_time_interval": f"{d}T00:00:00Z/{d + timedelta(days=1)}T00:00:00Z",
        "bill_invoice_id": f"EUINUS26-{m0:%Y%m}", "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_bill_type": "Anniversary", "bill_payer_account_id": "111122223333", "bill_payer_account_name": "acme-payer",
        "bill_billing_period_start_date": f"{m0}T00:00:00Z", "bill_billing_period_end_date": f"{m1}T00:00:00Z",
        "line_item_usage_account_id": "444455556666", "line_item_usage_account_name": "acme-ai-prod",
        "line_item_line_item_type": "Usage", "line_item_usage_start_date": f"{d}T00:00:00Z",
        "line_item_usage_end_date": f"{d + timedelta(days=1)}T00:00:00Z", "line_item_product_code": code,
        "line_item_usage_type": usage_type, "line_item_operation": "RunInstances" if kind == "compute" else "",
        "line_item_availability_zone": "us-east-1a" if kind == "compute" else "", "line_item_resource_id": rid,
        "line_item_usage_amount": it["qty"], "line_item_currency_code": "USD", "line_item_unblended_rate": it["rate"],
        "line_item_unblended_cost": it["cost"], "line_item_blended_rate": it["rate"], "line_item_blended_cost": it["cost"],
        "line_item_line_item_description": desc, "line_item_legal_entity": "Amazon Web Services, Inc.",
        "product": orjson.dumps(product).decode(), "product_instance_type": itype,
        "product_location": "US East (N. Virginia)", "product_product_family": family, "product_region_code": "us-east-1",
        "product_servicecode": code, "product_sku": f"{zlib.crc32(usage_type.encode()):08X}",
        "product_usagetype": usage_type, "pricing_public_on_demand_cost": it["cost"],
        "pricing_public_on_demand_rate": it["rate"], "pricing_term": "OnDemand", "pricing_unit": unit,
        "resource_tags": orjson.dumps({"user_workload": it["workload"], "user_tierwise_tier": "hyperscale"}).decode(),
    }


AZURE_COLUMNS = (
    "BillingAccountId", "BillingAccountName", "BillingPeriodStartDate", "BillingPeriodEndDate", "BillingProfileId",
    "BillingProfileName", "SubscriptionId", "SubscriptionName", "Date", "Product", "MeterId", "MeterCategory",
    "MeterSubCategory", "MeterName", "MeterRegion", "Quantity", "UnitOfMeasure", "EffectivePrice", "UnitPrice",
    "PayGPrice", "CostInBillingCurrency", "PayGCostInBillingCurrency", "BillingCurrencyCode", "ConsumedService",
    "ResourceId", "ResourceName", "ResourceGroup", "ResourceLocation", "Tags", "ChargeType", "PublisherType",
    "PublisherName", "PricingModel", "Frequency", "InvoiceId",
)


def _azure_row(it: dict[str, Any]) -> dict[str, Any]:
    d: date = it["day"]
    m0, m1 = _month(d)
    kind = it["kind"]
    cat, sub, meter, uom, svc = {
        "compute": ("Virtual Machines", "NCads A100 v4 Series", "NC24ads A100 v4", "1 Hour", "Microsoft.Compute"),
        "egress": ("Bandwidth", "Rtn Preference: MGN", "Standard Data Transfer Out", "1 GB", "Microsoft.Compute"),
        "storage": ("Storage", "Blob Storage", "Hot LRS Data Stored", "1 GB/Month", "Microsoft.Storage")}[kind]
    if kind == "storage":
        rid = ("/subscriptions/6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab/resourceGroups/rg-ai-weu/providers/"
               f"Microsoft.Storage/storageAccounts/{it['bucket']}")
    else:
        rid = it["host"].resource_id
    return {
        "BillingAccountId": "80123456", "BillingAccountName": "Acme AI Platform", "BillingPeriodStartDate": f"{m0:%m/%d/%Y}",
        "BillingPeriodEndDate": f"{m1 - timedelta(days=1):%m/%d/%Y}", "BillingProfileId": "80123456",
        "BillingProfileName": "Acme AI Platform", "SubscriptionId": "6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab",
        "SubscriptionName": "acme-ai-weu", "Date": f"{d:%m/%d/%Y}", "Product": f"{cat} {meter} - EU West",
        "MeterId": str(uuid.UUID(int=zlib.crc32(meter.encode()))), "MeterCategory": cat, "MeterSubCategory": sub,
        "MeterName": meter, "MeterRegion": "EU West", "Quantity": it["qty"], "UnitOfMeasure": uom,
        "EffectivePrice": it["rate"], "UnitPrice": it["rate"], "PayGPrice": it["rate"],
        "CostInBillingCurrency": it["cost"], "PayGCostInBillingCurrency": it["cost"], "BillingCurrencyCode": "USD",
        "ConsumedService": svc, "ResourceId": rid, "ResourceName": rid.rsplit("/", 1)[-1], "ResourceGroup": "rg-ai-weu",
        "ResourceLocation": "westeurope", "Tags": f'"workload": "{it["workload"]}","tierwise_tier": "regional"',
        "ChargeType": "Usage", "PublisherType": "Azure", "PublisherName": "Microsoft", "PricingModel": "OnDemand",
        "Frequency": "UsageBased", "InvoiceId": f"G{m0:%Y%m}0001",
    }


def _gcp_row(it: dict[str, Any]) -> dict[str, Any]:
    d: date = it["day"]
    kind = it["kind"]
    if kind == "compute":
        host = it["host"]
        sku, svc = (f"Nvidia L4 GPU and G2 Instance ({host.instance_type}) running in Netherlands", "Compute Engine")
        usage = {"amount": it["qty"] * 3600, "unit": "seconds", "amount_in_pricing_units": it["qty"], "pricing_unit": "hour"}
        resource = {"name": host.name, "global_name": host.resource_id}
    elif kind == "egress":
        sku, svc = ("Network Internet Egress from Netherlands to Europe", "Compute Engine")
        usage = {"amount": it["bytes"], "unit": "bytes", "amount_in_pricing_units": it["qty"], "pricing_unit": "gibibyte"}
        resource = {"name": it["host"].name, "global_name": it["host"].resource_id}
    else:
        sku, svc = ("Standard Storage Netherlands", "Cloud Storage")
        usage = {"amount": it["qty"] * GIB * 86400 * 30, "unit": "byte-seconds", "amount_in_pricing_units": it["qty"],
                 "pricing_unit": "gibibyte month"}
        resource = {"name": it["bucket"], "global_name": f"//storage.googleapis.com/projects/_/buckets/{it['bucket']}"}
    return {
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9", "service": {"id": "6F81-5844-456A", "description": svc},
        "sku": {"id": f"{zlib.crc32(sku.encode()):08X}", "description": sku},
        "usage_start_time": f"{d}T00:00:00Z", "usage_end_time": f"{d + timedelta(days=1)}T00:00:00Z",
        "project": {"id": "acme-ai", "name": "acme-ai", "number": "123456789012"},
        "labels": [{"key": "workload", "value": it["workload"]}, {"key": "tierwise_tier", "value": "regional"}],
        "location": {"location": "europe-west4", "country": "NL", "region": "europe-west4",
                     "zone": "europe-west4-a" if kind != "storage" else None},
        "resource": resource, "cost": it["cost"], "currency": "USD", "currency_conversion_rate": 1.0,
        "usage": usage, "credits": [], "invoice": {"month": f"{d:%Y%m}"}, "cost_type": "regular",
        "cost_at_list": it["cost"],
    }


def write_bills(out: Path, start: date, days: int, egress: dict[EgressKey, float]) -> list[str]:
    """Write the three cloud exports and the edge/device rate card; return their paths relative to out's parent."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "aws-cur2.csv", "w", newline="") as f:
        w = csv.DictWriter(f, CUR2_COLUMNS, lineterminator="\n")
        w.writeheader()
        for n, it in enumerate(_cloud_items(start, days, egress, "aws"), 1):
            w.writerow(_cur_row(n, it))
    with open(out / "azure-cost-actual.csv", "w", newline="") as f:
        w = csv.DictWriter(f, AZURE_COLUMNS, lineterminator="\n")
        w.writeheader()
        for it in _cloud_items(start, days, egress, "azure"):
            w.writerow(_azure_row(it))
    with open(out / "gcp-billing.jsonl", "wb") as g:
        for it in _cloud_items(start, days, egress, "gcp"):
            g.write(orjson.dumps(_gcp_row(it)) + b"\n")
    write_rate_card(out / "rate-card.yaml", start, days, egress)
    return [f"bills/{n}" for n in ("aws-cur2.csv", "azure-cost-actual.csv", "gcp-billing.jsonl", "rate-card.yaml")]
