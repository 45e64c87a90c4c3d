"""Clerical review of uncertain record pairs: ``python -m transforms.review``.

The nightly publish replaces ``identity.review_queue`` with the pairs Splink scored
inside the review band and nobody has decided yet. Reviewers work it here:

* ``list``: the queue of the newest run, one line per pair, with its short id;
* ``show PAIR``: one pair's evidence, each comparison named by its level label
  ("given name: canonical nickname match") from the model that scored it;
* ``decide PAIR match|non-match --by NAME --reason TEXT``: a row in
  ``identity.review_decision`` with who, when and why. The latest decision on a pair
  wins, and it holds on every later night.

``PAIR`` is :func:`pair_id`: 8 hex digits of a hash of the two source record ids, the
same whichever way round the pair is written and on every night. The queue holds
source record ids and comparison levels of tokens only, so nothing printed here is an
identifier; a reason that looks like one (an NHS number, a full postcode or date) is
refused before anything is written.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from transforms.config import Settings

DECISIONS = ("match", "non-match")
PAIR_KEY = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]
QUEUE_COLUMNS = [*PAIR_KEY, "match_probability", "match_weight", "evidence", "run_id"]

#: Readable names of the model's comparisons (its ``output_column_name``).
COMPARISON_NAMES = {
    "given_name": "given name",
    "family_name": "family name",
    "dob": "date of birth",
    "address": "address",
    "nhs_number": "NHS number",
    "sex": "sex",
}
#: Level labels reworded for a reader; any other label is shown as the model has it.
LEVEL_WORDS = {
    "null": "missing on one or both records",
    "else": "different (no level agrees)",
    "exact": "exact match",
    "equal": "equal",
    "canonical (nickname)": "canonical nickname match",
    "phonetic": "phonetic match",
}

# what a clear identifier looks like in free text: the reason must carry none
_LOOKS_LIKE = {
    "an NHS number": re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"),
    "a full date": re.compile(
        r"(?<!\d)(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})(?!\d)"
    ),
    "a full postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE),
}


class ReviewError(ValueError):
    """A request the review tool refuses; the message says why and what to do."""


def pair_id(source_l: str, record_l: str, source_r: str, record_r: str) -> str:
    """The short stable id of a pair: the same for (l, r) and (r, l), on every night."""
    a, b = sorted([f"{source_l}:{record_l}", f"{source_r}:{record_r}"])
    return hashlib.sha256(f"{a}|{b}".encode()).hexdigest()[:8]


def _with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    ids = [pair_id(*key) for key in frame[PAIR_KEY].astype(str).itertuples(index=False)]
    return frame.assign(pair=pd.Series(ids, index=frame.index, dtype=object))


# ----------------------------------------------------------------------------- reading
def read_queue(engine: Engine) -> pd.DataFrame:
    """The queue of the newest run, with ``pair`` and ``state`` (``pending`` or the
    latest decision, ``match`` / ``non-match``), highest probability first."""
    from transforms.warehouse.publish import read_frame

    queue = read_frame(engine, f"select {', '.join(QUEUE_COLUMNS)} from identity.review_queue")
    if queue.empty:
        return _with_ids(queue).assign(state=pd.Series(dtype=object))
    newest = _newest_run(queue["run_id"].dropna().unique().tolist(), _runs(engine))
    if newest is not None:
        queue = queue[queue["run_id"] == newest]
    queue = _with_ids(queue)
    latest = latest_decisions(engine)
    state = queue["pair"].map(latest.set_index("pair")["decision"]).fillna("pending")
    out = queue.assign(state=state)
    return out.sort_values(["match_probability", "pair"], ascending=[False, True]).reset_index(
        drop=True
    )


def _runs(engine: Engine) -> pd.DataFrame | None:
    """The published runs, or None where this login may not read ``audit`` (a reviewer
    holds ``identity_reviewer`` only)."""
    from sqlalchemy.exc import DBAPIError

    from transforms.warehouse.publish import read_frame

    try:
        return read_frame(engine, "select run_id, generation, finished_at from audit.pipeline_run")
    except DBAPIError:
        return None


def _newest_run(run_ids: list[str], runs: pd.DataFrame | None) -> str | None:
    """Of the queue's runs, the one published last (highest generation, then finish);
    None (keep every row) when that cannot be told: each publish replaces the whole
    queue, so it normally holds one run."""
    if len(run_ids) < 2 or runs is None:
        return None
    known = runs[runs["run_id"].isin(run_ids)]
    if known.empty:
        return None
    return known.sort_values(["generation", "finished_at"], na_position="first").iloc[-1]["run_id"]


def latest_decisions(engine: Engine) -> pd.DataFrame:
    """One row per decided pair (its latest decision), with ``pair``."""
    from transforms.warehouse.publish import read_frame

    decided = read_frame(
        engine,
        f"select {', '.join(PAIR_KEY)}, decision, decided_by, decided_at "
        "from identity.review_decision order by decided_at",
    )
    return _with_ids(decided).drop_duplicates("pair", keep="last")


def find_pair(engine: Engine, pair: str) -> pd.Series:
    """The pair ``pair`` (a full id, or an unambiguous prefix of one) from the queue, or,
    once decided and gone from it, from the decisions."""
    pair = pair.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{3,8}", pair):
        raise ReviewError(f"pair {pair!r}: expected the 8-character id `list` shows")
    queue = read_queue(engine)
    hits = queue[queue["pair"].str.startswith(pair)]
    if hits.empty:
        decided = latest_decisions(engine)
        decided = decided[decided["pair"].str.startswith(pair)]
        hits = decided.assign(
            match_probability=math.nan,
            match_weight=math.nan,
            evidence=None,
            run_id=None,
            state=decided["decision"],
        )
    ids = sorted(set(hits["pair"]))
    if not ids:
        raise ReviewError(f"pair {pair}: not in the review queue nor among the decisions")
    if len(ids) > 1:
        raise ReviewError(f"pair {pair}: ambiguous ({', '.join(ids)}); give all 8 characters")
    return hits.iloc[0]


# ----------------------------------------------------------------------------- labels
def model_for_run(settings: Settings, run_id: str | None) -> tuple[dict | None, Path | None]:
    """The linkage model that scored ``run_id`` (kept in that run's tokens folder), else
    the latest run's; ``(None, None)`` when neither is on disk."""
    from transforms.link.training import load_model
    from transforms.nightly.artifacts import LINKAGE_MODEL
    from transforms.nightly.context import safe_name

    candidates = []
    if run_id:
        candidates += sorted(
            settings.tokens_dir.glob(f"*/{safe_name(run_id)}/{LINKAGE_MODEL.file}")
        )
    candidates += sorted(
        settings.tokens_dir.glob(f"*/*/{LINKAGE_MODEL.file}"),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in candidates:
        if path.exists():
            return load_model(path), path
    return None, None


@dataclass(frozen=True)
class Evidence:
    """One comparison of a pair: its name, the level it reached, and that level's match
    weight (log2 m/u, before term-frequency adjustment) when the model has it."""

    comparison: str
    gamma: int
    label: str
    weight: float | None

    def line(self) -> str:
        weight = "" if self.weight is None else f"  ({self.weight:+.1f})"
        return f"{self.comparison}: {self.label}{weight}"


def level_table(model: dict) -> dict[str, dict[int, dict]]:
    """``{comparison: {gamma: level}}``: Splink numbers a comparison's non-null levels
    from the last (0, ``else``) up to the first; the null level is -1."""
    table: dict[str, dict[int, dict]] = {}
    for comp in model.get("comparisons", []):
        levels = comp["comparison_levels"]
        plain = [lv for lv in levels if not lv.get("is_null_level")]
        by_gamma = {len(plain) - 1 - i: lv for i, lv in enumerate(plain)}
        for lv in levels:
            if lv.get("is_null_level"):
                by_gamma[-1] = lv
        table[comp["output_column_name"]] = by_gamma
    return table


def _weight(level: dict) -> float | None:
    m, u = level.get("m_probability"), level.get("u_probability")
    if level.get("is_null_level") or not m or not u:
        return None
    return math.log2(m / u)


def parse_evidence(evidence: str | None) -> list[tuple[str, int]]:
    """``given_name=4,dob=3`` -> ``[("given_name", 4), ("dob", 3)]``."""
    out = []
    for part in (evidence or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            out.append((name.strip(), int(value)))
    return out


def labelled_evidence(evidence: str | None, model: dict | None) -> list[Evidence]:
    """The pair's comparison levels, each named by the model's level label."""
    table = level_table(model) if model else {}
    out = []
    for name, gamma in parse_evidence(evidence):
        comparison = COMPARISON_NAMES.get(name, name.replace("_", " "))
        level = table.get(name, {}).get(gamma)
        if level is None:
            out.append(Evidence(comparison, gamma, f"level {gamma} (no label in the model)", None))
            continue
        label = level.get("label_for_charts") or f"level {gamma}"
        out.append(Evidence(comparison, gamma, LEVEL_WORDS.get(label, label), _weight(level)))
    return out


# ----------------------------------------------------------------------------- writing
def check_reason(reason: str) -> str:
    """The reason, stripped; refused when empty or when it looks like it carries a clear
    identifier (the message names the kind, never the text)."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("--reason is required: say why, in words")
    for kind, pattern in _LOOKS_LIKE.items():
        if pattern.search(reason):
            raise ReviewError(
                f"--reason looks like it contains {kind}: describe the evidence without "
                "identifiers (nothing was written)"
            )
    return reason


def decide(
    engine: Engine,
    pair: str,
    decision: str,
    *,
    by: str,
    reason: str,
    now: datetime | None = None,
) -> dict:
    """Record ``decision`` on ``pair``; returns the row written (with ``pair``)."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r}: one of {', '.join(DECISIONS)}")
    by = (by or "").strip()
    if not by:
        raise ReviewError("--by is required: who decided")
    reason = check_reason(reason)
    found = find_pair(engine, pair)
    row = {key: str(found[key]) for key in PAIR_KEY}
    row.update(
        decision=decision,
        decided_by=by,
        decided_at=(now or datetime.now(UTC)).replace(tzinfo=None),
        reason=reason,
    )
    with engine.begin() as conn:
        from transforms.warehouse.db import table_columns

        if "reason" not in table_columns(conn, "identity.review_decision"):
            raise ReviewError(
                "identity.review_decision has no reason column yet: the next night's prepare "
                "step applies the schema that adds it (nothing was written)"
            )
        conn.execute(
            text(
                "insert into identity.review_decision "
                f"({', '.join(row)}) values ({', '.join(':' + k for k in row)})"
            ),
            row,
        )
    return {**row, "pair": found["pair"]}


# --------------------------------------------------------------------------------- CLI
def _probability(value) -> str:
    return "     -" if value is None or pd.isna(value) else f"{float(value):.4f}"


def format_list(queue: pd.DataFrame) -> str:
    if queue.empty:
        return "review queue empty"
    run = queue["run_id"].iloc[0]
    pending = int((queue["state"] == "pending").sum())
    lines = [
        f"review queue of run {run}: {len(queue)} pair(s), {pending} pending",
        f"{'pair':8}  {'prob':>6}  {'state':9}  left -> right",
    ]
    for r in queue.itertuples(index=False):
        lines.append(
            f"{r.pair:8}  {_probability(r.match_probability)}  {r.state:9}  "
            f"{r.source_l}:{r.source_record_id_l} -> {r.source_r}:{r.source_record_id_r}"
        )
    return "\n".join(lines)


def format_show(pair: pd.Series, evidence: list[Evidence], model_path: Path | None) -> str:
    lines = [
        f"pair {pair['pair']}: {pair['source_l']}:{pair['source_record_id_l']} -> "
        f"{pair['source_r']}:{pair['source_record_id_r']}",
        f"state: {pair['state']}",
    ]
    if pair.get("run_id") is not None and not pd.isna(pair.get("run_id")):
        lines.append(
            f"match probability {_probability(pair['match_probability']).strip()}, "
            f"match weight {float(pair['match_weight']):.2f} (run {pair['run_id']})"
        )
    if evidence:
        source = (
            str(model_path)
            if model_path
            else "the comparisons as defined today (no saved model found: no weights)"
        )
        lines.append(f"evidence (level; its match weight), labels from {source}:")
        lines += [f"  {e.line()}" for e in evidence]
    else:
        lines.append("no evidence: the pair is no longer in the queue")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from transforms.warehouse.db import make_engine

    ap = argparse.ArgumentParser(
        prog="python -m transforms.review", description=__doc__.split("\n\n")[0]
    )
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the review queue of the newest run")
    show = sub.add_parser("show", help="one pair with labelled evidence")
    show.add_argument("pair")
    dec = sub.add_parser("decide", help="record a decision on a pair")
    dec.add_argument("pair")
    dec.add_argument("decision", choices=DECISIONS)
    dec.add_argument("--by", required=True, help="who decides")
    dec.add_argument("--reason", required=True, help="why, without identifiers")
    args = ap.parse_args(argv)

    settings = Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    try:
        if args.command == "list":
            print(format_list(read_queue(engine)))
        elif args.command == "show":
            pair = find_pair(engine, args.pair)
            model, path = model_for_run(settings, pair.get("run_id"))
            if model is None:
                from transforms.link.comparisons import base_settings

                model = base_settings()
            print(format_show(pair, labelled_evidence(pair.get("evidence"), model), path))
        else:
            row = decide(engine, args.pair, args.decision, by=args.by, reason=args.reason)
            print(
                f"pair {row['pair']}: {row['decision']} recorded by {row['decided_by']} "
                f"at {row['decided_at']:%Y-%m-%d %H:%M:%S} UTC; it holds from the next run"
            )
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
