"""Publish: everything tonight changes, in one transaction, only if tonight still builds
on the published head. Then the landing zone (clear identifiers) is deleted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from transforms.nightly.context import RunContext
from transforms.nightly.results import CheckedSources, Landed, Links, NightPlan, Tables
from transforms.nightly.timing import read_timings, timed

log = logging.getLogger(__name__)

SOURCES = ("dcc", "dchs")
COUNTS = ("extracted", "published", "quarantined", "merged")
QUARANTINE_COLUMNS = [
    "run_id", "source", "table_name", "source_record_id", "source_file",
    "source_row", "rule", "severity", "description",
]  # fmt: skip


def run_row(ctx: RunContext, plan: NightPlan, tables: Tables, accounting: pd.DataFrame) -> dict:
    """The night's ``audit.pipeline_run`` row."""
    from transforms.warehouse.lineage import Head

    based_on = Head.from_dict(plan.based_on)
    by_source = accounting.groupby("source")[list(COUNTS)].sum()

    def count(source: str, what: str) -> int:
        return int(by_source.loc[source, what]) if source in by_source.index else 0

    return {
        "run_id": ctx.run_id,
        "night": ctx.night,
        "status": "published",
        "full_refresh": plan.full_refresh,
        "key_version": plan.key_version,
        "tokens_path": tables.tokens_folder,
        **{f"{src}_{what}": count(src, what) for src in SOURCES for what in COUNTS},
        "persons": tables.persons,
        "persons_both": tables.persons_both,
        "started_at": pd.Timestamp(plan.started_at),
        "finished_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "timings_json": json.dumps(read_timings(ctx), sort_keys=True),
        "error": None,
        "generation": based_on.generation + 1,
        "based_on_run_id": based_on.run_id,
        "key_fingerprint": plan.key_fingerprint,
    }


def source_findings(run_id: str, findings: list[dict]) -> pd.DataFrame:
    """``audit.source_finding`` rows from the DCC extract's findings."""
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "source": "dcc",
                "table_name": f["table"],
                "finding": f["finding"],
                "row_count": int(f["rows"]),
                "detail": f.get("detail"),
            }
            for f in findings
        ],
        columns=["run_id", "source", "table_name", "finding", "row_count", "detail"],
    )


def care_event_changes(tables: Tables):
    """``(replace, upsert)`` for ``shared_care.care_event``: the whole table on a full
    night, else the rebuilt rows over the ids they replace."""
    from transforms.tables.care_event_state import CareEventState, read_table
    from transforms.warehouse.publish import Upsert

    if not tables.care_event_incremental:
        folder = Path(tables.tokens_folder)
        return {"shared_care.care_event": read_table(CareEventState(folder))}, {}
    return {}, {
        "shared_care.care_event": Upsert(
            rows=pd.read_parquet(tables.care_event_rebuilt_file),
            column="event_id",
            replaced=pd.read_parquet(tables.care_event_replaced_file)["event_id"],
            expected_rows=tables.care_event_rows,
        )
    }


def publish_plan(ctx, plan, dcc, dchs, checked, links, tables):
    """The one transaction's contents (``warehouse.publish.PublishPlan``)."""
    from transforms.warehouse.lineage import Head
    from transforms.warehouse.publish import PublishPlan, metric_history

    dcc_summary = json.loads(Path(dcc.summary_file).read_text())
    dchs_summary = json.loads(Path(dchs.summary_file).read_text())
    accounting = pd.read_parquet(tables.accounting_file)
    quarantine = pd.read_parquet(checked.quarantine_file)
    replace = {f"shared_care.{n}": pd.read_parquet(path) for n, path in tables.files.items()}
    whole, upsert = care_event_changes(tables)
    replace.update(whole)
    replace["identity.person_index"] = pd.read_parquet(links.person_index_file)
    replace["identity.review_queue"] = pd.read_parquet(links.review_queue_file)
    linkage = json.loads(Path(links.summary_file).read_text())
    return PublishPlan(
        run_id=ctx.run_id,
        replace=replace,
        upsert=upsert,
        run_scoped={
            "audit.pipeline_run": pd.DataFrame([run_row(ctx, plan, tables, accounting)]),
            "audit.row_accounting": accounting,
            "audit.quarantine": quarantine[QUARANTINE_COLUMNS],
            "audit.validation_result": pd.read_parquet(tables.validation_file),
            "audit.linkage_summary": pd.DataFrame(
                [
                    {"run_id": ctx.run_id, "measure": k, "value": float(v)}
                    for k, v in linkage.items()
                ]
            ),
            "identity.person_key_history": pd.read_parquet(links.key_history_file),
            "audit.source_finding": source_findings(ctx.run_id, dcc_summary.get("findings", [])),
            "audit.drop_rejection": pd.DataFrame(
                [{"run_id": ctx.run_id, **r} for r in dchs_summary["rejected"]],
                columns=["run_id", "drop_date", "kind", "reason"],
            ),
        },
        # every night's figures are kept: a night published again replaces its own
        sliced={
            "shared_care.metric_history": metric_history(
                replace["shared_care.metric"], run_id=ctx.run_id, as_of=ctx.night
            )
        },
        watermarks={"dcc": dcc.watermark} if dcc.watermark else {},
        ingested_drops=pd.DataFrame(
            dchs_summary["drops"], columns=["drop_date", "manifest_sha256", "rows_total"]
        ),
        based_on=Head.from_dict(plan.based_on),
    ), dchs_summary["rejected"]


@timed("publish")
def publish(
    ctx: RunContext,
    plan: NightPlan,
    dcc: Landed,
    dchs: Landed,
    checked: CheckedSources,
    links: Links,
    tables: Tables,
) -> dict:
    """Everything tonight changes, in one transaction; then the dashboard copy and page."""
    from transforms.extract.landing import remove_landing
    from transforms.warehouse import publish as warehouse

    contents, held = publish_plan(ctx, plan, dcc, dchs, checked, links, tables)
    engine = ctx.warehouse()
    try:
        written = warehouse.publish(engine, contents)
        if written and not contents.upsert:  # a full night: the large tables were replaced
            warehouse.settle_after_full_publish(engine)
        if ctx.settings.dashboard_copy is not None:
            warehouse.refresh_dashboard_copy(engine, ctx.settings.dashboard_copy)
    finally:
        engine.dispose()
    # published: the clear identifiers of tonight's landing are no longer needed
    remove_landing(ctx.landing_dir)
    if held:
        from transforms.notify import notify_held_drops

        for r in held:
            log.warning("DCHS drop %s held (%s): %s", r["drop_date"], r.get("kind"), r["reason"])
        notify_held_drops(ctx.run_id, held)
    return {
        "held_drops": [r["drop_date"] for r in held],
        "published": written,
        "persons": tables.persons,
        "persons_both": tables.persons_both,
        "dashboard": write_dashboard_page(ctx),
    }


def write_dashboard_page(ctx: RunContext) -> str | None:
    """The partnership dashboard from the published warehouse; its path, or None when it
    could not be rendered (logged: the night is published all the same)."""
    from transforms.reports.dashboard import write_dashboard

    engine = ctx.warehouse()
    try:
        return str(write_dashboard(engine, ctx.settings.reports_dir / "dashboard"))
    except Exception:  # noqa: BLE001 - a page for people must not fail a published night
        log.exception("dashboard not rendered; the night is published")
        return None
    finally:
        engine.dispose()
