-- Discharge to usual place of residence: of hospital discharges ending alive in the period,
-- the share to the person's usual place of residence (NHS England / BCF metric; destination
-- code 19). Every hospital discharge the records show: community hospital discharges (their
-- destination code) and acute discharges seen through DCC requests, DCHS referrals and
-- community hospital admissions from hospital (their destination read from what follows).
-- Reads: care_event, params.
-- Shared rules (sql/measures/shared/): history.
with
-- Community hospital discharges: destination 19 = usual residence; 79 / died = death.
community as (
    select person_key, end_date as discharge, 'community_hospital' as setting,
           age_at_end as age,
           case when discharge_destination_code = '19' then 1 else 0 end as home,
           case when discharge_destination_code = '79' or outcome = 'died' then 1 else 0 end
               as died
    from care_event
    where organisation = 'DCHS' and event_type = 'inpatient_spell' and end_date is not null
),
-- Acute discharges (no acute data: the evidence of one), one per person and day.
acute as (
    select person_key, start_date as discharge, max(age_at_event) as age
    from care_event
    where route_of_access = 'discharge_from_hospital'
      and ((organisation = 'DCC' and event_type = 'request')
           or (organisation = 'DCHS' and event_type in ('referral', 'inpatient_spell')))
      and start_date is not null
    group by person_key, start_date
),
-- Not home when the same day shows a community hospital admission from hospital, or a
-- Community Support Bed or a long-term residential / nursing placement starts within
-- CARE_HOME_AFTER_BED_DAYS.
acute_destination as (
    select a.person_key, a.discharge, 'acute' as setting, a.age,
           case when exists (
                    select 1 from care_event e cross join params
                    where e.person_key = a.person_key
                      and ((e.organisation = 'DCHS' and e.event_type = 'inpatient_spell'
                            and e.route_of_access = 'discharge_from_hospital'
                            and e.start_date = a.discharge)
                           or (e.organisation = 'DCC' and e.event_type = 'service'
                               and e.service_category in ('st_max_bed', 'long_term_residential',
                                                          'long_term_nursing')
                               and e.start_date between a.discharge
                                   and a.discharge + params.care_home_after_bed_days)))
                then 0 else 1 end as home,
           0 as died
    from acute a
),
discharges as (
    select d.* from (select * from community union all select * from acute_destination) d
    cross join params
    where d.discharge < params.as_of and d.died = 0
),
periods as (
    select cast(date_trunc('quarter', discharge) as date) as period_start,
           cast(cast(date_trunc('quarter', discharge) as date) + interval '3 months' as date) - 1
               as period_end,
           d.*
    from discharges d
    union all
    select make_date(cast(extract(year from discharge) as integer)
                     - case when extract(month from discharge) < 4 then 1 else 0 end, 4, 1),
           make_date(cast(extract(year from discharge) as integer)
                     + case when extract(month from discharge) < 4 then 0 else 1 end, 3, 31),
           d.*
    from discharges d
),
-- Breakdowns: all, setting (acute | community_hospital), age group.
long as (
    select period_start, period_end, 'all' as breakdown, home from periods
    union all
    select period_start, period_end, 'setting:' || setting, home from periods
    union all
    select period_start, period_end,
           case when age between 18 and 64 then 'age_group:18-64'
                when age >= 65 then 'age_group:65+' end, home
    from periods where age >= 18
),
counts as (
    select period_start, period_end, breakdown, sum(home) as k, count(*) as n
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
