-- The earliest date the sources show: a period or look-back starting before it is not
-- covered (status partial_history). Reads: care_event.
select min(start_date) as history_start from care_event
