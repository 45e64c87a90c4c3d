-- Earlier publications of the same rows: how a period's value moved from night to night.
select measure_id, period_start, period_end, value, status, as_of, run_id
from shared_care.metric_history
where breakdown = 'all'
order by measure_id, period_start, period_end, as_of
