-- One row: the UTC instants the cost ledger covers (first charge start, last charge end) and how many charges it
-- holds, so a period the bills have not reached yet is labelled "to date". Parameters: none.
-- Units: first_charge_start, last_charge_end UTC timestamps (the end exclusive); charges a count of ledger rows.
SELECT min(ChargePeriodStart)                                   AS first_charge_start,
       max(coalesce(ChargePeriodEnd, ChargePeriodStart))         AS last_charge_end,
       count(*)                                                  AS charges
FROM costs
