"""`make run`'s progress: one line per task, read from ``airflow dags test``'s log.

The full log goes to a file; the terminal gets, per night, each task with its time and
a few counts from the value it returned (XCom carries small JSON only: counts, paths,
run ids, never data), and one line when the night ends.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
_RETURNED = re.compile(r"Done\. Returned value was: (\{.*\}) \[airflow")
_FAILED = re.compile(r"(AirflowFailException|Task failed with exception|\[error\s*\])(.*)")
_SKIPPED = re.compile(r"AirflowSkipException|Skipping task|Task instance is in skipped state")


def _total(value) -> int | None:
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, int))
    return value if isinstance(value, int) else None


def counts_of(task: str, result: dict) -> str:
    """A few words of counts from a task's returned value."""
    short = task.rsplit(".", 1)[-1]
    picks: dict[str, Callable[[dict], str]] = {
        "dcc": lambda r: f"{_total(r.get('rows')):,} rows",
        "dchs": lambda r: (
            f"{_total(r.get('rows')):,} rows from {r.get('drops', 0)} drop(s), "
            f"{r.get('rejected', 0)} held"
        ),
        "validate_sources": lambda r: (
            f"{r.get('quarantined', 0):,} quarantined, {r.get('warnings', 0):,} warnings"
        ),
        "pseudonymise": lambda r: (
            f"{r.get('person_records', 0):,} records, {r.get('events', 0):,} events"
        ),
        "link_people": lambda r: (
            f"{r.get('persons', 0):,} people, {r.get('review_queue', 0):,} pairs to review"
        ),
        "build_tables": lambda r: (
            f"{r.get('person', 0):,} people, {r.get('care_event', 0):,} care events"
        ),
        "publish": lambda r: f"{len(r.get('published') or {})} tables",
    }
    pick = picks.get(short)
    if pick is None:
        return ""
    try:
        return pick(result)
    except (TypeError, ValueError):
        return ""


@dataclass
class NightProgress:
    """Follows one night's log lines; ``lines`` gathers what the terminal shows."""

    night: str
    clock: Callable[[], float] = time.monotonic
    lines: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: bool = False
    _started: dict[str, float] = field(default_factory=dict)
    _result: dict[str, dict] = field(default_factory=dict)
    _current: str | None = None

    def feed(self, line: str) -> str | None:
        """Take one log line; return a progress line to show, if it ends a task."""
        if m := _START.search(line):
            self._current = m.group(1)
            self._started[self._current] = self.clock()
            return None
        if m := _RETURNED.search(line):
            try:
                value = ast.literal_eval(m.group(1))
            except (ValueError, SyntaxError):
                value = {}
            if self._current and isinstance(value, dict):
                self._result[self._current] = value
            return None
        if _SKIPPED.search(line):
            self.skipped = True
        if (m := _FAILED.search(line)) and self._current:
            self.failed.append(f"{self._current}: {m.group(2).strip()[:300]}")
        if m := _END.search(line):
            task = m.group(1)
            took = self.clock() - self._started.get(task, self.clock())
            shown = f"  {task:<32} {took:6.1f}s  {counts_of(task, self._result.get(task, {}))}"
            self.lines.append(shown.rstrip())
            return shown.rstrip()
        return None


def follow(
    night: str, lines: Iterable[str], log, show: Callable[[str], None], **kwargs
) -> NightProgress:
    """Copy every line to ``log`` (a text file) and ``show`` the progress lines."""
    progress = NightProgress(night, **kwargs)
    for line in lines:
        log.write(line)
        shown = progress.feed(line)
        if shown:
            show(shown)
    log.flush()
    return progress
