-- ASCOF 2D stage 1 (CLD cleaned), DHSC's procedure Create_ASCOF2D (ASC-CLD-LA-Dashboard,
-- ASCOF_measures/Create_ASCOF_2D.sql): DCC rows of service users only, with an end on or
-- after the start or no end. DHSC: Client_Type_Cleaned = 'Service User'. Reads: care_event.
select e.event_id, e.person_key, e.event_type, e.service_category, e.start_date,
       coalesce(e.end_date, date '9999-01-01') as end_date
from care_event e
where e.organisation = 'DCC'
  and e.client_type = 'service_user'
  and (e.end_date is null or e.end_date >= e.start_date)
