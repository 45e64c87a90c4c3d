-- Tell it once: the share of people in the shared record whose DCC and DCHS records are
-- linked to one person key (snapshot at as_of). Reads: person, params.
with
people as (
    select person_key, age_band, district,
           case when known_to = 'both' then 1 else 0 end as both_orgs
    from person
),
-- Breakdowns: all, age band (person.age_band, at as_of or death), district.
long as (
    select 'all' as breakdown, both_orgs from people
    union all
    select 'age_band:' || coalesce(age_band, 'unknown'), both_orgs from people
    union all
    select 'district:' || district, both_orgs from people where district is not null
),
counts as (
    select breakdown, sum(both_orgs) as k, count(*) as n from long group by breakdown
)
select params.as_of as period_start, params.as_of as period_end, q.breakdown,
       cast(q.k as double precision) as numerator,
       cast(q.n as double precision) as denominator,
       cast(q.k as double precision) / q.n as value,
       'final' as status
from counts q
cross join params
order by q.breakdown
