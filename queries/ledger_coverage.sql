-- One row: the UTC instants the cost ledger covers (first charge start, last charge end) and how many charges it
-- holds, so a period the bills have not reached yet is labelled "to date"; the latest charge start sets the month
-- budgets and anomalies default to. Parameters: none.
-- Units: first_charge_start, last_charge_start, last_charge_end UTC timestamps (the end exclusive); charges a count of
-- ledger rows.
SELECT min(ChargePeriodStart)                                   AS first_charge_start,
       max(coalesce(ChargePeriodEnd, ChargePeriodStart))         AS last_charge_end,
       max(ChargePeriodStart)                                    AS last_charge_start,
       count(*)                                                  AS charges
FROM costs
