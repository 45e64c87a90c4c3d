-- Schemas of the warehouse: shared_care (dashboards), identity (restricted), audit (engineers).
create schema if not exists shared_care;
create schema if not exists identity;
create schema if not exists audit;
