"""What a suite run returns, and how a batch breach stops the night."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: ``audit.quarantine`` columns (sql/ddl/020_audit.sql); findings use the same.
QUARANTINE_COLUMNS = [
    "run_id",
    "source",
    "table_name",
    "source_record_id",
    "source_file",
    "source_row",
    "rule",
    "severity",
    "description",
]


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in QUARANTINE_COLUMNS})


@dataclass
class ValidationOutcome:
    """One suite over one batch.

    ``clean`` holds the input rows that pass every error rule (input columns, fresh
    index); ``quarantine`` one row per failing input row per error rule; ``findings`` the
    same for warning rules (those rows stay in ``clean``); ``batch_breaches`` the batch
    rules that failed (each ``{"rule", "count", "detail"}``, never a data value).
    """

    suite: str
    clean: pd.DataFrame
    quarantine: pd.DataFrame = field(default_factory=empty_quarantine)
    findings: pd.DataFrame = field(default_factory=empty_quarantine)
    batch_breaches: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.batch_breaches


class BatchValidationError(RuntimeError):
    """A suite's batch rules failed: the night stops before anything downstream runs.

    The message names each breached suite, rule and counts, and the Data Docs index; it
    never carries a data value. ``breaches`` holds the same as ``{"suite", "rule",
    "count", "detail"}`` dicts.
    """

    def __init__(self, message: str, breaches: list[dict], docs_index: Path | str | None):
        super().__init__(message)
        self.breaches = breaches
        self.docs_index = str(docs_index) if docs_index is not None else None


def raise_for_breaches(outcomes: list[ValidationOutcome], docs_index: Path | str | None) -> None:
    """Raise :class:`BatchValidationError` if any outcome breached a batch rule."""
    breaches = [
        {"suite": o.suite, **b} for o in outcomes for b in o.batch_breaches if o.batch_breaches
    ]
    if not breaches:
        return

    def counted(b: dict) -> str:
        count = b.get("count")
        return f" ({count:,} rows)" if isinstance(count, int) and count else ""

    # The first line is what audit.task_failure keeps: suites, rules, counts, Data Docs.
    named = ", ".join(f"{b['suite']}.{b['rule']}{counted(b)}" for b in breaches)
    lines = [
        f"data validation failed, nothing published: {named}; Data Docs: {docs_index}",
        f"{len(breaches)} batch rule(s) breached:",
    ]
    for b in breaches:
        lines.append(f"  - {b['suite']}: {b['rule']}{counted(b)}: {b.get('detail', '')}")
    lines.append(
        f"Data Docs (every rule, with counts and sample values): {docs_index}. "
        "Quarantined source rows are in the run's checks/quarantine.parquet, with file, "
        "row and rule."
    )
    raise BatchValidationError("\n".join(lines), breaches, docs_index)
