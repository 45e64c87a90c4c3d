-- Older people (65+) still at home 91 days after discharge from hospital into
-- reablement / rehabilitation: SALT STS004, the legacy ASCOF 2B(1) and the Better Care Fund
-- metric, across both organisations. The discharge that counts is the one INTO reablement,
-- from an acute or a community hospital (SALT STS004 guidance: discharges from acute or
-- community hospitals). Reads: care_event, person, pathway2_stay, params.
-- Shared rules (sql/measures/shared/): history, deaths, hospital_discharges (the stand-in
-- for SUS, as in ASCOF 2D).
with
-- STS004: reablement / rehabilitation services - DCC START (ST-Max, Reablement) of service
-- users, DCHS reablement (team 52) and home-based intermediate care (53) referrals, and DCC
-- Community Support Bed stays (rehabilitation in a care home bed). A community hospital is
-- a hospital, not the rehabilitation.
units as (
    select person_key, start_date, coalesce(end_date, date '9999-01-01') as end_date,
           event_id, case when service_category = 'st_max_bed' then 'bed' else 'home' end as kind
    from care_event
    where start_date is not null
      and ((organisation = 'DCC' and event_type = 'service' and client_type = 'service_user'
            and service_category in ('reablement', 'st_max_bed'))
           or (organisation = 'DCHS' and event_type = 'referral'
               and service_category in ('reablement', 'home_intermediate_care')))
),
-- Services no more than 7 days apart (or overlapping) are one spell of reablement (DHSC
-- ASCOF 2D's clustering), so one discharge is counted once.
ordered as (
    select u.*,
           max(end_date) over (partition by person_key order by start_date, end_date, event_id
                               rows between unbounded preceding and 1 preceding) as previous_end
    from units u
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
    select person_key, cluster_no, min(start_date) as cluster_start,
           -- route: the first service of the spell (a home service on a tie)
           min(case when kind = 'home' then start_date end) as home_start
    from numbered
    group by person_key, cluster_no
),
-- The discharge into reablement: the latest hospital discharge from 7 days before to 3 days
-- after the spell starts (DHSC ASCOF 2D's window), admitted (where known) no later than the
-- spell's start.
linked as (
    select c.person_key, c.cluster_no, c.cluster_start,
           case when c.home_start = c.cluster_start then 'home' else 'bed' end as route,
           max(d.discharge) as discharge
    from clusters c
    join hospital_discharges d on d.person_key = c.person_key
    cross join params
    where d.discharge >= c.cluster_start - params.discharge_before_days
      and d.discharge <= c.cluster_start + params.discharge_after_days
      and (d.admitted is null or d.admitted <= c.cluster_start)
    group by c.person_key, c.cluster_no, c.cluster_start, c.home_start
),
-- Aged 65+ at the discharge; not already living in a care home (a long-term residential /
-- nursing placement open on the discharge date).
cohort as (
    select k.*, d.age, k.discharge + params.still_at_home_days as day_91
    from linked k
    join hospital_discharges d on d.person_key = k.person_key and d.discharge = k.discharge
    cross join params
    where d.age >= 65
      and not exists (
          select 1 from care_event l
          where l.person_key = k.person_key
            and l.organisation = 'DCC' and l.event_type = 'service'
            and l.service_category in ('long_term_residential', 'long_term_nursing')
            and l.start_date < k.discharge
            and (l.end_date is null or l.end_date >= k.discharge)
      )
),
-- Admissions seen without acute data: a DCC event ending 'Admitted to hospital', a community
-- hospital discharge to an NHS ward - unless inside a Pathway 2 episode (a transfer).
acute_signals as (
    select s.person_key, s.end_date as admitted
    from care_event s
    where s.end_date is not null
      and (s.outcome = 'admitted_to_hospital'
           or (s.organisation = 'DCHS' and s.event_type = 'inpatient_spell'
               and s.discharge_destination_code in ('49', '50', '51', '52', '87')))
      and not exists (
          select 1 from pathway2_stay p
          where p.person_key = s.person_key
            and s.end_date >= p.episode_start
            and s.end_date < coalesce(p.episode_end, date '9999-01-01')
      )
),
-- An inferred acute stay lasts to the next acute discharge evidence or Pathway 2 admission
-- within ACUTE_STAY_MAX_DAYS, else INFERRED_ACUTE_LOS_DAYS.
acute_ends as (
    select person_key, start_date as ended from care_event
    where route_of_access = 'discharge_from_hospital'
      and ((organisation = 'DCC' and event_type = 'request')
           or (organisation = 'DCHS' and event_type in ('referral', 'inpatient_spell')))
      and start_date is not null
    union all
    select person_key, episode_start from pathway2_stay where episode_start is not null
),
acute_stays as (
    select a.person_key, a.admitted,
           coalesce((select min(e.ended) from acute_ends e
                     where e.person_key = a.person_key
                       and e.ended >= a.admitted
                       and e.ended <= a.admitted + params.acute_stay_max_days),
                    a.admitted + params.inferred_acute_los_days) as ended
    from acute_signals a
    cross join params
),
flags as (
    select c.person_key, c.discharge, c.route, c.age,
           case when c.day_91 < params.as_of then 1 else 0 end as closed,
           -- (a) died by day 91
           case when dd.date_of_death <= c.day_91 then 1 else 0 end as died,
           -- (b) in a bed at the end of day 91: a Pathway 2 episode or an inferred acute stay
           case when exists (
                    select 1 from pathway2_stay b
                    where b.person_key = c.person_key
                      and b.episode_start <= c.day_91
                      and coalesce(b.episode_end, date '9999-01-01') > c.day_91)
                  or exists (
                    select 1 from acute_stays s
                    where s.person_key = c.person_key
                      and s.admitted <= c.day_91 and s.ended > c.day_91)
                then 1 else 0 end as in_bed,
           -- (c) a new long-term residential / nursing placement, or a community hospital
           -- discharge to a care home, from the discharge to day 91
           case when exists (
                    select 1 from care_event l
                    where l.person_key = c.person_key
                      and l.organisation = 'DCC' and l.event_type = 'service'
                      and l.service_category in ('long_term_residential', 'long_term_nursing')
                      and l.start_date between c.discharge and c.day_91)
                  or exists (
                    select 1 from care_event h
                    where h.person_key = c.person_key
                      and h.organisation = 'DCHS' and h.event_type = 'inpatient_spell'
                      and h.discharge_destination_code in ('54', '55', '56', '65', '85')
                      and h.end_date between c.discharge and c.day_91)
                then 1 else 0 end as care_home,
           case when c.age between 65 and 74 then '65-74'
                when c.age between 75 and 84 then '75-84'
                when c.age >= 85 then '85+' end as age_band,
           p.sex, p.known_to
    from cohort c
    left join person p on p.person_key = c.person_key
    left join deaths dd on dd.person_key = c.person_key
    cross join params
),
outcomes as (
    select f.*, case when died + in_bed + care_home = 0 then 1 else 0 end as at_home
    from flags f
),
-- Periods: calendar quarter and financial year of the discharge.
periods as (
    select cast(date_trunc('quarter', discharge) as date) as period_start,
           cast(cast(date_trunc('quarter', discharge) as date) + interval '3 months' as date) - 1
               as period_end,
           f.*
    from outcomes f
    union all
    select make_date(cast(extract(year from discharge) as integer)
                     - case when extract(month from discharge) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from discharge) as integer)
                     + case when extract(month from discharge) < 4 then 0 else 1 end, 3, 31),
           f.*
    from outcomes f
),
-- Breakdowns: all, age band, sex, route, known_to, and the share not at home per reason.
long as (
    select period_start, period_end, 'all' as breakdown, closed as den, closed * at_home as num
    from periods
    union all
    select period_start, period_end, 'age_band:' || age_band, closed, closed * at_home
    from periods where age_band is not null
    union all
    select period_start, period_end, 'sex:' || sex, closed, closed * at_home
    from periods where sex is not null
    union all
    select period_start, period_end, 'route:' || route, closed, closed * at_home from periods
    union all
    select period_start, period_end, 'known_to:' || known_to, closed, closed * at_home
    from periods where known_to is not null
    union all
    select period_start, period_end, 'outcome:died', closed, closed * died from periods
    union all
    select period_start, period_end, 'outcome:in_bed', closed, closed * in_bed from periods
    union all
    select period_start, period_end, 'outcome:care_home', closed, closed * care_home from periods
),
per_period as (
    select period_start, period_end, sum(closed) as n_closed, sum(1 - closed) as n_pending
    from periods
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
                    or pp.period_end + params.still_at_home_days
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
    -- window:pending: discharges whose 91 days have not passed (denominator; value empty)
    select period_start, period_end, 'window:pending', cast(null as double precision),
           cast(n_pending as double precision), cast(null as double precision)
    from per_period where n_pending > 0
)
select r.period_start, r.period_end, r.breakdown, r.numerator, r.denominator, r.value, s.status
from rows_out r
join status s on s.period_start = r.period_start and s.period_end = r.period_end
order by r.period_start, r.period_end, r.breakdown
