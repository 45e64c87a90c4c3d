"""Run a night's stages in order, in this process, measuring each one.

The DAG is how the pipeline runs in production; this runner calls the very same stage
functions with the same results passed between them, for benchmarks, the soak and the
golden test, where per-stage wall time, CPU time and peak memory matter and a
scheduler in between would blur them.
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from transforms.config import Settings
from transforms.nightly.context import LONDON, RunContext
from transforms.nightly.results import Result

log = logging.getLogger(__name__)


@dataclass
class StageFigures:
    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    #: the stage's result as XCom would carry it, with its summary file's counts
    result: dict
    #: the stage's result itself, for the next stage
    output: object = None


def result_figures(output) -> dict:
    """A stage's result as a flat dict: its references and counts, and the counts of
    the summary file it names (if any)."""
    import json
    from pathlib import Path

    if not isinstance(output, Result):
        return dict(output or {})
    payload = output.to_xcom()
    summary = payload.get("summary_file")
    counts = json.loads(Path(summary).read_text()) if summary else {}
    return {**counts, **payload}


def _rss_mb() -> float:
    """Resident set size now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


class PeakMemory:
    """Sample this process's RSS in a thread; ``peak`` is the highest seen, in MB."""

    def __init__(self, every: float = 0.05):
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self.peak = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def measure(stage: str, fn: Callable[[], object]) -> StageFigures:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with PeakMemory() as mem:
        output = fn()
    figures = StageFigures(
        stage=stage,
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
        peak_rss_mb=mem.peak,
        result=result_figures(output),
        output=output,
    )
    log.info(
        "stage %-12s wall %.1fs cpu %.1fs peak %.0f MB",
        stage,
        figures.wall_s,
        figures.cpu_s,
        figures.peak_rss_mb,
    )
    return figures


def night_context(
    settings: Settings, night: date, *, run_id: str | None = None, full_refresh: bool = False
) -> RunContext:
    """The context the DAG would build for a 02:00 Europe/London run on ``night``."""
    local = datetime(night.year, night.month, night.day, 2, tzinfo=ZoneInfo(LONDON))
    return RunContext(
        settings=settings,
        run_id=run_id or f"local__{night.isoformat()}",
        night=night,
        until=local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
        full_refresh=full_refresh,
    )


class NightFailed(RuntimeError):
    """A stage failed: ``figures`` holds the stages before it and the failed one (its
    time until the failure, ``result = {"failed": True}``)."""

    def __init__(self, stage: str, error: str, figures: list[StageFigures]):
        super().__init__(f"stage {stage} failed: {error}")
        self.stage, self.error, self.figures = stage, error, figures


def _child(stage: str, fn: Callable[[], object], conn) -> None:
    try:
        conn.send(("ok", measure(stage, fn)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit
        log.exception("stage %s failed", stage)
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def measure_in_child(stage: str, fn: Callable[[], object]) -> StageFigures:
    """``measure`` in a forked child process, as Airflow runs each task in a process of
    its own: the stage's peak memory is its own, not what earlier stages left behind."""
    import multiprocessing

    mp = multiprocessing.get_context("fork")
    parent, child = mp.Pipe(duplex=False)
    started = time.perf_counter()
    proc = mp.Process(target=_child, args=(stage, fn, child), name=f"stage-{stage}")
    proc.start()
    child.close()
    try:
        status, payload = parent.recv()
    except EOFError:  # killed (e.g. out of memory) before it could report
        status, payload = "error", "the stage's process died without a result"
    proc.join()
    if status == "error" or proc.exitcode:
        figures = StageFigures(stage, time.perf_counter() - started, 0.0, 0.0, {"failed": True})
        raise NightFailed(stage, f"{payload} (exit code {proc.exitcode})", [figures])
    return payload


def run_night(
    ctx: RunContext, key, *, isolate: bool = False, publish_night: bool = True
) -> list[StageFigures]:
    """prepare → extract → validate → pseudonymise → link → build → publish, each stage
    given the results of those before it, as the DAG's tasks are.

    ``isolate``: each stage in a process of its own (as the DAG's tasks run). A failed
    stage raises :class:`NightFailed` with the figures so far. Without
    ``publish_night`` the night stops after the build, as one whose publish failed."""
    from transforms.nightly.stages.build import build_tables
    from transforms.nightly.stages.extract import extract_dcc, extract_dchs
    from transforms.nightly.stages.link import link_people
    from transforms.nightly.stages.prepare import prepare
    from transforms.nightly.stages.pseudonymise import pseudonymise
    from transforms.nightly.stages.publish import publish
    from transforms.nightly.stages.validate import validate_sources

    figures: list[StageFigures] = []

    def stage(name: str, fn: Callable[[], object]):
        figures.append(run_stage(name, fn, figures, isolate=isolate))
        return figures[-1].output

    plan = stage("prepare", lambda: prepare(ctx, key))
    dcc = stage("extract_dcc", lambda: extract_dcc(ctx, plan))
    dchs = stage("extract_dchs", lambda: extract_dchs(ctx, plan))
    checked = stage("validate", lambda: validate_sources(ctx, plan, dcc, dchs))
    tokens = stage("pseudonymise", lambda: pseudonymise(ctx, key, plan, checked))
    links = stage("link", lambda: link_people(ctx, plan, tokens))
    tables = stage("build", lambda: build_tables(ctx, plan, checked, tokens, links))
    if publish_night:
        stage("publish", lambda: publish(ctx, plan, dcc, dchs, checked, links, tables))
    return figures


def publish_inputs(figures: list[StageFigures]) -> tuple:
    """The results the publish stage takes, from a night's figures."""
    out = {f.stage: f.output for f in figures}
    return tuple(
        out[stage]
        for stage in ("prepare", "extract_dcc", "extract_dchs", "validate", "link", "build")
    )


def run_stage(
    name: str, fn: Callable[[], object], before: list[StageFigures], *, isolate: bool
) -> StageFigures:
    """One stage, measured; a failure raises :class:`NightFailed` with ``before``."""
    if isolate:
        try:
            return measure_in_child(name, fn)
        except NightFailed as exc:
            raise NightFailed(exc.stage, exc.error, before + exc.figures) from None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        return measure(name, fn)
    except Exception as exc:
        failed = StageFigures(
            name,
            time.perf_counter() - wall0,
            time.process_time() - cpu0,
            _rss_mb(),
            {"failed": True},
        )
        raise NightFailed(name, f"{type(exc).__name__}: {exc}", [*before, failed]) from exc


def figures_table(figures: list[StageFigures]) -> list[dict]:
    return [{k: v for k, v in asdict(f).items() if k not in ("result", "output")} for f in figures]
