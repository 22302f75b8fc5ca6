"""The FOCUS column sets the ledger holds: 1.2 verbatim, the 1.3 additions and tierwise's x_ columns."""

from __future__ import annotations

FOCUS_12: tuple[str, ...] = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)
FOCUS_13_ADDED: tuple[str, ...] = (
    "ServiceProviderName", "HostProviderName", "AllocatedMethodId", "AllocatedMethodDetails", "AllocatedResourceId",
    "AllocatedResourceName", "AllocatedTags", "ContractApplied",
)
X_COLUMNS: tuple[str, ...] = (
    "x_Tier", "x_SiteId", "x_DeviceId", "x_Workload", "x_CostComponent", "x_TransferDirection", "x_ToRegionId",
    "x_UsageType", "x_SourceFormat", "x_SourceFile", "x_SourceRow",
)
DECIMAL_COLUMNS: frozenset[str] = frozenset({
    "BilledCost", "CommitmentDiscountQuantity", "ConsumedQuantity", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "ListCost", "ListUnitPrice", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
})
DATETIME_COLUMNS: frozenset[str] = frozenset({
    "BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart",
})
JSON_COLUMNS: frozenset[str] = frozenset({
    "SkuPriceDetails", "Tags", "AllocatedMethodDetails", "AllocatedTags", "ContractApplied",
})
TRANSFER_DIRECTIONS: tuple[str, ...] = ("internet_out", "inter_region", "cross_zone", "intra_zone", "tier_to_tier", "in")

assert len(FOCUS_12) == 57
