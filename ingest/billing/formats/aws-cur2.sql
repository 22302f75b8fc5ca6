-- AWS CUR 2.0 (Data Exports, snake_case; product and resource_tags are maps, `__product` read as a map) → ledger, following focus_converters' aws.csv mapping:
-- BilledCost = net unblended (else unblended); EffectiveCost amortizes RI / Savings Plan line items.
WITH t AS (
    SELECT s.*, line_item_line_item_type AS li_type,
           coalesce(tw_num(line_item_net_unblended_cost), tw_num(line_item_unblended_cost)) AS billed
    FROM tw_billing_src s
)
SELECT
    __row AS x_SourceRow,
    billed AS BilledCost,
    CASE li_type
        WHEN 'SavingsPlanCoveredUsage' THEN tw_num(savings_plan_savings_plan_effective_cost)
        WHEN 'SavingsPlanRecurringFee' THEN tw_num(savings_plan_total_commitment_to_date) - tw_num(savings_plan_used_commitment)
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'DiscountedUsage' THEN tw_num(reservation_effective_cost)
        WHEN 'RIFee' THEN coalesce(tw_num(reservation_unused_amortized_upfront_fee_for_billing_period), 0)
                          + coalesce(tw_num(reservation_unused_recurring_fee), 0)
        ELSE billed END AS EffectiveCost,
    tw_num(pricing_public_on_demand_cost) AS ListCost,
    tw_num(pricing_public_on_demand_rate) AS ListUnitPrice,
    tw_num(line_item_unblended_cost) AS ContractedCost,
    tw_num(line_item_unblended_rate) AS ContractedUnitPrice,
    CASE WHEN li_type = 'Tax' THEN 'Tax'
         WHEN li_type IN ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') THEN 'Purchase'
         WHEN li_type IN ('Credit', 'Refund') THEN 'Credit'
         WHEN li_type IS NOT NULL THEN 'Usage' END AS ChargeCategory,
    CASE WHEN li_type = 'Refund' THEN 'Correction' END AS ChargeClass,
    CASE WHEN li_type IN ('Fee', 'SavingsPlanUpfrontFee') OR bill_bill_type IN ('Purchase', 'Refund') THEN 'One-Time'
         WHEN li_type IN ('RIFee', 'SavingsPlanRecurringFee', 'Tax') THEN 'Recurring'
         ELSE 'Usage-Based' END AS ChargeFrequency,
    line_item_line_item_description AS ChargeDescription,
    tw_ts(line_item_usage_start_date) AS ChargePeriodStart,
    tw_ts(line_item_usage_end_date) AS ChargePeriodEnd,
    tw_ts(bill_billing_period_start_date) AS BillingPeriodStart,
    tw_ts(bill_billing_period_end_date) AS BillingPeriodEnd,
    bill_payer_account_id AS BillingAccountId,
    bill_payer_account_name AS BillingAccountName,
    upper(line_item_currency_code) AS BillingCurrency,
    bill_invoice_id AS InvoiceId,
    coalesce(bill_invoicing_entity, 'Amazon Web Services, Inc.') AS InvoiceIssuerName,
    'AWS' AS ProviderName,
    coalesce(line_item_legal_entity, 'Amazon Web Services, Inc.') AS PublisherName,
    line_item_usage_account_id AS SubAccountId,
    line_item_usage_account_name AS SubAccountName,
    coalesce(coalesce(product_product_name, __product['product_name']), line_item_product_code) AS ServiceName,
    coalesce((SELECT lookup_map FROM tw_aws_category)[line_item_product_code], 'Other')
        AS ServiceCategory,
    coalesce(coalesce(product_region_code, __product['region_code']), coalesce(product_region, __product['region'])) AS RegionId,
    coalesce(product_location, __product['location']) AS RegionName,
    line_item_availability_zone AS AvailabilityZone,
    line_item_resource_id AS ResourceId,
    product_sku AS SkuId,
    coalesce(pricing_rate_code, pricing_rate_id) AS SkuPriceId,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN tw_num(line_item_usage_amount) END AS ConsumedQuantity,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN pricing_unit END AS ConsumedUnit,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN tw_num(line_item_usage_amount) END AS PricingQuantity,
    CASE WHEN li_type NOT IN ('Tax', 'Credit', 'Refund') THEN pricing_unit END AS PricingUnit,
    CASE pricing_term WHEN 'OnDemand' THEN 'Standard' WHEN 'Reserved' THEN 'Committed' WHEN 'Spot' THEN 'Dynamic' END
        AS PricingCategory,
    coalesce(savings_plan_savings_plan_a_r_n, reservation_reservation_a_r_n) AS CommitmentDiscountId,
    CASE WHEN savings_plan_savings_plan_a_r_n IS NOT NULL THEN 'Spend'
         WHEN reservation_reservation_a_r_n IS NOT NULL THEN 'Usage' END AS CommitmentDiscountCategory,
    CASE WHEN savings_plan_savings_plan_a_r_n IS NOT NULL THEN 'Savings Plan'
         WHEN reservation_reservation_a_r_n IS NOT NULL THEN 'Reserved Instance' END AS CommitmentDiscountType,
    __tags_json AS Tags,
    NULL::VARCHAR AS x_Tier, NULL::VARCHAR AS x_SiteId, NULL::VARCHAR AS x_Workload,
    NULL::VARCHAR AS x_TransferDirection, 'cloud' AS x_CostComponent,
    coalesce(product_to_region_code, __product['to_region_code']) AS x_ToRegionId,
    line_item_usage_type AS x_UsageType,
    billed AS __source_billed,
    CASE WHEN coalesce(product_product_family, __product['product_family']) = 'Data Transfer'
         THEN lower(concat_ws(' | ', coalesce(product_transfer_type, __product['transfer_type']), line_item_usage_type, line_item_line_item_description)) END
        AS __xfer_text,
    coalesce(line_item_net_unblended_cost::VARCHAR, line_item_unblended_cost::VARCHAR) AS __billed_text, __tags_text,
    concat_ws(',', line_item_unblended_cost, li_type, line_item_usage_start_date) AS __excerpt
FROM t
