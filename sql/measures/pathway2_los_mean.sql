-- Pathway 2 length of stay, mean, of episodes ending in the period (shared_care.pathway2_stay:
-- community hospital and Community Support Bed stays joined across the organisations).
-- Shared rules (sql/measures/shared/): pathway2_los_long (closed episodes, periods,
-- breakdowns, status).
-- Reads: pathway2_stay, care_event, params.
select period_start, period_end, breakdown,
       cast(null as double precision) as numerator,  -- a statistic, not a ratio of counts
       cast(count(*) as double precision) as denominator,
       cast(avg(cast(length_of_stay_days as double precision)) as double precision)
           as value,
       status
from pathway2_los_long
group by period_start, period_end, breakdown, status
order by period_start, period_end, breakdown
