-- ASCOF 2D part 1: of people aged 65+ discharged from hospital into reablement, the share
-- who remained in the community (no death, readmission or residential / nursing admission)
-- within 12 weeks. Rules from DHSC's procedure Create_ASCOF2D (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2D.sql). DHSC takes discharges and readmissions from SUS; the
-- partnership has no SUS, so the hospital discharges are those the DCC and DCHS records show.
-- Reads: care_event, person, params. Periods: quarter and financial year of the discharge.
with
history as (
    select min(start_date) as history_start from care_event
),
-- Stage 1 (CLD cleaned): DCC rows of service users only, with an end on or after the start
-- or no end. DHSC: Client_Type_Cleaned = 'Service User'.
cld as (
    select e.event_id, e.person_key, e.event_type, e.service_category, e.start_date,
           coalesce(e.end_date, date '9999-01-01') as end_date
    from care_event e
    where e.organisation = 'DCC'
      and e.client_type = 'service_user'
      and (e.end_date is null or e.end_date >= e.start_date)
),
-- Stage 1: long-term residential / nursing support (DHSC also counts prison support, which
-- the common vocabulary has no category for).
lts as (
    select person_key, start_date, end_date from cld
    where event_type = 'service'
      and service_category in ('long_term_residential', 'long_term_nursing')
),
-- Stage 1: reablement events - Short Term Support: ST-Max, component Reablement.
reablement as (
    select person_key, start_date, end_date, event_id from cld
    where event_type = 'service' and service_category = 'reablement'
),
-- Stage 1: cluster reablement events no more than 7 days apart (or overlapping): an event
-- starts a cluster unless it starts within 7 days of the latest end before it.
ordered as (
    select r.*,
           max(end_date) over (partition by person_key order by start_date, end_date, event_id
                               rows between unbounded preceding and 1 preceding) as previous_end
    from reablement r
),
flagged as (
    select o.*,
           case when o.previous_end is not null
                 and o.start_date - o.previous_end <= params.cluster_gap_days
                then 0 else 1 end as cluster_start_flag
    from ordered o
    cross join params
),
numbered as (
    select f.*,
           sum(cluster_start_flag) over (partition by person_key order by start_date, end_date,
                                          event_id rows unbounded preceding) as cluster_no
    from flagged f
),
clusters as (
    select person_key, cluster_no, min(start_date) as cluster_start
    from numbered
    group by person_key, cluster_no
),
-- Stage 2 stand-in for SUS: hospital discharges the records show. A DCC request with route
-- 'Discharge from Hospital', a DCHS referral from hospital (H2), a community hospital
-- admission from an NHS hospital (the acute discharge is its admission date), and a
-- community hospital discharge (community hospital spells are SUS APC spells).
evidence as (
    select person_key, start_date as discharge, cast(null as date) as admitted,
           age_at_event as age
    from care_event
    where route_of_access = 'discharge_from_hospital'
      and ((organisation = 'DCC' and event_type = 'request')
           or (organisation = 'DCHS' and event_type in ('referral', 'inpatient_spell')))
      and start_date is not null
    union all
    -- DHSC: discharge destination not 49-52, 79, 87, 88 (and 98: not discharged), not died
    -- in hospital, admission before discharge (Admission_Date < Discharge_Date).
    select person_key, end_date, start_date, age_at_end
    from care_event
    where organisation = 'DCHS' and event_type = 'inpatient_spell'
      and end_date is not null
      and start_date < end_date
      and coalesce(outcome, '') <> 'died'
      and coalesce(discharge_destination_code, '')
          not in ('49', '50', '51', '52', '79', '87', '88', '98')
),
-- Admissions the records show without SUS: a DCC event ending 'Admitted to hospital' and a
-- community hospital discharge to an NHS hospital ward (49-52, 87); both at their end date.
admission_signals as (
    select person_key, end_date as admitted
    from care_event
    where end_date is not null
      and (outcome = 'admitted_to_hospital'
           or (organisation = 'DCHS' and event_type = 'inpatient_spell'
               and discharge_destination_code in ('49', '50', '51', '52', '87')))
),
-- A discharge without an admission date takes the latest admission seen in the
-- ACUTE_STAY_MAX_DAYS before it (DHSC: Admission_Date < Discharge_Date); none seen -> unknown.
with_admission as (
    select v.person_key, v.discharge, v.age,
           coalesce(v.admitted, (
               select max(s.admitted) from admission_signals s
               where s.person_key = v.person_key
                 and s.admitted < v.discharge
                 and s.admitted >= v.discharge - params.acute_stay_max_days)) as admitted
    from evidence v
    cross join params
),
-- One discharge per person and day (several records may show the same one).
discharges as (
    select person_key, discharge, max(age) as age, max(admitted) as admitted
    from with_admission
    group by person_key, discharge
),
-- Stage 2: aged 65+ at discharge, not in long-term residential / nursing support on the
-- admission date (DHSC: Admission_Date BETWEEN start and end). An unknown admission came
-- before the discharge: the day before it is tested, so a placement from the discharge day
-- does not exclude.
eligible as (
    select d.*
    from discharges d
    where d.age >= 65
      and not exists (
          select 1 from lts l
          where l.person_key = d.person_key
            and coalesce(d.admitted, d.discharge - 1) between l.start_date and l.end_date
      )
),
-- Stage 3, once per period as DHSC runs the procedure: of the eligible discharges in the
-- period (Discharge_Date BETWEEN the period's dates), the latest from 7 days before to 3
-- days after the cluster starts, admitted no later than the cluster start. A cluster with
-- discharges either side of a period's edge is linked in both periods.
candidates as (
    select c.person_key, c.cluster_no, c.cluster_start, d.discharge
    from clusters c
    join eligible d on d.person_key = c.person_key
    cross join params
    where d.discharge >= c.cluster_start - params.discharge_before_days
      and d.discharge <= c.cluster_start + params.discharge_after_days
      and (d.admitted is null or d.admitted <= c.cluster_start)
),
-- Periods: calendar quarter and financial year of the discharge.
candidate_periods as (
    select cast(date_trunc('quarter', discharge) as date) as period_start,
           cast(cast(date_trunc('quarter', discharge) as date) + interval '3 months' as date) - 1
               as period_end,
           k.*
    from candidates k
    union all
    select make_date(cast(extract(year from discharge) as integer)
                     - case when extract(month from discharge) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from discharge) as integer)
                     + case when extract(month from discharge) < 4 then 0 else 1 end, 3, 31),
           k.*
    from candidates k
),
linked as (
    select period_start, period_end, person_key, cluster_no, cluster_start,
           max(discharge) as discharge
    from candidate_periods
    group by period_start, period_end, person_key, cluster_no, cluster_start
),
-- Death: the earliest recorded - person.date_of_death, or the end of an event ending in
-- death (DCC 'NFA - Deceased', DCHS discharge method 4 or destination 79). DHSC: the CLD
-- Date_of_Death; an outcome of death is the same fact recorded on the event.
deaths as (
    select person_key, min(died_on) as date_of_death
    from (
        select person_key, date_of_death as died_on from person
        where date_of_death is not null
        union all
        select person_key, end_date from care_event
        where outcome = 'died' and end_date is not null
    ) recorded
    group by person_key
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
    select person_key, admitted, discharge from discharges
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
               select 1 from lts l
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
    join discharges d on d.person_key = k.person_key and d.discharge = k.discharge
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
