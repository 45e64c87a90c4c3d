-- ASCOF 2D stage 1 (Create_ASCOF_2D.sql): long-term residential / nursing support (DHSC also
-- counts prison support, which the common vocabulary has no category for).
-- Reads: ascof_2d_cld.
select person_key, start_date, end_date from ascof_2d_cld
where event_type = 'service'
  and service_category in ('long_term_residential', 'long_term_nursing')
