-- Warehouse roles (docs/production.md). PostgreSQL only; DuckDB has no roles.
--
-- Idempotent: safe to run on every deploy, and again after every schema change.
-- Roles are cluster-global, so they are created once if missing (and a concurrent
-- creation elsewhere is tolerated). Grants, ownership and default privileges belong to a
-- database, so this file is run on EVERY warehouse database (transforms/warehouse/roles.py
-- does it after creating the schema). Run it as an administrator (a superuser, or a role
-- that is a member of pipeline_writer and may create roles).
--
-- | role              | may                                                        |
-- |-------------------|------------------------------------------------------------|
-- | dashboard_reader  | read shared_care                                           |
-- | audit_reader      | read shared_care and audit (engineers, on-call)            |
-- | identity_reader   | read identity (restricted)                                 |
-- | identity_reviewer | identity_reader + add rows to identity.review_decision     |
-- | pipeline_writer   | own and write shared_care, identity, audit (the pipeline)  |
--
-- All are NOLOGIN group roles: people and services log in as their own roles and are
-- granted one of these (transforms/warehouse/roles.py: ensure_login).

do $$
declare
    r text;
begin
    foreach r in array array['dashboard_reader', 'audit_reader', 'identity_reader',
                             'identity_reviewer', 'pipeline_writer'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            begin
                execute 'create role ' || quote_ident(r) || ' nologin';
            exception when duplicate_object or unique_violation then
                null;  -- created concurrently by another database's migration
            end;
        end if;
    end loop;
end
$$;

create schema if not exists shared_care;
create schema if not exists identity;
create schema if not exists audit;

-- Nobody reads or writes anything here unless granted below.
revoke all on schema shared_care from public;
revoke all on schema identity from public;
revoke all on schema audit from public;
revoke all on all tables in schema shared_care from public;
revoke all on all tables in schema identity from public;
revoke all on all tables in schema audit from public;

-- Connecting to this database; the pipeline may also create its schemas if missing.
do $$
begin
    execute 'grant connect, create, temporary on database ' || quote_ident(current_database())
            || ' to pipeline_writer';
    execute 'grant connect on database ' || quote_ident(current_database())
            || ' to dashboard_reader, audit_reader, identity_reader, identity_reviewer';
end
$$;

-- The pipeline owns its schemas and everything in them: its nightly
-- `create ... if not exists` / `create or replace view` need ownership, and publish
-- deletes and inserts in one transaction.
alter schema shared_care owner to pipeline_writer;
alter schema identity owner to pipeline_writer;
alter schema audit owner to pipeline_writer;

do $$
declare
    obj record;
begin
    for obj in
        select n.nspname, c.relname,
               case c.relkind when 'v' then 'view'
                              when 'm' then 'materialized view'
                              when 'S' then 'sequence'
                              when 'f' then 'foreign table'
                              else 'table' end as kind
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('shared_care', 'identity', 'audit')
          and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
          and pg_get_userbyid(c.relowner) <> 'pipeline_writer'
          -- sequences owned by a column follow their table
          and not (c.relkind = 'S' and exists (
                select 1 from pg_depend d
                where d.objid = c.oid and d.deptype in ('a', 'i')))
    loop
        execute 'alter ' || obj.kind || ' ' || quote_ident(obj.nspname) || '.'
                || quote_ident(obj.relname) || ' owner to pipeline_writer';
    end loop;
end
$$;

-- shared_care: dashboards and engineers read it.
grant usage on schema shared_care to dashboard_reader, audit_reader;
grant select on all tables in schema shared_care to dashboard_reader, audit_reader;

-- audit: engineers read it.
grant usage on schema audit to audit_reader;
grant select on all tables in schema audit to audit_reader;

-- identity: restricted. Reviewers add decisions; nobody but the pipeline changes the index.
grant usage on schema identity to identity_reader;
grant select on all tables in schema identity to identity_reader;
grant identity_reader to identity_reviewer;
do $$
begin
    if to_regclass('identity.review_decision') is not null then
        execute 'grant insert on identity.review_decision to identity_reviewer';
    end if;
end
$$;

-- Converge: readers never hold write privileges, whatever was granted by hand before.
revoke insert, update, delete, truncate, references, trigger
    on all tables in schema shared_care from dashboard_reader, audit_reader;
revoke insert, update, delete, truncate, references, trigger
    on all tables in schema audit from audit_reader;
revoke insert, update, delete, truncate, references, trigger
    on all tables in schema identity from identity_reader;
revoke create on schema shared_care from dashboard_reader, audit_reader;
revoke create on schema audit from audit_reader;
revoke create on schema identity from identity_reader, identity_reviewer;

-- Tables and views the pipeline creates later are readable by the same roles at once.
alter default privileges for role pipeline_writer in schema shared_care
    grant select on tables to dashboard_reader, audit_reader;
alter default privileges for role pipeline_writer in schema audit
    grant select on tables to audit_reader;
alter default privileges for role pipeline_writer in schema identity
    grant select on tables to identity_reader;
