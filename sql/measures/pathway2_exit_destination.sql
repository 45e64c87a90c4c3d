-- Pathway 2 destination on exit: the share of episodes ending in the period by exit
-- destination (shared_care.pathway2_stay.exit_destination). Reads: pathway2_stay,
-- care_event, params.
-- Shared rules (sql/measures/shared/): history.
with
episodes as (
    select p.* from pathway2_stay p cross join params
    where p.episode_end is not null and p.episode_end < params.as_of
),
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
destinations as (
    select d from (values ('usual_residence'), ('temporary_residence'), ('care_home'),
                          ('hospital'), ('died'), ('hospice'), ('other'), ('unknown')) v(d)
),
-- Every destination for every period with an episode (a zero is a figure).
counts as (
    select q.period_start, q.period_end, x.d,
           sum(case when q.exit_destination = x.d then 1 else 0 end) as k,
           count(*) as n
    from periods q
    cross join destinations x
    group by q.period_start, q.period_end, x.d
)
select q.period_start, q.period_end, 'destination:' || q.d as breakdown,
       cast(q.k as double precision) as numerator,
       cast(q.n as double precision) as denominator,
       cast(q.k as double precision) / q.n as value,
           case when h.history_start is null or q.period_start < h.history_start
                    then 'partial_history'
                when q.period_end >= params.as_of
                     or q.period_end + params.late_recording_days >= params.as_of
                    then 'provisional'
                else 'final' end as status
from counts q
cross join params
cross join history h
order by q.period_start, q.period_end, breakdown
