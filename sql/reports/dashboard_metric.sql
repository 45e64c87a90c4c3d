-- The partnership dashboard: every published metric row of the whole population.
select measure_id, measure_name, period_start, period_end, breakdown,
       numerator, denominator, value, status, definition_version, as_of
from shared_care.metric
where breakdown = 'all'
order by measure_id, period_start, period_end
