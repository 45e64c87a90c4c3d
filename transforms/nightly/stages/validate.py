"""Validate the sources: the source suites over tonight's landing. Bad rows are
quarantined with their file, row, rule and reason; a batch breach stops the night."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext
from transforms.nightly.results import CheckedSources, Landed, NightPlan
from transforms.nightly.timing import timed

log = logging.getLogger(__name__)


def previous_people_and_referrals(plan: NightPlan):
    """From the tokens state tonight builds on: its person records (the columns the
    suites read) and its DCHS referrals (of all its events, only those are read)."""
    from transforms.validation.source_context import PERSON_COLUMNS

    people = artifacts.previous(plan.previous_tokens, artifacts.PERSON_RECORDS)
    if people is None:
        return None, None
    events = artifacts.previous(plan.previous_tokens, artifacts.SOURCE_EVENTS)
    prev_people = pd.read_parquet(people, columns=PERSON_COLUMNS)
    prev_referrals = pd.read_parquet(
        events,
        columns=["source_event_id", "start_date"],
        filters=[("source", "==", "dchs"), ("event_type", "==", "referral")],
    )
    return prev_people, prev_referrals


@timed("validate_sources")
def validate_sources(ctx: RunContext, plan: NightPlan, dcc: Landed, dchs: Landed) -> CheckedSources:
    """Every landed table through its suite, people before events."""
    from transforms.validation import build_data_docs, raise_for_breaches, validate_source_table
    from transforms.validation.source_context import (
        SUITE_ORDER,
        batch_expectations,
        suite_context,
    )

    landing = {**dcc.files, **dchs.files}
    prev_people, prev_referrals = previous_people_and_referrals(plan)
    clean: dict[str, pd.DataFrame] = {}
    outcomes = []
    for name in SUITE_ORDER:
        outcome = validate_source_table(
            name,
            pd.read_parquet(landing[name]),
            run_id=ctx.run_id,
            docs_dir=ctx.data_docs_dir,
            suites_dir=ctx.settings.expectations_dir,
            context={
                **suite_context(name, clean, prev_people, prev_referrals),
                **batch_expectations(
                    name, night=ctx.night, first_or_full=plan.first_or_full, drops=dchs.drops
                ),
            },
        )
        clean[name] = outcome.clean
        outcomes.append(outcome)
    # Data Docs are rendered here only when the night stops here (the error points to
    # them); otherwise the build renders tonight's source and output results in one pass
    if any(o.batch_breaches for o in outcomes):
        docs_index = build_data_docs(ctx.data_docs_dir, ctx.settings.expectations_dir)
    else:
        docs_index = Path(ctx.data_docs_dir).resolve() / "index.html"
    quarantine = pd.concat([o.quarantine for o in outcomes], ignore_index=True)
    findings = pd.concat([o.findings for o in outcomes], ignore_index=True)
    result = CheckedSources(
        landing=landing,
        quarantine_file=str(artifacts.write_parquet(ctx, artifacts.QUARANTINE, quarantine)),
        findings_file=str(artifacts.write_parquet(ctx, artifacts.FINDINGS, findings)),
        suites_file=str(
            artifacts.write_json(
                ctx,
                artifacts.SOURCE_SUITES,
                {"suites": [o.summary for o in outcomes], "data_docs": str(docs_index)},
            )
        ),
        data_docs=str(docs_index),
        quarantined=len(quarantine),
        warnings=len(findings),
    )
    log.info("Data Docs: %s", docs_index)
    raise_for_breaches(outcomes, docs_index)
    return result
