-- Publish lineage and key fingerprints. Every published run records the generation it
-- made and the one it was built on, so a publish that is not a step forward is refused
-- (transforms.warehouse.lineage). Warehouses created before these columns get them here.
alter table audit.pipeline_run add column if not exists generation bigint;
alter table audit.pipeline_run add column if not exists based_on_run_id text;
alter table audit.pipeline_run add column if not exists key_fingerprint text;
-- What an extract saw but could not take tonight (rows with no or a future last_updated,
-- held or malformed drops are in audit.drop_rejection): counted, never silent.
create table if not exists audit.source_finding (
    run_id      text not null,
    source      text not null,
    table_name  text not null,
    finding     text not null,
    row_count   bigint not null,
    detail      text
);
