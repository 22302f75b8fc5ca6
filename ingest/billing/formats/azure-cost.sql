-- Azure Cost Management actual or amortized export (EA or MCA; column names matched case-insensitively) → ledger.
-- A file is amortized when commitment usage carries cost; BilledCost and EffectiveCost then follow
-- microsoft/finops-toolkit docs-mslearn/focus/mapping.md so invoiced and amortized money stay separate.
WITH t AS (
    SELECT s.*,
           coalesce(tw_num(costinbillingcurrency), tw_num(cost)) AS amount,
           pricingmodel IN ('Reservation', 'SavingsPlan') AS commitment
    FROM tw_billing_src s
),
kind AS (
    SELECT coalesce(bool_or(chargetype IN ('UnusedReservation', 'UnusedSavingsPlan')
                            OR (commitment AND chargetype = 'Usage' AND amount <> 0)), false) AS amortized
    FROM t
),
m AS (
    SELECT t.*, kind.amortized,
           CASE WHEN kind.amortized AND commitment AND chargetype IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan')
                THEN 0 ELSE amount END AS billed
    FROM t, kind
)
SELECT
    __row AS x_SourceRow,
    billed AS BilledCost,
    CASE WHEN commitment AND chargetype = 'Purchase' THEN 0 ELSE amount END AS EffectiveCost,
    coalesce(tw_num(paygcostinbillingcurrency), TRY_CAST(tw_num(paygprice)::DOUBLE * tw_num(quantity)::DOUBLE
        AS DECIMAL(38, 15)))
        AS ListCost,
    tw_num(paygprice) AS ListUnitPrice,
    amount AS ContractedCost,
    tw_num(unitprice) AS ContractedUnitPrice,
    CASE WHEN chargetype IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN 'Usage'
         WHEN chargetype = 'Purchase' THEN 'Purchase'
         WHEN chargetype = 'Tax' THEN 'Tax'
         WHEN chargetype IN ('Refund', 'Credit') THEN 'Credit'
         WHEN chargetype IN ('RoundingAdjustment', 'Adjustment') THEN 'Adjustment' END AS ChargeCategory,
    CASE WHEN chargetype = 'Refund' THEN 'Correction' END AS ChargeClass,
    CASE lower(frequency) WHEN 'usagebased' THEN 'Usage-Based' WHEN 'recurring' THEN 'Recurring'
                          WHEN 'onetime' THEN 'One-Time' END AS ChargeFrequency,
    coalesce(productname, product) AS ChargeDescription,
    tw_ts(date) AS ChargePeriodStart,
    tw_ts(date) + INTERVAL 1 DAY AS ChargePeriodEnd,
    tw_ts(billingperiodstartdate) AS BillingPeriodStart,
    tw_ts(billingperiodenddate) + INTERVAL 1 DAY AS BillingPeriodEnd,
    coalesce(billingprofileid, billingaccountid) AS BillingAccountId,
    coalesce(billingprofilename, billingaccountname) AS BillingAccountName,
    upper(coalesce(billingcurrencycode, billingcurrency)) AS BillingCurrency,
    invoiceid AS InvoiceId,
    'Microsoft' AS InvoiceIssuerName,
    'Microsoft' AS ProviderName,
    coalesce(publishername, 'Microsoft') AS PublisherName,
    subscriptionid AS SubAccountId,
    subscriptionname AS SubAccountName,
    coalesce(metercategory, servicefamily, productname, product) AS ServiceName,  -- purchases often lack a meter
    coalesce((SELECT lookup_map FROM tw_azure_category)[lower(consumedservice)], 'Other')
        AS ServiceCategory,
    lower(resourcelocation) AS RegionId,
    meterregion AS RegionName,
    availabilityzone AS AvailabilityZone,
    resourceid AS ResourceId,
    resourcename AS ResourceName,
    coalesce(productid, partnumber) AS SkuId,
    metername AS SkuMeter,
    meterid AS SkuPriceId,
    tw_num(quantity) AS ConsumedQuantity,
    unitofmeasure AS ConsumedUnit,
    tw_num(quantity) AS PricingQuantity,
    unitofmeasure AS PricingUnit,
    CASE pricingmodel WHEN 'OnDemand' THEN 'Standard' WHEN 'Reservation' THEN 'Committed'
                      WHEN 'SavingsPlan' THEN 'Committed' WHEN 'Spot' THEN 'Dynamic' END AS PricingCategory,
    CASE WHEN commitment THEN coalesce(benefitid, reservationid) END AS CommitmentDiscountId,
    CASE WHEN commitment THEN coalesce(benefitname, reservationname) END AS CommitmentDiscountName,
    CASE pricingmodel WHEN 'Reservation' THEN 'Usage' WHEN 'SavingsPlan' THEN 'Spend' END AS CommitmentDiscountCategory,
    CASE pricingmodel WHEN 'Reservation' THEN 'Reservation' WHEN 'SavingsPlan' THEN 'Savings Plan' END
        AS CommitmentDiscountType,
    CASE WHEN chargetype IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 'Unused'
         WHEN commitment AND chargetype = 'Usage' THEN 'Used' END AS CommitmentDiscountStatus,
    tw_json(tags) AS Tags,
    NULL::VARCHAR AS x_Tier, NULL::VARCHAR AS x_SiteId, NULL::VARCHAR AS x_Workload,
    NULL::VARCHAR AS x_TransferDirection, 'cloud' AS x_CostComponent, NULL::VARCHAR AS x_ToRegionId,
    concat_ws(' / ', metercategory, metersubcategory, metername) AS x_UsageType,
    billed AS __source_billed,
    CASE WHEN metercategory = 'Bandwidth'
              OR regexp_matches(lower(concat_ws(' ', metersubcategory, metername)), 'data transfer|egress|ingress|peering')
         THEN lower(concat_ws(' | ', metercategory, metersubcategory, metername)) END AS __xfer_text,
    coalesce(costinbillingcurrency::VARCHAR, cost::VARCHAR) AS __billed_text, tags AS __tags_text,
    concat_ws(',', coalesce(costinbillingcurrency, cost), chargetype, date) AS __excerpt
FROM m
