"""Link people: deterministic links on NHS number tokens, then Splink over tokens and
Bloom filters; reviewers' decisions win; person keys stay stable across nights."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext, safe_name
from transforms.nightly.results import Links, NightPlan, Tokens
from transforms.nightly.timing import timed

log = logging.getLogger(__name__)


@contextmanager
def unobserved_levels_summarised():
    """Splink warns once per comparison level that a training pass saw no pair at (its m
    keeps the prior); here those warnings become one line."""
    seen: list[str] = []

    class Gather(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            if "not observed in dataset" not in message:
                return True
            seen.append(message.split("WARNING:")[-1].strip().split(" not observed")[0])
            return False

    splink_log = logging.getLogger("splink.internals.expectation_maximisation")
    gather = Gather()
    splink_log.addFilter(gather)
    try:
        yield
    finally:
        splink_log.removeFilter(gather)
        if seen:
            log.info(
                "linkage training: %d comparison level(s) had no pairs in a training pass, "
                "so their m stays at its starting value there: %s",
                len(set(seen)),
                "; ".join(sorted(set(seen))),
            )


def night_model(ctx: RunContext, plan: NightPlan, active: pd.DataFrame) -> tuple[dict, bool]:
    """The linkage model tonight scores with, written into tonight's tokens folder, and
    whether it was carried from the night tonight builds on: a full night trains one;
    an incremental night carries the last published night's."""
    from transforms.link.training import load_model, save_model, train_model

    out = artifacts.path_of(ctx, artifacts.LINKAGE_MODEL)
    carried = artifacts.previous(plan.previous_tokens, artifacts.LINKAGE_MODEL, required=False)
    if carried is not None and not plan.full_refresh:
        model = load_model(carried)
        save_model(model, out)
        return model, True
    out.parent.mkdir(parents=True, exist_ok=True)
    with unobserved_levels_summarised():
        return train_model(active, model_out=out, link_settings=ctx.settings.link), False


def tonights_records(tokens: Tokens) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every record, for the index (DCC's merges included), and the active ones, with
    their tokens and Bloom filters, for the linkage (filtered as they are read)."""
    import pyarrow.dataset as ds

    records = Path(tokens.folder) / artifacts.PERSON_RECORDS.file
    people = pd.read_parquet(
        records, columns=["source", "source_record_id", "record_status", "merged_into_record_id"]
    )
    status = ds.field("record_status")
    active = pd.read_parquet(records, filters=(status != "Merged") | status.is_null())
    return people, active


def probabilistic_pairs(ctx, plan: NightPlan, tokens: Tokens, active) -> tuple:
    """Splink's scored pairs (kept in the tokens folder: the next night starts from
    them), how they were scored, and the model they were scored with."""
    from transforms.link.backend import link_backend
    from transforms.link.incremental import score_pairs

    model, carried = night_model(ctx, plan, active)
    scored_before = (
        artifacts.previous(plan.previous_tokens, artifacts.SCORED_PAIRS, required=False)
        if carried
        else None
    )
    pairs, mode = score_pairs(
        active,
        model,
        backend=link_backend(ctx.settings.link),
        link_settings=ctx.settings.link,
        previous=pd.read_parquet(scored_before) if scored_before is not None else None,
        changed=pd.read_parquet(Path(tokens.folder) / artifacts.CHANGED_RECORDS.file),
    )
    artifacts.write_parquet(ctx, artifacts.SCORED_PAIRS, pairs)
    return pairs, mode, model


def linkage_summary(mode, people, active, index, counts, queue, new_events) -> dict:
    return {
        "incremental_linkage": int(mode == "incremental"),
        "records": len(people),
        "active_records": len(active),
        "persons": int(index.person_key.nunique()),
        **counts,
        "review_queue": len(queue),
        "keys_created": int((new_events.event == "created").sum()),
        "keys_merged": int((new_events.event == "merged_into").sum()),
        "keys_split": int((new_events.event == "split_from").sum()),
    }


@timed("link")
def link_people(ctx: RunContext, plan: NightPlan, tokens: Tokens) -> Links:
    """Tonight's person index, key history and review queue."""
    from transforms.link.deterministic import deterministic_pairs
    from transforms.link.edges import link_edges
    from transforms.link.person_index import assign_person_keys
    from transforms.link.review_queue import review_queue
    from transforms.warehouse.identity import read_identity

    people, active = tonights_records(tokens)
    engine = ctx.warehouse()
    try:
        previous, history, decisions = read_identity(engine)
    finally:
        engine.dispose()
    prob, mode, model = probabilistic_pairs(ctx, plan, tokens, active)
    edges, review, counts = link_edges(deterministic_pairs(active), prob, decisions, people)
    index, new_events = assign_person_keys(
        people, edges, previous, history, run_id=ctx.run_id, night=ctx.night
    )
    # the key history only grows: tonight publishes its own events (run-scoped), and a
    # re-run of the night keeps those its earlier attempt published
    history = pd.concat([history[history["run_id"] == ctx.run_id], new_events], ignore_index=True)
    queue = review_queue(review, ctx.run_id)
    summary = linkage_summary(mode, people, active, index, counts, queue, new_events)
    report = linkage_report(ctx, edges, prob, index, len(queue), model)
    summary.update({k: v for k, v in report.items() if k != "path"})
    log.info(
        "linkage: %s; report %s",
        ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()
        ),
        report["path"],
    )
    return Links(
        person_index_file=str(artifacts.write_parquet(ctx, artifacts.PERSON_INDEX, index)),
        key_history_file=str(artifacts.write_parquet(ctx, artifacts.KEY_HISTORY, history)),
        review_queue_file=str(artifacts.write_parquet(ctx, artifacts.REVIEW_QUEUE, queue)),
        summary_file=str(artifacts.write_json(ctx, artifacts.LINKAGE_SUMMARY, summary)),
        model_file=str(artifacts.path_of(ctx, artifacts.LINKAGE_MODEL)),
        report=report["path"],
        persons=summary["persons"],
        review_queue=len(queue),
    )


def linkage_report(
    ctx: RunContext,
    edges: pd.DataFrame,
    scored: pd.DataFrame,
    index: pd.DataFrame,
    queued: int,
    model: dict,
) -> dict:
    """The night's HTML linkage report; accuracy against ground truth when there is one."""
    from transforms.link.accuracy import evaluate_against_truth
    from transforms.link.report.index_page import write_linkage_index
    from transforms.link.report.page import write_linkage_report

    truth_path = ctx.settings.ground_truth
    metrics = None
    if truth_path is not None:
        truth = pd.read_parquet(truth_path)
        seen = index[["source", "source_record_id"]].astype(str)
        truth = truth.astype({"source": str, "source_record_id": str}).merge(seen)
        metrics = evaluate_against_truth(index, truth)
    path = write_linkage_report(
        ctx.settings.reports_dir / "linkage" / f"{ctx.night}_{safe_name(ctx.run_id)}.html",
        route_counts=edges["route"].value_counts().to_dict(),
        pairs=scored,
        review_queue_size=queued,
        truth_metrics=metrics,
        model=model,
        night=str(ctx.night),
        run_id=ctx.run_id,
    )
    write_linkage_index(path.parent)
    out = {"path": str(path)}
    if metrics:
        out.update({f"truth_{k}": float(v) for k, v in metrics.items() if k != "mode"})
    return out
