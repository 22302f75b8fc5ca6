"""The estate's rate card (docs/rate-cards.md): what its edge micro data centres and device fleets cost."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from sample_data.estate import GPUS, SITES, Site
from sample_data.vtrace import EgressKey

ORGANISATION = "Acme AI Platform"
# Hardware price per GPU of each edge GPU type (server share included), power per GPU in kW.
EDGE_CAPEX_PER_GPU = {"L4": 9_500.0, "L40S": 14_000.0, "ORIN": 2_400.0, "A100": 22_000.0}
EDGE_KW_PER_GPU = {"L4": 0.12, "L40S": 0.45, "ORIN": 0.06, "A100": 0.4}
SITE_FACTS: dict[str, dict[str, Any]] = {
    # kind: (space_usd_per_month, remote hands hours/month, p95 Mbps, price per kWh, PUE)
    "factory": {"space": 600.0, "hands": 6.0, "mbps": 300.0, "kwh": 0.16, "pue": 1.6},
    "hospital": {"space": 1_200.0, "hands": 4.0, "mbps": 200.0, "kwh": 0.19, "pue": 1.5},
    "retail": {"space": 150.0, "hands": 2.0, "mbps": 50.0, "kwh": 0.22, "pue": 1.8},
    "telco": {"space": 900.0, "hands": 4.0, "mbps": 500.0, "kwh": 0.14, "pue": 1.4},
    "cdn": {"space": 1_000.0, "hands": 3.0, "mbps": 2_000.0, "kwh": 0.15, "pue": 1.3},
}
SITE_WORKLOAD = {"factory-plant-1": "factory-vision", "hospital-central": "medical-summarizer",
                 "telco-metro-1": "callcentre-stt", "cdn-pop-fra": "public-chat", "cdn-pop-ams": "public-chat"}
# Device cost is the AI-attributable part: the NPU / memory premium of laptops, phones and vehicles (they are
# bought for other reasons), the whole kiosk (bought for the copilot). OTA carries model updates.
FLEETS: dict[str, dict[str, Any]] = {
    "laptops-eu": {"cost": 180.0, "months": 36, "ota": 1.5, "uplink": 0.3, "workload": None},
    "phones-eu": {"cost": 40.0, "months": 24, "ota": 0.4, "uplink": 0.2, "workload": None},
    "kiosks-retail": {"cost": 2_600.0, "months": 48, "ota": 2.0, "uplink": 0.5, "workload": "kiosk-copilot"},
    "vehicles-eu": {"cost": 120.0, "months": 60, "ota": 3.0, "uplink": 1.0, "workload": "private-assistant"},
}
DEVICE_USD_PER_GB = 0.05


def site_entry(site: Site, days: int, egress: dict[EgressKey, float]) -> dict[str, Any]:
    """One edge site: capex from its GPUs, power from their draw, space, remote hands and uplink."""
    facts = SITE_FACTS[site.kind]
    gpus = sum(h.gpu_count for h in site.hosts)
    gpu = site.hosts[0].gpu
    uploaded = sum(v for k, v in egress.items() if k[1] == site.site_id and k[4] == "tier_to_tier")
    entry: dict[str, Any] = {"site_id": site.site_id, "tier": "edge"}
    if site.site_id in SITE_WORKLOAD:
        entry["workload"] = SITE_WORKLOAD[site.site_id]
    entry |= {
        "hardware": {"capex_usd": EDGE_CAPEX_PER_GPU[gpu] * gpus + 6_000.0 * len(site.hosts), "amortization_months": 36,
                     "gpu_count": gpus, "gpu_type": GPUS[gpu].name},
        "power": {"draw_kw": round(EDGE_KW_PER_GPU[gpu] * gpus + 0.35 * len(site.hosts), 3), "pue": facts["pue"],
                  "price_per_kwh_usd": facts["kwh"]},
        "space_usd_per_month": facts["space"],
        "remote_hands": {"hours_per_month": facts["hands"], "rate_usd_per_hour": 150.0},
        "uplink": {"p95_mbps": facts["mbps"], "price_usd_per_mbps_month": 0.8,
                   "egress_gb_per_day": round(uploaded / 1e9 / days, 6), "price_usd_per_gb": 0.01,
                   "direction": "tier_to_tier"},
        "sla_availability": 0.995 if site.kind == "retail" else 0.999,
    }
    return entry


def fleet_entry(site: Site) -> dict[str, Any]:
    f = FLEETS[site.site_id]
    entry: dict[str, Any] = {"fleet_id": site.site_id, "tier": "device"}
    if f["workload"]:
        entry["workload"] = f["workload"]
    return entry | {"device_count": site.fleet_size, "device_cost_usd": f["cost"], "amortization_months": f["months"],
                    "ota_gb_per_device_month": f["ota"], "uplink_gb_per_device_month": f["uplink"],
                    "price_usd_per_gb": DEVICE_USD_PER_GB}


def rate_card(start: date, days: int, egress: dict[EgressKey, float]) -> dict[str, Any]:
    """The whole rate card document for the window [start, start + days)."""
    return {
        "rate_card": 1, "organisation": ORGANISATION, "billing_account_id": "acme-internal", "currency": "USD",
        "period": {"start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat()},
        "sites": [site_entry(s, days, egress) for s in SITES.values() if s.tier == "edge"],
        "fleets": [fleet_entry(s) for s in SITES.values() if s.tier == "device"],
    }


def write_rate_card(path: Path, start: date, days: int, egress: dict[EgressKey, float]) -> None:
    text = yaml.safe_dump(rate_card(start, days, egress), sort_keys=False, width=120)
    path.write_text("# Edge sites and device fleets of the generated estate (format: docs/rate-cards.md).\n" + text)
