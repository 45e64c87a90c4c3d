"""Build the tables: the unified person, care event, Pathway 2 stay and measure tables
from the tokens state and the person index. The output suites and the row accounting
gate the publish: a breach or an unbalanced count stops the night here."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext
from transforms.nightly.results import CheckedSources, Links, NightPlan, Tables, Tokens
from transforms.nightly.timing import timed

log = logging.getLogger(__name__)

OUTPUT_SUITES = ["person", "care_event", "pathway2_stay", "metric"]


def build_columns() -> list[str]:
    """The tokens-state columns the build reads: no token but the date of birth's (for
    conflicts), and no Bloom filter."""
    from transforms.contracts import PERSON_RECORD

    return [c for c in PERSON_RECORD if not c.startswith(("tok_", "clk_")) or c == "tok_dob"]


def keyed_records(tokens: Tokens, index: pd.DataFrame) -> pd.DataFrame:
    """Every person record of the tokens state with its person key and link probability."""
    people = pd.read_parquet(
        Path(tokens.folder) / artifacts.PERSON_RECORDS.file, columns=build_columns()
    )
    return people.merge(
        index[["source", "source_record_id", "person_key", "link_probability"]],
        on=["source", "source_record_id"],
        how="inner",
        validate="one_to_one",
    )


def person_tables(ctx: RunContext, keyed: pd.DataFrame, events_file: Path):
    """``person`` and ``person_conflict``, from the linked records and each record's
    first and last event (events of records DCC merged into another count towards the
    survivor's activity)."""
    from transforms.tables.event_reads import record_spans
    from transforms.tables.person import build_person_tables

    linked = keyed[keyed.record_status != "Merged"].reset_index(drop=True)
    spans = record_spans(events_file).merge(
        keyed[["source", "source_record_id", "person_key"]],
        on=["source", "source_record_id"],
        how="left",
    )
    person, conflict, _ = build_person_tables(linked, spans=spans, as_of=ctx.night)
    return person, conflict


def care_events(ctx, plan, tokens, keyed, index):
    """``(rebuilt, replaced, rows, activity)``: the care events built tonight, the ids
    they replace (None on a full build), the table's rows after tonight, and the
    non-contact events the stays and measures are built from. The whole table is kept
    in the tokens state (a base and the changes since) for the next night."""
    from transforms.tables import care_event_state
    from transforms.tables.care_event_state import CareEventState
    from transforms.tables.incremental import care_events_to_build, without_contacts

    folder = Path(tokens.folder)
    base = artifacts.previous(plan.previous_tokens, artifacts.CARE_EVENTS, required=False)
    rebuilt, replaced = care_events_to_build(
        keyed,
        folder / artifacts.SOURCE_EVENTS.file,
        base=base,
        index=index,
        run_id=ctx.run_id,
        changed_records=folder / artifacts.CHANGED_RECORDS.file,
        changed_events=folder / artifacts.CHANGED_EVENTS.file,
    )
    if replaced is None:
        rows = care_event_state.write_base(rebuilt, folder)
        activity = without_contacts(rebuilt)
    else:
        rows = care_event_state.refresh(CareEventState(base.parent), rebuilt, replaced, folder)
        activity = care_event_state.read_table(CareEventState(folder), contacts=False)
    return rebuilt, replaced, rows, activity


def validation_results(ctx, checked: CheckedSources, outcomes, docs_index) -> pd.DataFrame:
    """``audit.validation_result``: tonight's source and output suites."""
    import json

    sources = json.loads(Path(checked.suites_file).read_text())["suites"]
    return pd.DataFrame(
        [
            {
                "run_id": ctx.run_id,
                "suite": s["suite"],
                "rows_in": s.get("rows_in"),
                "rows_quarantined": s.get("rows_quarantined"),
                "rows_warned": s.get("rows_warned"),
                "success": s.get("success"),
                "rules_evaluated": s.get("rules_evaluated"),
                "data_docs_path": str(docs_index),
            }
            for s in [*sources, *[o.summary for o in outcomes]]
        ]
    )


def stays_and_measures(ctx: RunContext, person: pd.DataFrame, activity: pd.DataFrame):
    """``pathway2_stay`` and ``metric``, from the people and their non-contact events."""
    from transforms.tables.measures import compute_measures
    from transforms.tables.pathway2 import build_pathway2_stays
    from transforms.tables.population import load_population

    stays = build_pathway2_stays(activity)
    population = ctx.settings.population_file
    metric = compute_measures(
        person,
        activity,
        stays,
        as_of=ctx.night,
        population=load_population(population) if population else None,
    )
    return stays, metric


def check_outputs(ctx: RunContext, tables: dict, rebuilt: pd.DataFrame):
    """The output suites' outcomes and the Data Docs index. An incremental night checks
    the care events it rebuilt: the rows it kept passed these rules the night they were
    built, and their person keys are unchanged."""
    from transforms.validation import build_data_docs, validate_output_table

    keys = pd.Index(tables["person"]["person_key"])  # looked up in Arrow, not a Python set
    checked_tables = {**tables, "care_event": rebuilt}
    outcomes = [
        validate_output_table(
            name,
            checked_tables[name],
            run_id=ctx.run_id,
            docs_dir=ctx.data_docs_dir,
            suites_dir=ctx.settings.expectations_dir,
            context={"person_keys": keys},
        )
        for name in OUTPUT_SUITES
    ]
    return outcomes, build_data_docs(ctx.data_docs_dir, ctx.settings.expectations_dir)


def row_accounting(ctx, checked: CheckedSources, index, rebuilt) -> pd.DataFrame:
    """Every landed row's fate: published, quarantined or merged. Every event landed
    tonight was rebuilt, so the rebuilt rows are enough to find them."""
    from transforms.nightly.accounting import COLUMNS, account

    landing = {
        name: pd.read_parquet(path, columns=COLUMNS[name]) for name, path in checked.landing.items()
    }
    quarantine = pd.read_parquet(checked.quarantine_file)
    return account(landing, quarantine, index, rebuilt["event_id"], run_id=ctx.run_id)


def write_tables(ctx, tables: dict, rebuilt, replaced, care_event_rows: int) -> dict:
    """The built tables' files for the publish; their counts, written as the summary."""
    files = {
        name: str(artifacts.write_parquet(ctx, artifacts.SHARED_CARE_TABLES[name], frame))
        for name, frame in tables.items()
    }
    if replaced is not None:
        files["care_event.rebuilt"] = str(
            artifacts.write_parquet(ctx, artifacts.CARE_EVENTS_REBUILT, rebuilt)
        )
        files["care_event.replaced"] = str(
            artifacts.write_parquet(
                ctx, artifacts.CARE_EVENTS_REPLACED, replaced.to_frame("event_id")
            )
        )
    counts = {name: len(frame) for name, frame in tables.items()}
    counts["care_event"] = care_event_rows
    counts["care_event_rebuilt"] = len(rebuilt)
    counts["care_event_incremental"] = int(replaced is not None)
    counts["persons_both"] = int((tables["person"]["known_to"] == "both").sum())
    files["summary"] = str(artifacts.write_json(ctx, artifacts.BUILD_SUMMARY, counts))
    return {"files": files, "counts": counts}


@timed("build")
def build_tables(
    ctx: RunContext, plan: NightPlan, checked: CheckedSources, tokens: Tokens, links: Links
) -> Tables:
    """The night's tables, checked, accounted for and written for the publish."""
    from transforms.nightly.accounting import check_balanced
    from transforms.validation import raise_for_breaches

    index = pd.read_parquet(links.person_index_file)
    keyed = keyed_records(tokens, index)
    tables: dict[str, pd.DataFrame] = {}
    events_file = Path(tokens.folder) / artifacts.SOURCE_EVENTS.file
    tables["person"], tables["person_conflict"] = person_tables(ctx, keyed, events_file)
    rebuilt, replaced, care_event_rows, activity = care_events(ctx, plan, tokens, keyed, index)
    del keyed
    tables["pathway2_stay"], tables["metric"] = stays_and_measures(ctx, tables["person"], activity)
    del activity

    outcomes, docs_index = check_outputs(ctx, tables, rebuilt)
    accounting = row_accounting(ctx, checked, index, rebuilt)
    accounting_file = artifacts.write_parquet(ctx, artifacts.ROW_ACCOUNTING, accounting)
    validation_file = artifacts.write_parquet(
        ctx, artifacts.VALIDATION_RESULT, validation_results(ctx, checked, outcomes, docs_index)
    )
    raise_for_breaches(outcomes, docs_index)
    check_balanced(accounting)

    written = write_tables(ctx, tables, rebuilt, replaced, care_event_rows)
    files, counts = written["files"], written["counts"]
    log.info("built %s; accounting balanced for %d tables", counts, len(accounting))
    return Tables(
        files={name: files[name] for name in tables},
        tokens_folder=tokens.folder,
        accounting_file=str(accounting_file),
        validation_file=str(validation_file),
        summary_file=files["summary"],
        care_event_rows=care_event_rows,
        care_event_rebuilt_file=files.get("care_event.rebuilt"),
        care_event_replaced_file=files.get("care_event.replaced"),
        persons=counts["person"],
        persons_both=counts["persons_both"],
    )
