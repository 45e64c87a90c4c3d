-- ASCOF 2B / 2C admissions, DHSC's procedure Create_ASCOF2BC_2425_Onwards (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql), steps 1-4: one row per person and
-- financial year with a new long-term residential / nursing admission, with its age band.
-- Reads: care_event, person, deaths, params.
with
-- DHSC step 1: CLD service rows of service users (Client_Type_Cleaned = 'Service User'),
-- Long Term Support: Residential or Nursing care, with a known age at the service start.
res_nurs as (
    select e.event_id, e.person_key, e.start_date, e.end_date, e.outcome,
           e.age_at_event as age, dd.date_of_death, p.district
    from care_event e
    join person p on p.person_key = e.person_key
    left join deaths dd on dd.person_key = e.person_key
    where e.organisation = 'DCC'
      and e.event_type = 'service'
      and e.client_type = 'service_user'
      and e.service_category in ('long_term_residential', 'long_term_nursing')
      and e.age_at_event is not null
),
-- Financial year of each service start (1 April - 31 March).
dated as (
    select r.*,
           make_date(cast(extract(year from r.start_date) as integer)
                     - case when extract(month from r.start_date) < 4 then 1 else 0 end, 4, 1)
               as period_start
    from res_nurs r
),
-- DHSC step 2: admissions in the year; a service ended 'NFA: Self-funded client or under 12wk
-- disregard' is not one; people who died before the year are left out.
admissions as (
    select d.*, cast(d.period_start + interval '1 year' as date) - 1 as period_end
    from dated d
    where (d.outcome is null or d.outcome <> 'self_funded')
      and (d.date_of_death is null or d.date_of_death >= d.period_start)
),
-- DHSC step 3: new unless another residential / nursing service of the person started
-- earlier and was open, or ended less than 365 days before this one started.
new_admissions as (
    select a.*
    from admissions a
    cross join params
    where not exists (
        select 1 from res_nurs b
        where b.person_key = a.person_key
          and b.start_date < a.start_date
          and (b.end_date is null or a.start_date - b.end_date < params.new_admission_lookback_days)
    )
)
-- DHSC step 4: one row per person and year, in the younger band if admitted in both;
-- under-18s left out.
select period_start, period_end, person_key, max(district) as district,
       min(case when age between 18 and 64 then '18-64' when age > 64 then '65+' end) as band
from new_admissions
where age >= 18
group by period_start, period_end, person_key
