-- ASCOF 2D stage 2 (Create_ASCOF_2D.sql): hospital discharges of people aged 65+ at
-- discharge, not in long-term residential / nursing support on the admission date (DHSC:
-- Admission_Date BETWEEN start and end). An unknown admission came before the discharge: the
-- day before it is tested, so a placement from the discharge day does not exclude.
-- Reads: hospital_discharges, ascof_2d_lts.
select d.*
from hospital_discharges d
where d.age >= 65
  and not exists (
      select 1 from ascof_2d_lts l
      where l.person_key = d.person_key
        and coalesce(d.admitted, d.discharge - 1) between l.start_date and l.end_date
  )
