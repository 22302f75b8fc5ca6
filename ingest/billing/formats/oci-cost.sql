-- Oracle Cloud cost report CSV → ledger. BilledCost = EffectiveCost = cost/myCost (what the tenancy is charged;
-- focus_converters' cost/myCostOverage is empty on most rows); billing period = calendar month of usage.
SELECT
    __row AS x_SourceRow,
    tw_num("cost/myCost") AS BilledCost,
    tw_num("cost/myCost") AS EffectiveCost,
    tw_num("cost/myCost") AS ContractedCost,
    tw_num("cost/unitPrice") AS ContractedUnitPrice,
    CASE WHEN "cost/myCost" IS NOT NULL THEN 'Usage' END AS ChargeCategory,
    CASE WHEN lower("lineItem/isCorrection") = 'true' THEN 'Correction' END AS ChargeClass,
    'Usage-Based' AS ChargeFrequency,
    "product/Description" AS ChargeDescription,
    tw_ts("lineItem/intervalUsageStart") AS ChargePeriodStart,
    tw_ts("lineItem/intervalUsageEnd") AS ChargePeriodEnd,
    tw_month_start(tw_ts("lineItem/intervalUsageStart")) AS BillingPeriodStart,
    tw_month_end(tw_ts("lineItem/intervalUsageStart")) AS BillingPeriodEnd,
    "lineItem/tenantId" AS BillingAccountId,
    upper("cost/currencyCode") AS BillingCurrency,
    'Oracle' AS InvoiceIssuerName,
    'Oracle' AS ProviderName,
    'Oracle' AS PublisherName,
    "product/compartmentId" AS SubAccountId,
    "product/compartmentName" AS SubAccountName,
    "product/service" AS ServiceName,
    CASE "product/service" WHEN 'COMPUTE' THEN 'Compute' WHEN 'DATABASE' THEN 'Databases' WHEN 'NETWORK' THEN 'Networking'
        WHEN 'BLOCK_STORAGE' THEN 'Storage' WHEN 'OBJECT_STORAGE' THEN 'Storage' WHEN 'TELEMETRY' THEN 'Management and Governance'
        ELSE 'Other' END AS ServiceCategory,
    "product/region" AS RegionId,
    "product/availabilityDomain" AS AvailabilityZone,
    "product/resourceId" AS ResourceId,
    "cost/productSku" AS SkuId,
    tw_num("usage/billedQuantity") AS ConsumedQuantity,
    "cost/skuUnitDescription" AS ConsumedUnit,
    tw_num("usage/billedQuantity") AS PricingQuantity,
    "cost/skuUnitDescription" AS PricingUnit,
    __tags_json AS Tags,
    NULL::VARCHAR AS x_Tier, NULL::VARCHAR AS x_SiteId, NULL::VARCHAR AS x_Workload,
    NULL::VARCHAR AS x_TransferDirection, 'cloud' AS x_CostComponent, NULL::VARCHAR AS x_ToRegionId,
    "product/Description" AS x_UsageType,
    tw_num("cost/myCost") AS __source_billed,
    CASE WHEN regexp_matches(lower("product/Description"), 'data transfer|egress|outbound')
         THEN lower("product/Description") END AS __xfer_text,
    concat_ws(',', "cost/myCost", "lineItem/intervalUsageStart") AS __excerpt
FROM tw_billing_src
