-- Schemas of the warehouse (DESIGN §6).
create schema if not exists shared_care;
create schema if not exists identity;
create schema if not exists audit;
