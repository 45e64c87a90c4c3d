-- ASCOF 2C: new long-term residential / nursing admissions of people aged 65+, per
-- 100,000 population aged 65+. Rules from DHSC's procedure Create_ASCOF2BC_2425_Onwards
-- (ASC-CLD-LA-Dashboard, ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql).
-- Shared rules (sql/measures/shared/): ascof_2bc_per_person (DHSC steps 1-4, the
-- admissions 2B and 2C both count) and ascof_2bc_rates (the county scope, the
-- denominator and the status, for both bands).
-- Reads: ascof_2bc_rates. One row per financial year with an admission in either band.
select period_start, period_end, breakdown, numerator, denominator, value, status
from ascof_2bc_rates
where band = '65+'
order by period_start
