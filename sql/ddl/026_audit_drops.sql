-- audit: DCHS drops held back and the operator's acceptance of a held drop as a correction.
alter table audit.drop_rejection add column if not exists kind text;
create table if not exists audit.drop_acceptance (
    drop_date        text not null,
    manifest_sha256  text not null,
    accepted_by      text not null,
    accepted_at      timestamp not null,
    reason           text not null
);
