-- ASCOF 2B / 2C rates, DHSC's procedure Create_ASCOF2BC_2425_Onwards (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql): per financial year and age band
-- (18-64 for 2B, 65+ for 2C), new admissions of county residents per 100,000 of the
-- county's population of the band. Reads: ascof_2bc_per_person, history, population,
-- params.
with
-- Residents of the county only: a person whose district is known to be outside the county
-- (Derby City: population.in_county false) is not counted; one with no district recorded
-- is a client of the council and is (person.district is a district name).
out_of_county as (
    select distinct district_name from population where not in_county
),
bands as (
    select '18-64' as band
    union all
    select '65+'
),
counted as (
    select pp.period_start, pp.period_end, b.band,
           sum(case when pp.band = b.band
                     and (params.has_population = 0
                          or pp.district is null
                          or pp.district not in (select district_name from out_of_county))
                    then 1 else 0 end) as numerator
    from ascof_2bc_per_person pp
    cross join bands b
    cross join params
    group by pp.period_start, pp.period_end, b.band
),
-- Denominator: the county's population of the band.
denominator as (
    select age_band as band, sum(population) as population
    from population
    where in_county
    group by age_band
)
select c.band,
       c.period_start,
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
left join denominator d on d.band = c.band
