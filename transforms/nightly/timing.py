"""Each stage's wall time, kept in the run folder for ``audit.pipeline_run.timings_json``."""

from __future__ import annotations

import functools
import json
import logging
import time

from transforms.nightly.context import RunContext

log = logging.getLogger(__name__)


def timed(name: str):
    """Decorator of a stage taking the run's context first: log its wall time, and keep
    it in the run folder (``timings/<name>.json``)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(ctx: RunContext, *args, **kwargs):
            started = time.monotonic()
            result = fn(ctx, *args, **kwargs)
            took = round(time.monotonic() - started, 1)
            log.info("%s took %.1fs", name, took)
            path = ctx.run_dir / "timings" / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"seconds": took}))
            return result

        return inner

    return wrap


def read_timings(ctx: RunContext) -> dict[str, float]:
    """Each finished stage's wall time in seconds, as the stages recorded it."""
    folder = ctx.run_dir / "timings"
    return {
        path.stem: float(json.loads(path.read_text())["seconds"])
        for path in sorted(folder.glob("*.json"))
    }
