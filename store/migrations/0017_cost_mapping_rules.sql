-- 0017: mapping rules' results beside the ledger rows they map ([[cost_map]] in tierwise.toml, `tierwise map apply`).
-- The x_Map* columns hold what the first matching rule set (NULL: no rule matched, or it left that field alone) and
-- `costs` shows them over the values the bill itself gave, so removing a rule and applying again restores the bill's.
-- Same columns, types and order as before. Append-only: never edit once merged.
ALTER TABLE costs_wide ADD COLUMN x_MapRule VARCHAR;
ALTER TABLE costs_wide ADD COLUMN x_MapWorkload VARCHAR;
ALTER TABLE costs_wide ADD COLUMN x_MapTier VARCHAR;
ALTER TABLE costs_wide ADD COLUMN x_MapSiteId VARCHAR;
ALTER TABLE costs_narrow ADD COLUMN x_MapRule VARCHAR;
ALTER TABLE costs_narrow ADD COLUMN x_MapWorkload VARCHAR;
ALTER TABLE costs_narrow ADD COLUMN x_MapTier VARCHAR;
ALTER TABLE costs_narrow ADD COLUMN x_MapSiteId VARCHAR;

CREATE OR REPLACE VIEW costs AS
SELECT
    w.AvailabilityZone, w.BilledCost, w.BillingAccountId, w.BillingAccountName, w.BillingAccountType,
    w.BillingCurrency, w.BillingPeriodEnd, w.BillingPeriodStart, w.CapacityReservationId,
    w.CapacityReservationStatus, w.ChargeCategory, w.ChargeClass, w.ChargeDescription, w.ChargeFrequency,
    w.ChargePeriodEnd, w.ChargePeriodStart, w.CommitmentDiscountCategory, w.CommitmentDiscountId,
    w.CommitmentDiscountName, w.CommitmentDiscountQuantity, w.CommitmentDiscountStatus, w.CommitmentDiscountType,
    w.CommitmentDiscountUnit, w.ConsumedQuantity, w.ConsumedUnit, w.ContractedCost, w.ContractedUnitPrice,
    w.EffectiveCost, w.InvoiceId, w.InvoiceIssuerName, w.ListCost, w.ListUnitPrice, w.PricingCategory,
    w.PricingCurrency, w.PricingCurrencyContractedUnitPrice, w.PricingCurrencyEffectiveCost,
    w.PricingCurrencyListUnitPrice, w.PricingQuantity, w.PricingUnit, w.ProviderName, w.PublisherName, w.RegionId,
    w.RegionName, w.ResourceId, w.ResourceName, w.ResourceType, w.ServiceCategory, w.ServiceName,
    w.ServiceSubcategory, w.SkuId, w.SkuMeter, w.SkuPriceDetails, w.SkuPriceId, w.SubAccountId, w.SubAccountName,
    w.SubAccountType, w.Tags, w.ServiceProviderName, w.HostProviderName, w.AllocatedMethodId,
    w.AllocatedMethodDetails, w.AllocatedResourceId, w.AllocatedResourceName, w.AllocatedTags, w.ContractApplied,
    coalesce(w.x_MapTier, w.x_Tier) AS x_Tier, coalesce(w.x_MapSiteId, w.x_SiteId) AS x_SiteId, w.x_DeviceId,
    coalesce(w.x_MapWorkload, w.x_Workload) AS x_Workload, w.x_CostComponent, w.x_TransferDirection, w.x_ToRegionId,
    w.x_UsageType, w.x_SourceFormat, w.x_SourceFile, w.x_SourceRow, w.batch_key
FROM costs_wide w
UNION ALL
SELECT
    n.AvailabilityZone, n.BilledCost, f.BillingAccountId, f.BillingAccountName, f.BillingAccountType,
    f.BillingCurrency, f.BillingPeriodEnd, f.BillingPeriodStart, f.CapacityReservationId,
    f.CapacityReservationStatus, n.ChargeCategory, f.ChargeClass, n.ChargeDescription, n.ChargeFrequency,
    n.ChargePeriodEnd, n.ChargePeriodStart, n.CommitmentDiscountCategory, n.CommitmentDiscountId,
    n.CommitmentDiscountName, f.CommitmentDiscountQuantity, n.CommitmentDiscountStatus, n.CommitmentDiscountType,
    f.CommitmentDiscountUnit, n.ConsumedQuantity, n.ConsumedUnit, n.ContractedCost, n.ContractedUnitPrice,
    n.EffectiveCost, n.InvoiceId, f.InvoiceIssuerName, n.ListCost, n.ListUnitPrice, n.PricingCategory,
    f.PricingCurrency, f.PricingCurrencyContractedUnitPrice, f.PricingCurrencyEffectiveCost,
    f.PricingCurrencyListUnitPrice, n.PricingQuantity, n.PricingUnit, f.ProviderName, f.PublisherName, n.RegionId,
    n.RegionName, n.ResourceId, n.ResourceName, f.ResourceType, n.ServiceCategory, n.ServiceName,
    f.ServiceSubcategory, n.SkuId, n.SkuMeter, f.SkuPriceDetails, n.SkuPriceId, n.SubAccountId, n.SubAccountName,
    f.SubAccountType, n.Tags, f.ServiceProviderName, f.HostProviderName, f.AllocatedMethodId,
    f.AllocatedMethodDetails, f.AllocatedResourceId, f.AllocatedResourceName, f.AllocatedTags, f.ContractApplied,
    coalesce(n.x_MapTier, n.x_Tier) AS x_Tier, coalesce(n.x_MapSiteId, f.x_SiteId) AS x_SiteId, f.x_DeviceId,
    coalesce(n.x_MapWorkload, n.x_Workload) AS x_Workload, f.x_CostComponent, n.x_TransferDirection, n.x_ToRegionId,
    n.x_UsageType, f.x_SourceFormat, f.x_SourceFile, n.x_SourceRow, f.batch_key
FROM costs_narrow n
JOIN costs_files f ON f.cost_file = n.cost_file;
