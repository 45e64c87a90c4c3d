"""Prepare: check the key, bring the warehouse schema up to date, and decide what the
night builds on (the published head, the watermark, the drops, full refresh or not)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext
from transforms.nightly.results import NightPlan
from transforms.nightly.timing import timed

log = logging.getLogger(__name__)


@timed("prepare")
def prepare(ctx: RunContext, key) -> NightPlan:
    """The night's plan. Refuses (and touches nothing) when the run already published,
    the night is older than the published one, or the key is not the one recorded."""
    from transforms.extract.landing import sweep_expired_landing
    from transforms.keys import check_fingerprint
    from transforms.nightly.last_published import read_last_published
    from transforms.warehouse.db import describe
    from transforms.warehouse.lineage import AlreadyPublishedError, read_head, refuse_older_night
    from transforms.warehouse.schema_version import ensure_current_schema

    engine = ctx.warehouse()
    try:
        ensure_current_schema(engine)
        with engine.connect() as conn:
            head = read_head(conn)
        if head.run_id == ctx.run_id:
            raise AlreadyPublishedError(
                f"run {ctx.run_id} already published night {ctx.night} ({head.describe()}); "
                "nothing to do. Trigger a new run of the night to rebuild it."
            )
        refuse_older_night(head, ctx.night)
        recorded, recorded_by = recorded_fingerprint(engine, key.version)
        check_fingerprint(key, recorded, recorded_by)
        full_refresh = ctx.full_refresh
        last = read_last_key_version(engine)
        rotated = last is not None and last != key.version
        if rotated:
            log.warning(
                "pseudonymisation key version changed (%s -> %s): re-tokenising every "
                "record with a full refresh; person keys are kept by the person index",
                last,
                key.version,
            )
            full_refresh = True
        published = read_last_published(engine, full_refresh=full_refresh)
        if not full_refresh and tokens_contract_changed(published.tokens_path):
            full_refresh = True
            published = read_last_published(engine, full_refresh=True)
    finally:
        engine.dispose()
    sweep_expired_landing(ctx.settings.runs_dir, ctx.settings.landing_retention_days)
    plan = NightPlan(
        full_refresh=full_refresh,
        key_version=key.version,
        key_fingerprint=key.fingerprint,
        key_rotated=rotated,
        based_on=head.as_dict(),
        started_at=datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
        last_run_id=published.last_run_id,
        previous_tokens=published.tokens_path,
        dcc_watermark=published.dcc_watermark,
        ingested_drops=published.ingested_drops,
        accepted_drops=published.accepted_drops,
        plan_file=str(artifacts.path_of(ctx, artifacts.PLAN)),
    )
    artifacts.write_json(ctx, artifacts.PLAN, plan.to_xcom())
    log.info(
        "night %s run %s: warehouse %s, full_refresh=%s, building on %s",
        ctx.night,
        ctx.run_id,
        describe(ctx.settings.warehouse_url),
        full_refresh,
        head.describe(),
    )
    return plan


def tokens_contract_changed(tokens_path: str | None) -> bool:
    """True when the last published tokens state lacks a column tonight's code writes
    (or has one it no longer writes): the night then rebuilds from all source data, as
    a full refresh, rather than carry the old shape forward."""
    import pyarrow.parquet as pq

    from transforms.contracts import PERSON_RECORD, SOURCE_EVENT

    if not tokens_path:
        return False
    for artifact, contract in (
        (artifacts.PERSON_RECORDS, PERSON_RECORD),
        (artifacts.SOURCE_EVENTS, SOURCE_EVENT),
    ):
        path = Path(tokens_path) / artifact.file
        if path.exists() and set(pq.read_schema(path).names) != set(contract):
            log.warning(
                "the tokens state %s was written under another contract (%s): this night "
                "rebuilds from all source data, as a full refresh",
                path,
                artifact.file,
            )
            return True
    return False


def read_last_key_version(engine) -> str | None:
    from transforms.warehouse.publish import read_frame

    last = read_frame(
        engine,
        "select key_version from audit.pipeline_run where status = 'published' "
        "order by finished_at desc limit 1",
    )
    return None if last.empty else last.key_version.iloc[0]


def recorded_fingerprint(engine, version: str) -> tuple[str | None, str | None]:
    """The key fingerprint last recorded for ``version``, and the run that recorded it
    (none for a new version, or runs from before fingerprints were kept)."""
    from transforms.warehouse.publish import read_frame

    found = read_frame(
        engine,
        "select key_fingerprint, run_id from audit.pipeline_run "
        "where key_version = :v and key_fingerprint is not null "
        "order by finished_at desc limit 1",
        v=version,
    )
    if found.empty:
        return None, None
    return str(found.key_fingerprint.iloc[0]), str(found.run_id.iloc[0])
