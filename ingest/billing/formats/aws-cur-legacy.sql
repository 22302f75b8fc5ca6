-- AWS legacy CUR (slash-style columns) → ledger, following focus_converters' aws-cur.csv mapping:
-- BilledCost = net unblended (else unblended); EffectiveCost amortizes RI / Savings Plan line items.
WITH t AS (
    SELECT s.*, "lineItem/LineItemType" AS li_type,
           coalesce(tw_num("lineItem/NetUnblendedCost"), tw_num("lineItem/UnblendedCost")) AS billed
    FROM tw_billing_src s
)
SELECT
    __row AS x_SourceRow,
    billed AS BilledCost,
    CASE li_type
        WHEN 'SavingsPlanCoveredUsage' THEN tw_num("savingsPlan/SavingsPlanEffectiveCost")
        WHEN 'SavingsPlanRecurringFee' THEN tw_num("savingsPlan/TotalCommitmentToDate") - tw_num("savingsPlan/UsedCommitment")
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'DiscountedUsage' THEN tw_num("reservation/EffectiveCost")
        WHEN 'RIFee' THEN coalesce(tw_num("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"), 0)
                          + coalesce(tw_num("reservation/UnusedRecurringFee"), 0)
        ELSE billed END AS EffectiveCost,
    tw_num("pricing/publicOnDemandCost") AS ListCost,
    tw_num("pricing/publicOnDemandRate") AS ListUnitPrice,
    tw_num("lineItem/UnblendedCost") AS ContractedCost,
    tw_num("lineItem/UnblendedRate") AS ContractedUnitPrice,
    CASE WHEN li_type = 'Tax' THEN 'Tax'
         WHEN li_type IN ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') THEN 'Purchase'
         WHEN li_type IN ('Credit', 'Refund') THEN 'Credit'
         WHEN li_type IS NOT NULL THEN 'Usage' END AS ChargeCategory,
    CASE WHEN li_type = 'Refund' THEN 'Correction' END AS ChargeClass,
    CASE WHEN li_type IN ('Fee', 'SavingsPlanUpfrontFee') OR "bill/BillType" IN ('Purchase', 'Refund') THEN 'One-Time'
         WHEN li_type IN ('RIFee', 'SavingsPlanRecurringFee', 'Tax') THEN 'Recurring'
         ELSE 'Usage-Based' END AS ChargeFrequency,
    "lineItem/LineItemDescription" AS ChargeDescription,
    tw_ts("lineItem/UsageStartDate") AS ChargePeriodStart,
    tw_ts("lineItem/UsageEndDate") AS ChargePeriodEnd,
    tw_ts("bill/BillingPeriodStartDate") AS BillingPeriodStart,
    tw_ts("bill/BillingPeriodEndDate") AS BillingPeriodEnd,
    "bill/PayerAccountId" AS BillingAccountId,
    "bill/PayerAccountName" AS BillingAccountName,
    upper("lineItem/CurrencyCode") AS BillingCurrency,
    "bill/InvoiceId" AS InvoiceId,
    coalesce("bill/InvoicingEntity", 'Amazon Web Services, Inc.') AS InvoiceIssuerName,
    'AWS' AS ProviderName,
    coalesce("lineItem/LegalEntity", 'Amazon Web Services, Inc.') AS PublisherName,
    "lineItem/UsageAccountId" AS SubAccountId,
    "lineItem/UsageAccountName" AS SubAccountName,
    coalesce("product/ProductName", "lineItem/ProductCode") AS ServiceName,
    coalesce((SELECT lookup_map FROM tw_aws_category)["lineItem/ProductCode"], 'Other')
        AS ServiceCategory,
    coalesce("product/regionCode", "product/region") AS RegionId,
    "product/location" AS RegionName,
    "lineItem/AvailabilityZone" AS AvailabilityZone,
    "lineItem/ResourceId" AS ResourceId,
    "product/sku" AS SkuId,
    coalesce("pricing/RateCode", "pricing/RateId") AS SkuPriceId,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN tw_num("lineItem/UsageAmount") END AS ConsumedQuantity,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN "pricing/unit" END AS ConsumedUnit,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN tw_num("lineItem/UsageAmount") END AS PricingQuantity,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN "pricing/unit" END AS PricingUnit,
    CASE "pricing/term" WHEN 'OnDemand' THEN 'Standard' WHEN 'Reserved' THEN 'Committed' WHEN 'Spot' THEN 'Dynamic' END
        AS PricingCategory,
    coalesce("savingsPlan/SavingsPlanARN", "reservation/ReservationARN") AS CommitmentDiscountId,
    CASE WHEN "savingsPlan/SavingsPlanARN" IS NOT NULL THEN 'Spend'
         WHEN "reservation/ReservationARN" IS NOT NULL THEN 'Usage' END AS CommitmentDiscountCategory,
    CASE WHEN "savingsPlan/SavingsPlanARN" IS NOT NULL THEN 'Savings Plan'
         WHEN "reservation/ReservationARN" IS NOT NULL THEN 'Reserved Instance' END AS CommitmentDiscountType,
    __tags_json AS Tags,
    NULL::VARCHAR AS x_Tier, NULL::VARCHAR AS x_SiteId, NULL::VARCHAR AS x_Workload,
    NULL::VARCHAR AS x_TransferDirection, 'cloud' AS x_CostComponent,
    "product/toRegionCode" AS x_ToRegionId,
    "lineItem/UsageType" AS x_UsageType,
    billed AS __source_billed,
    CASE WHEN "product/productFamily" = 'Data Transfer'
         THEN lower(concat_ws(' | ', "product/transferType", "lineItem/UsageType", "lineItem/LineItemDescription")) END
        AS __xfer_text,
    coalesce("lineItem/NetUnblendedCost"::VARCHAR, "lineItem/UnblendedCost"::VARCHAR) AS __billed_text, NULL::VARCHAR AS __tags_text,
    concat_ws(',', "lineItem/UnblendedCost", li_type, "lineItem/UsageStartDate") AS __excerpt
FROM t
