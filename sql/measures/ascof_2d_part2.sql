-- ASCOF 2D part 2 (provision): of hospital discharges of people aged 65+, the share
-- discharged into reablement. Rules from DHSC's procedure Create_ASCOF2D (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2D.sql): the part 2 denominator is every eligible discharge
-- (stage 2), the numerator the reablement clusters linked to one (stage 3, part 1's
-- denominator). DHSC takes discharges from SUS; here they are the discharges the DCC and DCHS
-- records show. Reads: care_event, person, params. No follow-up: nothing is pending.
-- Shared rules (sql/measures/shared/): history, hospital_discharges and ASCOF 2D stages 1-3
-- (ascof_2d_eligible: the stage 2 discharges; ascof_2d_candidates: stage 3's links).
with
-- Part 2 rows: eligible discharges (denominator, reablement = 0) and the clusters linked in
-- each period (numerator, reablement = 1, on the discharge linked in that period).
provision as (
    select person_key, discharge, 0 as reablement, cast(null as integer) as cluster_no
    from ascof_2d_eligible
    union all
    select person_key, discharge, 1, cluster_no from ascof_2d_candidates
),
-- Periods: calendar quarter and financial year of the discharge.
dated as (
    select cast(date_trunc('quarter', v.discharge) as date) as period_start,
           cast(cast(date_trunc('quarter', v.discharge) as date) + interval '3 months' as date)
               - 1 as period_end,
           v.*
    from provision v
    cross join params
    where v.discharge < params.as_of
    union all
    select make_date(cast(extract(year from v.discharge) as integer)
                     - case when extract(month from v.discharge) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from v.discharge) as integer)
                     + case when extract(month from v.discharge) < 4 then 0 else 1 end, 3, 31),
           v.*
    from provision v
    cross join params
    where v.discharge < params.as_of
),
-- A cluster counts once per period, on the latest discharge linked in it.
counted as (
    select period_start, period_end, person_key, discharge, reablement from dated
    where reablement = 0
    union all
    select period_start, period_end, person_key, max(discharge), 1 from dated
    where reablement = 1
    group by period_start, period_end, person_key, cluster_no
),
periods as (
    select c.period_start, c.period_end, c.reablement, 1 - c.reablement as discharges,
           case when d.age between 65 and 74 then '65-74'
                when d.age between 75 and 84 then '75-84'
                when d.age >= 85 then '85+' end as age_band,
           p.sex
    from counted c
    join ascof_2d_eligible d on d.person_key = c.person_key and d.discharge = c.discharge
    left join person p on p.person_key = c.person_key
),
-- Breakdowns: all, age band, sex (DHSC's part 2 slices).
long as (
    select period_start, period_end, 'all' as breakdown, reablement, discharges from periods
    union all
    select period_start, period_end, 'age_band:' || age_band, reablement, discharges
    from periods where age_band is not null
    union all
    select period_start, period_end, 'sex:' || sex, reablement, discharges
    from periods where sex is not null
),
counts as (
    select period_start, period_end, breakdown, sum(reablement) as k, sum(discharges) as n
    from long group by period_start, period_end, breakdown
)
select q.period_start, q.period_end, q.breakdown,
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
order by q.period_start, q.period_end, q.breakdown
