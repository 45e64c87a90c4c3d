-- ASCOF 2D part 1: of people aged 65+ discharged from hospital into reablement, the share
-- who remained in the community (no death, readmission or residential / nursing admission)
-- within 12 weeks. Rules from DHSC's procedure Create_ASCOF2D (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2D.sql). DHSC takes discharges and readmissions from SUS; the
-- partnership has no SUS, so the hospital discharges are those the DCC and DCHS records show.
-- Shared rules (sql/measures/shared/): history, deaths, admission_signals,
-- hospital_discharges and ASCOF 2D stages 1-3 (ascof_2d_lts, ascof_2d_candidates).
-- Reads: care_event, person, params. Periods: quarter and financial year of the discharge.
with
-- Periods: calendar quarter and financial year of the discharge.
candidate_periods as (
    select cast(date_trunc('quarter', discharge) as date) as period_start,
           cast(cast(date_trunc('quarter', discharge) as date) + interval '3 months' as date) - 1
               as period_end,
           k.*
    from ascof_2d_candidates k
    union all
    select make_date(cast(extract(year from discharge) as integer)
                     - case when extract(month from discharge) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from discharge) as integer)
                     + case when extract(month from discharge) < 4 then 0 else 1 end, 3, 31),
           k.*
    from ascof_2d_candidates k
),
linked as (
    select period_start, period_end, person_key, cluster_no, cluster_start,
           max(discharge) as discharge
    from candidate_periods
    group by period_start, period_end, person_key, cluster_no, cluster_start
),
-- Stage 4 readmissions. DHSC: a SUS emergency / non-elective admission after the cluster
-- start and after the discharge, within 84 days. Here: an admission signal, a community
-- hospital admission that was discharged (Admission_Date < Discharge_Date), or any later
-- hospital discharge within the 84 days (its admission came after this discharge).
readmissions as (
    select person_key, admitted, cast(null as date) as discharged from admission_signals
    union all
    select person_key, start_date, end_date from care_event
    where organisation = 'DCHS' and event_type = 'inpatient_spell'
      and end_date is not null and start_date < end_date
    union all
    select person_key, admitted, discharge from hospital_discharges
),
cohort as (
    select k.period_start, k.period_end, k.person_key, k.cluster_no, k.cluster_start,
           k.discharge,
           case when k.discharge + params.ascof_2d_follow_up_days < params.as_of
                then 1 else 0 end as closed,
           -- Death within 12 weeks: discharge <= date of death <= discharge + 84.
           case when dd.date_of_death between k.discharge
                     and k.discharge + params.ascof_2d_follow_up_days then 1 else 0 end as died,
           case when exists (
               select 1 from readmissions r
               where r.person_key = k.person_key
                 and ((r.admitted is not null
                       and r.admitted > k.cluster_start
                       and r.admitted > k.discharge
                       and r.admitted <= k.discharge + params.ascof_2d_follow_up_days)
                      -- admission unseen: discharged after the cluster start and the
                      -- discharge (one by the cluster start was admitted before it)
                      or (r.admitted is null
                          and r.discharged > k.cluster_start
                          and r.discharged > k.discharge
                          and r.discharged <= k.discharge + params.ascof_2d_follow_up_days))
           ) then 1 else 0 end as readmitted,
           -- Long Term Support: Residential / Nursing Care starting within 12 weeks.
           case when exists (
               select 1 from ascof_2d_lts l
               where l.person_key = k.person_key
                 and l.start_date >= k.discharge
                 and l.start_date <= k.discharge + params.ascof_2d_follow_up_days
           ) then 1 else 0 end as care_home,
           -- DHSC's SUS age at discharge; the bands of its Part 1 slices.
           case when d.age between 65 and 74 then '65-74'
                when d.age between 75 and 84 then '75-84'
                when d.age >= 85 then '85+' end as age_band,
           p.sex
    from linked k
    join hospital_discharges d on d.person_key = k.person_key and d.discharge = k.discharge
    left join person p on p.person_key = k.person_key
    left join deaths dd on dd.person_key = k.person_key
    cross join params
),
flags as (
    select c.*,
           case when died + readmitted + care_home = 0 then 1 else 0 end as remained
    from cohort c
),
-- Breakdowns: all, age band, sex, and the share of the denominator per outcome.
long as (
    select period_start, period_end, 'all' as breakdown, closed as den, closed * remained as num
    from flags
    union all
    select period_start, period_end, 'age_band:' || age_band, closed, closed * remained
    from flags where age_band is not null
    union all
    select period_start, period_end, 'sex:' || sex, closed, closed * remained
    from flags where sex is not null
    union all
    select period_start, period_end, 'outcome:died', closed, closed * died from flags
    union all
    select period_start, period_end, 'outcome:readmitted', closed, closed * readmitted
    from flags
    union all
    select period_start, period_end, 'outcome:care_home', closed, closed * care_home
    from flags
),
per_period as (
    select period_start, period_end, sum(closed) as n_closed, sum(1 - closed) as n_pending
    from flags
    group by period_start, period_end
),
-- Status: pending while no window has closed; partial_history when the period starts
-- before the sources' history; provisional while windows are open or recently closed.
status as (
    select pp.*,
           case
               when pp.n_closed = 0 and pp.n_pending > 0 then 'pending'
               when h.history_start is null or pp.period_start < h.history_start
                   then 'partial_history'
               when pp.n_pending > 0 or pp.period_end >= params.as_of
                    or pp.period_end + params.ascof_2d_follow_up_days
                       + params.late_recording_days >= params.as_of then 'provisional'
               else 'final'
           end as status
    from per_period pp
    cross join params
    cross join history h
),
rows_out as (
    select period_start, period_end, breakdown,
           case when sum(den) > 0 then cast(sum(num) as double precision) end as numerator,
           cast(sum(den) as double precision) as denominator,
           case when sum(den) > 0 then cast(sum(num) as double precision) / sum(den) end as value
    from long
    group by period_start, period_end, breakdown
    union all
    -- window:pending: discharges whose 84 days have not passed (denominator; value empty)
    select period_start, period_end, 'window:pending', cast(null as double precision),
           cast(n_pending as double precision), cast(null as double precision)
    from per_period where n_pending > 0
)
select r.period_start, r.period_end, r.breakdown, r.numerator, r.denominator, r.value, s.status
from rows_out r
join status s on s.period_start = r.period_start and s.period_end = r.period_end
order by r.period_start, r.period_end, r.breakdown
