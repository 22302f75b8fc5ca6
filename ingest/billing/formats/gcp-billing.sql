-- Google Cloud Billing export (standard or detailed BigQuery table dumped as JSON lines or Parquet) → ledger,
-- following focus_converters' gcp.csv: BilledCost = cost, EffectiveCost = cost + Σ credits (credits are negative).
-- Units: usage.unit is in base units (bytes, byte-seconds, seconds); ConsumedQuantity/ConsumedUnit are converted
-- to FOCUS UnitFormat in decimal GB (10^9 bytes) so GCP egress adds up with AWS/Azure/FOCUS `GB` rows;
-- PricingQuantity/PricingUnit keep what the price applies to (GCP's gibibytes, written `GiB`). See docs/billing.md.
WITH u AS (  -- tax, adjustments and rounding rows carry no usage (FOCUS: their quantities and units are null)
    SELECT s.*,
           CASE WHEN lower(cost_type) = 'regular' THEN lower(json_extract_string(usage, '$.unit')) END AS __unit,
           CASE WHEN lower(cost_type) = 'regular' THEN tw_num(json_extract_string(usage, '$.amount')) END AS __amount,
           CASE WHEN lower(cost_type) = 'regular' THEN lower(json_extract_string(usage, '$.pricing_unit')) END AS __punit,
           CASE WHEN lower(cost_type) = 'regular' THEN tw_num(json_extract_string(usage, '$.amount_in_pricing_units'))
                END AS __pamount
    FROM tw_billing_src s
)
SELECT
    __row AS x_SourceRow,
    tw_num(cost) AS BilledCost,
    tw_num(cost) + coalesce(list_sum(list_transform(json_extract_string(credits, '$[*].amount'), lambda a: tw_num(a))), 0)
        AS EffectiveCost,
    tw_num(cost_at_list) AS ListCost,
    tw_num(cost) AS ContractedCost,
    CASE lower(cost_type) WHEN 'regular' THEN 'Usage' WHEN 'tax' THEN 'Tax'
                          WHEN 'adjustment' THEN 'Adjustment' WHEN 'rounding_error' THEN 'Adjustment' END AS ChargeCategory,
    CASE WHEN lower(cost_type) = 'regular' THEN 'Usage-Based' ELSE 'One-Time' END AS ChargeFrequency,
    json_extract_string(sku, '$.description') AS ChargeDescription,
    tw_ts(usage_start_time) AS ChargePeriodStart,
    tw_ts(usage_end_time) AS ChargePeriodEnd,
    try_strptime(json_extract_string(invoice, '$.month') || '01', '%Y%m%d') AS BillingPeriodStart,
    try_strptime(json_extract_string(invoice, '$.month') || '01', '%Y%m%d') + INTERVAL 1 MONTH AS BillingPeriodEnd,
    billing_account_id AS BillingAccountId,
    upper(currency) AS BillingCurrency,
    'Google Cloud' AS InvoiceIssuerName,
    'Google Cloud' AS ProviderName,
    coalesce(seller_name, 'Google Cloud') AS PublisherName,
    json_extract_string(project, '$.id') AS SubAccountId,
    json_extract_string(project, '$.name') AS SubAccountName,
    json_extract_string(service, '$.description') AS ServiceName,
    coalesce((SELECT lookup_map FROM tw_gcp_category)[json_extract_string(service, '$.description')], 'Other') AS ServiceCategory,
    coalesce(json_extract_string(location, '$.region'), json_extract_string(location, '$.location')) AS RegionId,
    json_extract_string(location, '$.zone') AS AvailabilityZone,
    coalesce(json_extract_string(resource, '$.global_name'), json_extract_string(resource, '$.name')) AS ResourceId,
    json_extract_string(resource, '$.name') AS ResourceName,
    json_extract_string(sku, '$.id') AS SkuId,
    CASE __unit WHEN 'bytes' THEN (__amount / 1e9)::DECIMAL(38, 15)
                WHEN 'byte-seconds' THEN (__amount / 3.6e12)::DECIMAL(38, 15)
                WHEN 'seconds' THEN (__amount / 3600)::DECIMAL(38, 15)
                ELSE __amount END AS ConsumedQuantity,
    CASE __unit WHEN 'bytes' THEN 'GB' WHEN 'byte-seconds' THEN 'GB-Hours' WHEN 'seconds' THEN 'Hours'
                WHEN 'requests' THEN 'Requests' WHEN 'count' THEN 'Count' ELSE __unit END AS ConsumedUnit,
    __pamount AS PricingQuantity,
    CASE __punit WHEN 'gibibyte' THEN 'GiB' WHEN 'gibibyte month' THEN 'GiB-Months' WHEN 'gibibyte hour' THEN 'GiB-Hours'
                 WHEN 'tebibyte' THEN 'TiB' WHEN 'hour' THEN 'Hours' WHEN 'month' THEN 'Months' WHEN 'count' THEN 'Count'
                 WHEN 'request' THEN 'Requests' ELSE __punit END AS PricingUnit,
    CASE WHEN json_array_length(labels) > 0 THEN to_json(map_from_entries(list_transform(
        json_extract(labels, '$[*]'), lambda e: struct_pack(k := e ->> 'key', v := e ->> 'value'))))::VARCHAR END AS Tags,
    NULL::VARCHAR AS x_Tier, NULL::VARCHAR AS x_SiteId, NULL::VARCHAR AS x_Workload,
    NULL::VARCHAR AS x_TransferDirection, 'cloud' AS x_CostComponent, NULL::VARCHAR AS x_ToRegionId,
    json_extract_string(sku, '$.description') AS x_UsageType,
    tw_num(cost) AS __source_billed,
    CASE WHEN regexp_matches(lower(json_extract_string(sku, '$.description')),
                             'egress|ingress|inter region|inter-region|inter zone|inter-zone|intra zone|intra-zone|data transfer')
         THEN lower(json_extract_string(sku, '$.description')) END AS __xfer_text,
    cost::VARCHAR AS __billed_text, NULL::VARCHAR AS __tags_text,
    concat_ws(',', cost, cost_type, usage_start_time) AS __excerpt
FROM u
