-- shared_care: what dashboards read. Pseudonymised: no name, NHS number, full date of
-- birth, address or full postcode. Keys are random surrogates from the person index.
create table if not exists shared_care.person (
    person_key            text primary key,
    sex                   text,
    age_band              text,
    ethnicity_group       text,
    district              text,
    death_month           text,
    date_of_death         date,
    communication_need    text,
    need_recorded_by      text,
    interpreter_language  text,
    unpaid_carer          boolean,
    known_to              text,
    first_seen            date,
    last_seen             date,
    source_record_count   bigint,
    min_link_probability  double precision
);
alter table shared_care.person add column if not exists date_of_death date;
alter table shared_care.person add column if not exists need_recorded_by text;
create table if not exists shared_care.person_conflict (
    person_key   text not null,
    attribute    text not null,
    n_distinct   bigint,
    sources      text,
    detected_on  date
);
create table if not exists shared_care.care_event (
    event_id                    text primary key,
    person_key                  text not null,
    organisation                text not null,
    event_type                  text not null,
    setting                     text,
    pathway                     text,
    service_category            text,
    start_date                  date,
    end_date                    date,
    outcome                     text,
    route_of_access             text,
    discharge_destination_code  text,
    age_at_event                bigint,
    age_band                    text,
    age_at_end                  bigint,
    client_type                 text
);
-- Warehouses created before these columns existed get them here (idempotent, both engines).
alter table shared_care.care_event add column if not exists age_at_end bigint;
alter table shared_care.care_event add column if not exists client_type text;
-- A person's timeline is a lookup by person_key (a sequential scan without it). DuckDB
-- refuses ALTER TABLE on an indexed table: drop this index before adding a column.
create index if not exists care_event_person_key on shared_care.care_event (person_key);
create table if not exists shared_care.pathway2_stay (
    stay_id               text primary key,
    person_key            text not null,
    episode_start         date,
    episode_end           date,
    settings              text,
    n_stays               bigint,
    length_of_stay_days   bigint,
    exit_destination      text,
    age_at_admission      bigint,
    entry_route           text
);
-- Warehouses created before entry_route existed get it here (idempotent, both engines).
alter table shared_care.pathway2_stay add column if not exists entry_route text;
create table if not exists shared_care.metric (
    measure_id          text not null,
    measure_name        text,
    period_start        date,
    period_end          date,
    breakdown           text,
    numerator           double precision,
    denominator         double precision,
    value               double precision,
    status              text,
    definition_version  text,
    as_of               date
);
-- Every night's metric rows, for trends (shared_care.metric holds the latest night only).
-- A night published again replaces its own rows (as_of); other nights' rows stay.
create table if not exists shared_care.metric_history (
    measure_id          text not null,
    measure_name        text,
    period_start        date,
    period_end          date,
    breakdown           text,
    numerator           double precision,
    denominator         double precision,
    value               double precision,
    status              text,
    definition_version  text,
    as_of               date not null,
    run_id              text not null
);
