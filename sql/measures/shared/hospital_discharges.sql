-- Hospital discharges, one per person and day: the stand-in for SUS (DHSC's ASCOF 2D stage 2
-- takes discharges from SUS; the partnership has none, so they are those the DCC and DCHS
-- records show). Used by ASCOF 2D parts 1 and 2 and still-at-home-91 (SALT STS004).
-- Reads: care_event, admission_signals, params.
with
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
)
-- One discharge per person and day (several records may show the same one).
select person_key, discharge, max(age) as age, max(admitted) as admitted
from with_admission
group by person_key, discharge
