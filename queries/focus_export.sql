-- The costs ledger as a FOCUS 1.2 Cost and Usage dataset: one row per ledger row, all 57 FOCUS 1.2 columns
-- plus tierwise's x_ columns; date-times ISO-8601 UTC, money in BillingCurrency. Parameters: none.
-- Conformance fills (ledger keeps source values; see docs/billing.md): units to UnitFormat, one ServiceCategory per
-- ServiceName (the most frequent), ServiceSubcategory `Other (<category>)` when absent, List/ContractedCost
-- falling back to each other then BilledCost, and InvoiceIssuerName = ProviderName when it is that provider's own
-- legal entity (e.g. AWS / "Amazon Web Services, Inc.").
WITH categories AS (
    SELECT ServiceName, first(ServiceCategory ORDER BY n DESC, ServiceCategory) AS category
    FROM (SELECT ServiceName, ServiceCategory, count(*) AS n FROM costs GROUP BY ALL)
    GROUP BY ServiceName
),
own_entities(provider, issuer_prefix) AS (
    VALUES ('AWS', 'Amazon Web Services'), ('Microsoft', 'Microsoft'), ('Google Cloud', 'Google'), ('Oracle', 'Oracle')
),
units(raw, unit) AS (
    VALUES ('GB-Mo', 'GB-Months'), ('GB Months', 'GB-Months'), ('GB Hours', 'GB-Hours'), ('Obj-Month', 'Objects-Months'),
           ('10K', '10000 Units'), ('1K', '1000 Units'), ('1/Month', 'Units/Month'), ('1/Day', 'Units/Day'),
           ('1 GB/Month', 'GB-Months'), ('GiB/Second-Months', 'GiB per Second-Months'),
           ('Lambda-GB-Seconds', 'Lambda GB-Seconds'), ('1 Hour', 'Hours'), ('1 GB', 'GB')
)
SELECT
    c.AvailabilityZone, c.BilledCost, c.BillingAccountId, c.BillingAccountName, c.BillingAccountType, c.BillingCurrency,
    strftime(c.BillingPeriodEnd, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodEnd,
    strftime(c.BillingPeriodStart, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodStart,
    c.CapacityReservationId, c.CapacityReservationStatus, c.ChargeCategory, c.ChargeClass, c.ChargeDescription,
    c.ChargeFrequency,
    strftime(c.ChargePeriodEnd, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
    strftime(c.ChargePeriodStart, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
    c.CommitmentDiscountCategory, c.CommitmentDiscountId, c.CommitmentDiscountName, c.CommitmentDiscountQuantity,
    c.CommitmentDiscountStatus, c.CommitmentDiscountType, c.CommitmentDiscountUnit, c.ConsumedQuantity,
    coalesce(cu.unit, c.ConsumedUnit) AS ConsumedUnit,
    coalesce(c.ContractedCost, c.ListCost, c.BilledCost) AS ContractedCost,
    c.ContractedUnitPrice, c.EffectiveCost, c.InvoiceId,
    CASE WHEN starts_with(c.InvoiceIssuerName, o.issuer_prefix) THEN c.ProviderName ELSE c.InvoiceIssuerName END
        AS InvoiceIssuerName,
    coalesce(c.ListCost, c.ContractedCost, c.BilledCost) AS ListCost,
    c.ListUnitPrice, c.PricingCategory, c.PricingCurrency, c.PricingCurrencyContractedUnitPrice,
    c.PricingCurrencyEffectiveCost, c.PricingCurrencyListUnitPrice, c.PricingQuantity,
    coalesce(pu.unit, c.PricingUnit) AS PricingUnit,
    c.ProviderName, c.PublisherName, c.RegionId, c.RegionName, c.ResourceId, c.ResourceName, c.ResourceType,
    coalesce(k.category, c.ServiceCategory, 'Other') AS ServiceCategory,
    c.ServiceName,
    coalesce(c.ServiceSubcategory, CASE WHEN coalesce(k.category, c.ServiceCategory, 'Other') = 'Other' THEN 'Other'
             ELSE 'Other (' || coalesce(k.category, c.ServiceCategory) || ')' END) AS ServiceSubcategory,
    c.SkuId, c.SkuMeter, c.SkuPriceDetails::VARCHAR AS SkuPriceDetails, c.SkuPriceId, c.SubAccountId, c.SubAccountName,
    c.SubAccountType, c.Tags::VARCHAR AS Tags,
    c.x_Tier, c.x_SiteId, c.x_DeviceId, c.x_Workload, c.x_CostComponent, c.x_TransferDirection, c.x_ToRegionId,
    c.x_UsageType, c.x_SourceFormat, c.x_SourceFile, c.x_SourceRow
FROM costs c
LEFT JOIN categories k ON k.ServiceName = c.ServiceName
LEFT JOIN own_entities o ON o.provider = c.ProviderName
LEFT JOIN units pu ON pu.raw = c.PricingUnit
LEFT JOIN units cu ON cu.raw = c.ConsumedUnit
ORDER BY c.x_SourceFile, c.x_SourceRow
