-- Tell it once: of people known to both organisations with a BSL / interpreter need recorded
-- by either, the share whose need was recorded by one organisation only - which the shared
-- record now shows to the other (snapshot at as_of). Reads: person, params.
with
needs as (
    select person_key, need_recorded_by,
           case when communication_need in ('BSL', 'Interpreter') then communication_need end
               as need,
           case when need_recorded_by in ('dcc', 'dchs') then 1 else 0 end as one_only
    from person
    where known_to = 'both' and need_recorded_by is not null
),
-- Breakdowns: all, the surviving need, and who recorded it (share of the denominator).
long as (
    select 'all' as breakdown, one_only as hit, 1 as den from needs
    union all
    select 'need:' || need, one_only, 1 from needs where need is not null
    union all
    select 'recorded_by:' || r.who || case when r.who = 'both' then '' else '_only' end,
           case when n.need_recorded_by = r.who then 1 else 0 end, 1
    from needs n
    cross join (values ('dcc'), ('dchs'), ('both')) r(who)
),
counts as (
    select breakdown, sum(hit) as k, sum(den) as n from long group by breakdown
)
select params.as_of as period_start, params.as_of as period_end, q.breakdown,
       cast(q.k as double precision) as numerator,
       cast(q.n as double precision) as denominator,
       cast(q.k as double precision) / q.n as value,
       'final' as status
from counts q
cross join params
order by q.breakdown
