-- Death: the earliest recorded - person.date_of_death, or the end of an event ending in
-- death (DCC 'NFA - Deceased', DCHS discharge method 4 or destination 79). DHSC: the CLD
-- Date_of_Death; an outcome of death is the same fact recorded on the event.
-- Reads: person, care_event.
select person_key, min(died_on) as date_of_death
from (
    select person_key, date_of_death as died_on from person
    where date_of_death is not null
    union all
    select person_key, end_date from care_event
    where outcome = 'died' and end_date is not null
) recorded
group by person_key
