-- ASCOF 2D stages 1 and 3 (Create_ASCOF_2D.sql): reablement clusters and the eligible
-- discharges each may be linked to. Part 1's cohort and part 2's numerator.
-- Reads: ascof_2d_cld, ascof_2d_eligible, params.
with
-- Stage 1: reablement events - Short Term Support: ST-Max, component Reablement.
reablement as (
    select person_key, start_date, end_date, event_id from ascof_2d_cld
    where event_type = 'service' and service_category = 'reablement'
),
-- Stage 1: cluster reablement events no more than 7 days apart (or overlapping): an event
-- starts a cluster unless it starts within 7 days of the latest end before it.
ordered as (
    select r.*,
           max(end_date) over (partition by person_key order by start_date, end_date, event_id
                               rows between unbounded preceding and 1 preceding) as previous_end
    from reablement r
),
flagged as (
    select o.*,
           case when o.previous_end is not null
                 and o.start_date - o.previous_end <= params.cluster_gap_days
                then 0 else 1 end as cluster_start_flag
    from ordered o
    cross join params
),
numbered as (
    select f.*,
           sum(cluster_start_flag) over (partition by person_key order by start_date, end_date,
                                          event_id rows unbounded preceding) as cluster_no
    from flagged f
),
clusters as (
    select person_key, cluster_no, min(start_date) as cluster_start
    from numbered
    group by person_key, cluster_no
)
-- Stage 3, once per period as DHSC runs the procedure: of the eligible discharges in the
-- period (Discharge_Date BETWEEN the period's dates), the latest from 7 days before to 3
-- days after the cluster starts, admitted no later than the cluster start. A cluster with
-- discharges either side of a period's edge is linked in both periods.
select c.person_key, c.cluster_no, c.cluster_start, d.discharge
from clusters c
join ascof_2d_eligible d on d.person_key = c.person_key
cross join params
where d.discharge >= c.cluster_start - params.discharge_before_days
  and d.discharge <= c.cluster_start + params.discharge_after_days
  and (d.admitted is null or d.admitted <= c.cluster_start)
