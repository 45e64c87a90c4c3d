-- shared_care: what dashboards read. Pseudonymised: no name, NHS number, full date of
-- birth, address or full postcode. Keys are random surrogates from the person index.
create table if not exists shared_care.person (
    person_key            text primary key,
    sex                   text,
    age_band              text,
    ethnicity_group       text,
    district              text,
    death_month           text,
    communication_need    text,
    interpreter_language  text,
    unpaid_carer          boolean,
    known_to              text,
    first_seen            date,
    last_seen             date,
    source_record_count   bigint,
    min_link_probability  double precision
);
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
    age_band                    text
);
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
