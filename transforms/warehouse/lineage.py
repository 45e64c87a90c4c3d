"""Publishing only moves forward.

Each published run has a *generation*: one more than the generation of the published
run it was built on. The prepare step reads the head (the latest published run) and
the night builds on it; the publish transaction locks the run table, reads the head
again and refuses, touching nothing, when it is no longer the one the night built on.
So a stale build (a failed night's publish re-run after a later night published, or
two runs sharing one data folder) can never take the warehouse back.

An older night than the head's is refused before anything is extracted: its source
changes are already in the later night's publish, and its figures would be dated
before what dashboards already show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import Connection, text


class StalePublishError(RuntimeError):
    """The warehouse moved on since the night's build began; nothing was published."""


class OlderNightError(RuntimeError):
    """The night is older than the latest published night; nothing was extracted."""


class AlreadyPublishedError(RuntimeError):
    """This very run already published: a cleared run has nothing left to do."""


@dataclass(frozen=True)
class Head:
    """The latest published run: its generation (0 before the first publish)."""

    generation: int = 0
    run_id: str | None = None
    night: date | None = None
    based_on_run_id: str | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["night"] = self.night.isoformat() if self.night else None
        return out

    @classmethod
    def from_dict(cls, payload: dict) -> Head:
        night = payload.get("night")
        return cls(
            generation=int(payload.get("generation") or 0),
            run_id=payload.get("run_id"),
            night=date.fromisoformat(night) if night else None,
            based_on_run_id=payload.get("based_on_run_id"),
        )

    def describe(self) -> str:
        if self.run_id is None:
            return "nothing published yet"
        return f"run {self.run_id} (night {self.night}, generation {self.generation})"


def read_head(conn: Connection) -> Head:
    """The latest published run. Runs published before generations were recorded count
    as generation 0 and are ordered by when they finished."""
    row = conn.execute(
        text(
            "select coalesce(generation, 0), run_id, night, based_on_run_id "
            "from audit.pipeline_run where status = 'published' "
            "order by coalesce(generation, 0) desc, finished_at desc limit 1"
        )
    ).first()
    if row is None:
        return Head()
    night = row[2]
    if night is not None and not isinstance(night, date):
        night = date.fromisoformat(str(night)[:10])
    elif hasattr(night, "date") and callable(night.date):  # a datetime
        night = night.date()
    return Head(int(row[0]), str(row[1]), night, row[3])


def lock_runs(conn: Connection) -> None:
    """Serialise publishes (PostgreSQL; DuckDB has one writer at a time anyway).
    Readers of the run table are not blocked."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("lock table audit.pipeline_run in share row exclusive mode"))


def refuse_older_night(head: Head, night: date) -> None:
    """Raise :class:`OlderNightError` when ``night`` is before the head's night."""
    if head.night is not None and night < head.night:
        raise OlderNightError(
            f"night {night} is older than the latest published night ({head.describe()}). "
            "Publishing it would take the warehouse back, so nothing was extracted. Its "
            f"source changes up to then are already in the publish of {head.night}. To "
            "rebuild from all source data, trigger a new run of the latest night with "
            "full_refresh=true (docs/runbook.md, 'Re-run one night')."
        )


def check_forward(conn: Connection, based_on: Head, run_id: str) -> bool:
    """Inside the publish transaction: True when ``run_id`` may publish on top of the
    head, False when it already did (a retried publish whose commit went through).
    Raises :class:`StalePublishError` when the head is not ``based_on``."""
    lock_runs(conn)
    head = read_head(conn)
    if (head.generation, head.run_id) == (based_on.generation, based_on.run_id):
        return True
    if (
        head.run_id == run_id
        and head.based_on_run_id == based_on.run_id
        and head.generation == based_on.generation + 1
    ):
        return False
    raise StalePublishError(
        f"run {run_id} was built on {based_on.describe()}, but the warehouse has moved on: "
        f"the latest published is {head.describe()}. Publishing this build would take "
        "the warehouse back, so nothing was published. When the latest is a later night, "
        "there is nothing to do: it carries this night's source changes. When it is the "
        "same night, trigger a new run of it to rebuild on top of the latest "
        "(docs/runbook.md, 'Recover from a failed publish')."
    )
