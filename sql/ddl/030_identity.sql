-- identity: restricted. Source record ids and the person keys they belong to.
create table if not exists identity.person_index (
    source            text not null,
    source_record_id  text not null,
    person_key        text not null,
    record_status     text not null,       -- active | merged
    link_route        text not null,       -- singleton | deterministic | probabilistic | review | source_merge
    link_probability  double precision,
    first_seen_run    text,
    last_changed_run  text,
    primary key (source, source_record_id)
);
create table if not exists identity.person_key_history (
    person_key        text not null,
    event             text not null,       -- created | merged_into | split_from | retired
    other_person_key  text,
    records           bigint,
    run_id            text not null,
    night             date not null
);
create table if not exists identity.review_queue (
    source_l            text not null,
    source_record_id_l  text not null,
    source_r            text not null,
    source_record_id_r  text not null,
    match_probability   double precision,
    match_weight        double precision,
    evidence            text,
    run_id              text
);
-- Written by reviewers, never by the pipeline's publish: decisions survive every night.
create table if not exists identity.review_decision (
    source_l            text not null,
    source_record_id_l  text not null,
    source_r            text not null,
    source_record_id_r  text not null,
    decision            text not null,       -- match | non-match
    decided_by          text,
    decided_at          timestamp
);
-- Why the reviewer decided (added after the first release: existing warehouses gain it).
alter table identity.review_decision add column if not exists reason text;
