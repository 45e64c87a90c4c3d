-- Admissions the records show without SUS: a DCC event ending 'Admitted to hospital' and a
-- community hospital discharge to an NHS hospital ward (49-52, 87); both at their end date.
-- Reads: care_event.
select person_key, end_date as admitted
from care_event
where end_date is not null
  and (outcome = 'admitted_to_hospital'
       or (organisation = 'DCHS' and event_type = 'inpatient_spell'
           and discharge_destination_code in ('49', '50', '51', '52', '87')))
