-- 0008: the cost ledger's physical layout. `costs` becomes a view with exactly 0002's columns, types and rows over
-- three tables: a file's rows in `costs_narrow` (the columns that vary within a bill) joined to its one row of
-- per-file values in `costs_files`, or, when one of those values varies within the file, all of them in `costs_wide`.
-- Rows ingested before this migration stay in `costs_wide` (the old table, renamed). Append-only: never edit once merged.
ALTER TABLE costs RENAME TO costs_wide;

-- One row per file loaded narrow, each value the same on every row of the file: the columns that describe the bill,
-- its issuer and its source, and those the native cloud mappings leave constant (capacity reservations, pricing
-- currency, FOCUS 1.3 allocation, resource type, subcategory, corrections; a rate card's site, device and component).
CREATE TABLE costs_files (
    cost_file                           INTEGER PRIMARY KEY,
    BillingAccountId                    VARCHAR,
    BillingAccountName                  VARCHAR,
    BillingAccountType                  VARCHAR,
    BillingCurrency                     VARCHAR,
    BillingPeriodEnd                    TIMESTAMP,
    BillingPeriodStart                  TIMESTAMP,
    CapacityReservationId               VARCHAR,
    CapacityReservationStatus           VARCHAR,
    ChargeClass                         VARCHAR,
    CommitmentDiscountQuantity          DECIMAL(38, 15),
    CommitmentDiscountUnit              VARCHAR,
    InvoiceIssuerName                   VARCHAR,
    PricingCurrency                     VARCHAR,
    PricingCurrencyContractedUnitPrice  DECIMAL(38, 15),
    PricingCurrencyEffectiveCost        DECIMAL(38, 15),
    PricingCurrencyListUnitPrice        DECIMAL(38, 15),
    ProviderName                        VARCHAR NOT NULL,
    PublisherName                       VARCHAR,
    ResourceType                        VARCHAR,
    ServiceSubcategory                  VARCHAR,
    SkuPriceDetails                     JSON,
    SubAccountType                      VARCHAR,
    ServiceProviderName                 VARCHAR,
    HostProviderName                    VARCHAR,
    AllocatedMethodId                   VARCHAR,
    AllocatedMethodDetails              JSON,
    AllocatedResourceId                 VARCHAR,
    AllocatedResourceName               VARCHAR,
    AllocatedTags                       JSON,
    ContractApplied                     JSON,
    x_SiteId                            VARCHAR,
    x_DeviceId                          VARCHAR,
    x_CostComponent                     VARCHAR,
    x_SourceFormat                      VARCHAR NOT NULL,
    x_SourceFile                        VARCHAR NOT NULL,
    batch_key                           VARCHAR NOT NULL UNIQUE
);

-- The rows of the files in costs_files: every other ledger column (those that vary within at least three of the
-- CUR, Azure, GCP, OCI, FOCUS and rate-card samples tierwise is tested on, and InvoiceId), types and NOT NULLs as 0002.
CREATE TABLE costs_narrow (
    cost_file                           INTEGER NOT NULL,
    AvailabilityZone                    VARCHAR,
    BilledCost                          DECIMAL(38, 15) NOT NULL,
    ChargeCategory                      VARCHAR NOT NULL,
    ChargeDescription                   VARCHAR,
    ChargeFrequency                     VARCHAR,
    ChargePeriodEnd                     TIMESTAMP,
    ChargePeriodStart                   TIMESTAMP,
    CommitmentDiscountCategory          VARCHAR,
    CommitmentDiscountId                VARCHAR,
    CommitmentDiscountName              VARCHAR,
    CommitmentDiscountStatus            VARCHAR,
    CommitmentDiscountType              VARCHAR,
    ConsumedQuantity                    DECIMAL(38, 15),
    ConsumedUnit                        VARCHAR,
    ContractedCost                      DECIMAL(38, 15),
    ContractedUnitPrice                 DECIMAL(38, 15),
    EffectiveCost                       DECIMAL(38, 15) NOT NULL,
    InvoiceId                           VARCHAR,
    ListCost                            DECIMAL(38, 15),
    ListUnitPrice                       DECIMAL(38, 15),
    PricingCategory                     VARCHAR,
    PricingQuantity                     DECIMAL(38, 15),
    PricingUnit                         VARCHAR,
    RegionId                            VARCHAR,
    RegionName                          VARCHAR,
    ResourceId                          VARCHAR,
    ResourceName                        VARCHAR,
    ServiceCategory                     VARCHAR,
    ServiceName                         VARCHAR,
    SkuId                               VARCHAR,
    SkuMeter                            VARCHAR,
    SkuPriceId                          VARCHAR,
    SubAccountId                        VARCHAR,
    SubAccountName                      VARCHAR,
    Tags                                JSON,
    x_Tier                              VARCHAR,
    x_Workload                          VARCHAR,
    x_TransferDirection                 VARCHAR,
    x_ToRegionId                        VARCHAR,
    x_UsageType                         VARCHAR,
    x_SourceRow                         BIGINT
);

-- The ledger every query reads: 0002's columns in 0002's order; cost_links (0004) reads it by name.
CREATE VIEW costs AS
SELECT * FROM costs_wide
UNION ALL
SELECT n.AvailabilityZone, n.BilledCost, f.BillingAccountId, f.BillingAccountName, f.BillingAccountType,
    f.BillingCurrency, f.BillingPeriodEnd, f.BillingPeriodStart, f.CapacityReservationId, f.CapacityReservationStatus,
    n.ChargeCategory, f.ChargeClass, n.ChargeDescription, n.ChargeFrequency, n.ChargePeriodEnd, n.ChargePeriodStart,
    n.CommitmentDiscountCategory, n.CommitmentDiscountId, n.CommitmentDiscountName, f.CommitmentDiscountQuantity,
    n.CommitmentDiscountStatus, n.CommitmentDiscountType, f.CommitmentDiscountUnit, n.ConsumedQuantity,
    n.ConsumedUnit, n.ContractedCost, n.ContractedUnitPrice, n.EffectiveCost, n.InvoiceId, f.InvoiceIssuerName,
    n.ListCost, n.ListUnitPrice, n.PricingCategory, f.PricingCurrency, f.PricingCurrencyContractedUnitPrice,
    f.PricingCurrencyEffectiveCost, f.PricingCurrencyListUnitPrice, n.PricingQuantity, n.PricingUnit, f.ProviderName,
    f.PublisherName, n.RegionId, n.RegionName, n.ResourceId, n.ResourceName, f.ResourceType, n.ServiceCategory,
    n.ServiceName, f.ServiceSubcategory, n.SkuId, n.SkuMeter, f.SkuPriceDetails, n.SkuPriceId, n.SubAccountId,
    n.SubAccountName, f.SubAccountType, n.Tags, f.ServiceProviderName, f.HostProviderName, f.AllocatedMethodId,
    f.AllocatedMethodDetails, f.AllocatedResourceId, f.AllocatedResourceName, f.AllocatedTags, f.ContractApplied,
    n.x_Tier, f.x_SiteId, f.x_DeviceId, n.x_Workload, f.x_CostComponent, n.x_TransferDirection, n.x_ToRegionId,
    n.x_UsageType, f.x_SourceFormat, f.x_SourceFile, n.x_SourceRow, f.batch_key
FROM costs_narrow n
JOIN costs_files f ON f.cost_file = n.cost_file;
