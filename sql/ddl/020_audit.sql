-- audit: what each night did. Append per run; a re-run of a run id replaces its rows.
create table if not exists audit.pipeline_run (
    run_id            text not null,
    night             date not null,
    status            text not null,          -- published | failed
    full_refresh      boolean,
    key_version       text,
    tokens_path       text,                   -- state this run produced (tokens zone)
    dcc_extracted     bigint, dcc_published     bigint, dcc_quarantined  bigint, dcc_merged  bigint,
    dchs_extracted    bigint, dchs_published    bigint, dchs_quarantined bigint, dchs_merged bigint,
    persons           bigint,
    persons_both      bigint,
    started_at        timestamp,
    finished_at       timestamp,
    timings_json      text,
    error             text
);
create table if not exists audit.row_accounting (
    run_id       text not null,
    source       text not null,
    table_name   text not null,
    extracted    bigint not null,
    published    bigint not null,
    quarantined  bigint not null,
    merged       bigint not null,
    balanced     boolean not null
);
create table if not exists audit.watermark (
    source       text primary key,
    watermark    timestamp,
    run_id       text
);
create table if not exists audit.dchs_drop (
    drop_date        text primary key,
    manifest_sha256  text not null,
    rows_total       bigint not null,
    run_id           text not null
);
create table if not exists audit.drop_rejection (
    run_id     text not null,
    drop_date  text not null,
    reason     text not null
);
create table if not exists audit.validation_result (
    run_id            text not null,
    suite             text not null,
    rows_in           bigint,
    rows_quarantined  bigint,
    rows_warned       bigint,
    success           boolean,
    rules_evaluated   bigint,
    data_docs_path    text
);
create table if not exists audit.quarantine (
    run_id            text not null,
    source            text not null,
    table_name        text not null,
    source_record_id  text,
    source_file       text,
    source_row        text,
    rule              text not null,
    severity          text not null,
    description       text not null
);
create table if not exists audit.linkage_summary (
    run_id    text not null,
    measure   text not null,
    value     double precision
);
create table if not exists audit.task_failure (
    run_id     text,
    dag_id     text,
    task_id    text,
    failed_at  timestamp,
    error      text
);
-- The warehouse schema the pipeline last applied: a fingerprint of sql/ddl, sql/views and
-- the data dictionary's comments. A night whose fingerprint matches (and whose tables,
-- columns and views all exist) skips the DDL (transforms.warehouse.schema_version).
create table if not exists audit.schema_version (
    fingerprint  text not null,
    applied_at   timestamp not null
);
