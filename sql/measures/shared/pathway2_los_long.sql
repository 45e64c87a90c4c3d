-- Pathway 2 length of stay, the rows the mean, median and 90th percentile summarise: one per
-- closed episode (shared_care.pathway2_stay: community hospital and Community Support Bed
-- stays joined across the organisations), period and breakdown, with the period's status.
-- Reads: pathway2_stay, history, params.
with
-- Closed episodes (ended before as_of) with a length of stay.
episodes as (
    select p.* from pathway2_stay p cross join params
    where p.episode_end is not null and p.episode_end < params.as_of
      and p.length_of_stay_days is not null
),
-- Periods: calendar quarter and financial year of the episode's end.
periods as (
    select cast(date_trunc('quarter', episode_end) as date) as period_start,
           cast(cast(date_trunc('quarter', episode_end) as date) + interval '3 months' as date) - 1
               as period_end,
           e.*
    from episodes e
    union all
    select make_date(cast(extract(year from episode_end) as integer)
                     - case when extract(month from episode_end) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from episode_end) as integer)
                     + case when extract(month from episode_end) < 4 then 0 else 1 end, 3, 31),
           e.*
    from episodes e
),
-- Breakdowns: all, and the episode's settings in order.
long as (
    select period_start, period_end, 'all' as breakdown, length_of_stay_days from periods
    union all
    select period_start, period_end, 'setting:' || settings, length_of_stay_days
    from periods where settings is not null
)
-- Status: partial_history when the period starts before the sources' history; provisional
-- while the period is open or recently closed.
select l.period_start, l.period_end, l.breakdown, l.length_of_stay_days,
       case when h.history_start is null or l.period_start < h.history_start
                then 'partial_history'
            when l.period_end >= params.as_of
                 or l.period_end + params.late_recording_days >= params.as_of
                then 'provisional'
            else 'final' end as status
from long l
cross join params
cross join history h
