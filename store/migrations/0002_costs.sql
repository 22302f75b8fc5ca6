-- 0002: the FOCUS cost ledger (FOCUS 1.2 columns verbatim + 1.3 additions + our x_ columns),
-- per-file source totals for reconciliation, and the cost→workload link view (append-only: never edit once merged).
CREATE TABLE costs (
    -- FOCUS 1.2 Cost and Usage (57 columns); money in BillingCurrency, date-times UTC with exclusive ends
    AvailabilityZone                    VARCHAR,
    BilledCost                          DECIMAL(38, 15) NOT NULL,
    BillingAccountId                    VARCHAR,
    BillingAccountName                  VARCHAR,
    BillingAccountType                  VARCHAR,
    BillingCurrency                     VARCHAR,
    BillingPeriodEnd                    TIMESTAMP,
    BillingPeriodStart                  TIMESTAMP,
    CapacityReservationId               VARCHAR,
    CapacityReservationStatus           VARCHAR,
    ChargeCategory                      VARCHAR NOT NULL,   -- Usage|Purchase|Tax|Credit|Adjustment
    ChargeClass                         VARCHAR,            -- Correction|NULL
    ChargeDescription                   VARCHAR,
    ChargeFrequency                     VARCHAR,            -- One-Time|Recurring|Usage-Based
    ChargePeriodEnd                     TIMESTAMP,
    ChargePeriodStart                   TIMESTAMP,
    CommitmentDiscountCategory          VARCHAR,
    CommitmentDiscountId                VARCHAR,
    CommitmentDiscountName              VARCHAR,
    CommitmentDiscountQuantity          DECIMAL(38, 15),
    CommitmentDiscountStatus            VARCHAR,
    CommitmentDiscountType              VARCHAR,
    CommitmentDiscountUnit              VARCHAR,
    ConsumedQuantity                    DECIMAL(38, 15),
    ConsumedUnit                        VARCHAR,
    ContractedCost                      DECIMAL(38, 15),
    ContractedUnitPrice                 DECIMAL(38, 15),
    EffectiveCost                       DECIMAL(38, 15) NOT NULL,
    InvoiceId                           VARCHAR,
    InvoiceIssuerName                   VARCHAR,
    ListCost                            DECIMAL(38, 15),
    ListUnitPrice                       DECIMAL(38, 15),
    PricingCategory                     VARCHAR,
    PricingCurrency                     VARCHAR,
    PricingCurrencyContractedUnitPrice  DECIMAL(38, 15),
    PricingCurrencyEffectiveCost        DECIMAL(38, 15),
    PricingCurrencyListUnitPrice        DECIMAL(38, 15),
    PricingQuantity                     DECIMAL(38, 15),
    PricingUnit                         VARCHAR,
    ProviderName                        VARCHAR NOT NULL,
    PublisherName                       VARCHAR,
    RegionId                            VARCHAR,
    RegionName                          VARCHAR,
    ResourceId                          VARCHAR,
    ResourceName                        VARCHAR,
    ResourceType                        VARCHAR,
    ServiceCategory                     VARCHAR,
    ServiceName                         VARCHAR,
    ServiceSubcategory                  VARCHAR,
    SkuId                               VARCHAR,
    SkuMeter                            VARCHAR,
    SkuPriceDetails                     JSON,
    SkuPriceId                          VARCHAR,
    SubAccountId                        VARCHAR,
    SubAccountName                      VARCHAR,
    SubAccountType                      VARCHAR,
    Tags                                JSON,
    -- FOCUS 1.3 additions, filled where a source has them
    ServiceProviderName                 VARCHAR,
    HostProviderName                    VARCHAR,
    AllocatedMethodId                   VARCHAR,
    AllocatedMethodDetails              JSON,
    AllocatedResourceId                 VARCHAR,
    AllocatedResourceName               VARCHAR,
    AllocatedTags                       JSON,
    ContractApplied                     JSON,
    -- tierwise columns
    x_Tier                              VARCHAR,    -- device|edge|regional|hyperscale|NULL (unknown)
    x_SiteId                            VARCHAR,    -- edge site or device fleet from rate cards / tags
    x_DeviceId                          VARCHAR,
    x_Workload                          VARCHAR,    -- from tags at ingest; see view cost_links for resource links
    x_CostComponent                     VARCHAR,    -- capex_amortization|power|space|remote_hands|uplink|device_amortization|ota|cloud
    x_TransferDirection                 VARCHAR,    -- internet_out|inter_region|cross_zone|intra_zone|tier_to_tier|in|NULL
    x_ToRegionId                        VARCHAR,
    x_UsageType                         VARCHAR,    -- provider usage type / meter text the egress rules read
    x_SourceFormat                      VARCHAR NOT NULL,   -- focus-1.0|focus-1.2|aws-cur-legacy|aws-cur2|azure-actual|...
    x_SourceFile                        VARCHAR NOT NULL,
    x_SourceRow                         BIGINT,     -- 1-based data row in the source file (CSV: header is row 0)
    batch_key                           VARCHAR NOT NULL
);

-- BilledCost / EffectiveCost summed straight from each file's native cost columns (before mapping),
-- one row per file × provider × billing period: the first leg of the reconciliation.
CREATE TABLE billing_source_totals (
    content_sha256      VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    source_format       VARCHAR NOT NULL,
    provider_name       VARCHAR NOT NULL,
    billing_period_start TIMESTAMP,
    rows_read           BIGINT NOT NULL,
    billed_cost         DECIMAL(38, 15) NOT NULL,
    batch_key           VARCHAR NOT NULL
);

-- Each cost row with the workload and tier it is linked to and how: tag (x_Workload set at ingest),
-- resource (ResourceId equals a span host name, k8s node or cloud resource id), site (rate-card site
-- seen on spans), else 'unallocated'. Costs are never dropped: every costs row appears exactly once.
CREATE VIEW cost_links AS
WITH span_resources AS (
    SELECT resource_key, arg_max(workload, n) AS workload, arg_max(tier, n) AS tier
    FROM (
        SELECT k AS resource_key, workload, tier, count(*) AS n
        FROM (
            SELECT workload, tier, unnest([
                host_name,
                json_extract_string(resource_attributes, '$."host.name"'),
                json_extract_string(resource_attributes, '$."k8s.node.name"'),
                json_extract_string(resource_attributes, '$."cloud.resource_id"'),
                json_extract_string(resource_attributes, '$."host.id"')
            ]) AS k
            FROM spans WHERE workload IS NOT NULL
        ) WHERE k IS NOT NULL
        GROUP BY ALL
    ) GROUP BY resource_key
),
span_sites AS (
    SELECT site, arg_max(workload, n) AS workload, arg_max(tier, n) AS tier
    FROM (SELECT site, workload, tier, count(*) AS n FROM spans
          WHERE site IS NOT NULL AND workload IS NOT NULL GROUP BY ALL)
    GROUP BY site
)
SELECT
    c.*,
    coalesce(c.x_Workload, r.workload, s.workload)                      AS link_workload,
    coalesce(c.x_Tier, r.tier, s.tier)                                  AS link_tier,
    CASE WHEN c.x_Workload IS NOT NULL THEN 'tag'
         WHEN r.workload IS NOT NULL THEN 'resource'
         WHEN s.workload IS NOT NULL THEN 'site'
         ELSE 'unallocated' END                                         AS link_method
FROM costs c
LEFT JOIN span_resources r ON r.resource_key = c.ResourceId
LEFT JOIN span_sites s ON s.site = c.x_SiteId AND c.x_Workload IS NULL AND r.workload IS NULL;
