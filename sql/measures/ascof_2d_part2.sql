-- ASCOF 2D part 2 (provision): of hospital discharges of people aged 65+, the share
-- discharged into reablement. Rules from DHSC's procedure Create_ASCOF2D (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2D.sql): the part 2 denominator is every eligible discharge
-- (stage 2), the numerator the reablement clusters linked to one (stage 3, part 1's
-- denominator). DHSC takes discharges from SUS; here they are the discharges the DCC and DCHS
-- records show. Reads: care_event, person, params. No follow-up: nothing is pending.
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
-- period, the latest from 7 days before to 3 days after the cluster starts, admitted no
-- later than the cluster start (as ascof_2d).
candidates as (
    select c.person_key, c.cluster_no, c.cluster_start, d.discharge
    from clusters c
    join eligible d on d.person_key = c.person_key
    cross join params
    where d.discharge >= c.cluster_start - params.discharge_before_days
      and d.discharge <= c.cluster_start + params.discharge_after_days
      and (d.admitted is null or d.admitted <= c.cluster_start)
),
-- Part 2 rows: eligible discharges (denominator, reablement = 0) and the clusters linked in
-- each period (numerator, reablement = 1, on the discharge linked in that period).
provision as (
    select person_key, discharge, 0 as reablement, cast(null as integer) as cluster_no
    from eligible
    union all
    select person_key, discharge, 1, cluster_no from candidates
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
    join eligible d on d.person_key = c.person_key and d.discharge = c.discharge
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
