-- ASCOF 2C: new long-term residential / nursing admissions of people aged 65+, per
-- 100,000 population aged 65+. Rules from DHSC's procedure Create_ASCOF2BC_2425_Onwards
-- (ASC-CLD-LA-Dashboard, ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql).
-- Reads: care_event, person, population, params. One row per financial year with an admission.
with
-- The earliest date the sources show: a period or look-back before it is not covered.
history as (
    select min(start_date) as history_start from care_event
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
),
-- DHSC step 4: one row per person and year, in the younger band if admitted in both;
-- under-18s left out.
per_person as (
    select period_start, period_end, person_key, max(district) as district,
           min(case when age between 18 and 64 then '18-64' when age > 64 then '65+' end) as band
    from new_admissions
    where age >= 18
    group by period_start, period_end, person_key
),
-- Residents of the county only: the population scopes the numerator (person.district is
-- a district name).
in_county as (
    select distinct district_name from population where in_county
),
counted as (
    select pp.period_start, pp.period_end,
           sum(case when pp.band = '65+'
                     and (params.has_population = 0
                          or pp.district in (select district_name from in_county))
                    then 1 else 0 end) as numerator
    from per_person pp
    cross join params
    group by pp.period_start, pp.period_end
),
-- Denominator: the county's population aged 65 and over.
denominator as (
    select sum(population) as population
    from population
    where in_county and age_band = '65+'
)
select c.period_start,
       c.period_end,
       'all' as breakdown,
       cast(c.numerator as double precision) as numerator,
       case when params.has_population = 1 then cast(d.population as double precision) end
           as denominator,
       case when params.has_population = 1 and d.population > 0
            then cast(c.numerator as double precision) * 100000 / d.population end as value,
       case
           when params.has_population = 0 then 'no_population'
           -- the year, or the 365-day look-back deciding whether an admission is new, starts
           -- before the history the sources hold
           when h.history_start is null
                or c.period_start - params.new_admission_lookback_days < h.history_start
               then 'partial_history'
           when c.period_end >= params.as_of
                or c.period_end + params.late_recording_days >= params.as_of then 'provisional'
           else 'final'
       end as status
from counted c
cross join params
cross join history h
cross join denominator d
order by c.period_start
