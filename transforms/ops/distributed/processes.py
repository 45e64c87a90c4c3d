"""The topology's processes: each Airflow component in its own process group (session),
stopped as a whole, and anything left carrying the topology's id found and stopped too."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from transforms.ops.distributed.errors import TopologyError

log = logging.getLogger(__name__)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")


@dataclass
class Component:
    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_bin() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def component_argv(
    name: str, *, port: int, queue: str, concurrency: int, topology_id: str
) -> list[str]:
    """The command line of one of :data:`COMPONENTS`."""
    airflow = airflow_bin()
    return {
        "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        "scheduler": [airflow, "scheduler"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer"],
        "celery-worker": [
            airflow,
            "celery",
            "worker",
            "--queues",
            queue,
            "--concurrency",
            str(concurrency),
            "--celery-hostname",
            f"care-{topology_id}@%h",
        ],
    }[name]


def run_airflow(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    logs_dir: Path,
    timeout: float = 600,
    log_name: str | None = None,
) -> None:
    """Run ``airflow ARGS`` to completion; raise ``TopologyError`` with its last log lines
    when it fails."""
    log_path = logs_dir / f"{log_name or args[0]}.log"
    with open(log_path, "ab") as out:
        proc = subprocess.run(
            [airflow_bin(), *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
    if proc.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise TopologyError(f"airflow {' '.join(args)} exited {proc.returncode}:\n{tail}")


def start_component(comp: Component, *, env: dict[str, str], cwd: Path) -> None:
    """Start ``comp`` in its own process group, its output appended to its log."""
    out = open(comp.log_path, "ab")  # noqa: SIM115 - the child keeps it
    try:
        comp.proc = subprocess.Popen(
            comp.argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group
        )
    finally:
        out.close()
    log.info("started %s (pid %s)", comp.name, comp.proc.pid)


def check_running(components: dict[str, Component]) -> None:
    """Raise ``TopologyError`` with its last log lines if a component has exited."""
    for comp in components.values():
        if comp.proc is not None and comp.proc.poll() is not None:
            raise TopologyError(
                f"{comp.name} exited with {comp.proc.returncode}; last lines of "
                f"{comp.log_path}:\n{comp.tail()}"
            )


def wait_for(
    what: str,
    probe: Callable[[], object],
    timeout: float,
    every: float = 1.0,
    *,
    check_alive: Callable[[], None],
):
    """Poll ``probe`` until it returns something true (returned), while ``check_alive``
    finds every component running; ``TopologyError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        check_alive()
        try:
            last = probe()
        except (OSError, TopologyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise TopologyError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last}")


def stop_components(components: dict[str, Component], marker: str, grace: float) -> list[int]:
    """SIGTERM to every component's process group, SIGKILL to those still alive after
    ``grace`` seconds, then SIGKILL to any process left with ``marker`` in its
    environment. Returns the PIDs of those last (should be none)."""
    groups = {name: comp.proc.pid for name, comp in components.items() if comp.proc is not None}
    for name, pgid in groups.items():
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        log.info("SIGTERM to %s (process group %s)", name, pgid)
    _wait_for_groups(components, groups, grace)
    for name, pgid in groups.items():
        if _group_alive(pgid):
            log.warning("%s did not stop on SIGTERM: SIGKILL to group %s", name, pgid)
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for comp in components.values():
        if comp.proc is not None:
            try:
                comp.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.error("%s (pid %s) could not be reaped", comp.name, comp.proc.pid)
    return _kill_strays(marker)


def _wait_for_groups(components: dict[str, Component], groups: dict[str, int], grace: float):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for comp in components.values():
            if comp.proc is not None:
                comp.proc.poll()  # reap leaders so their group can empty
        if not any(_group_alive(pgid) for pgid in groups.values()):
            break
        time.sleep(0.3)


def _kill_strays(marker: str) -> list[int]:
    strays = processes_with_marker(marker)
    for pid in strays:
        log.warning("process %s with our topology id outlived its group: SIGKILL", pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return strays


def processes_with_marker(marker: str) -> list[int]:
    """PIDs whose environment holds ``CARE_TOPOLOGY_ID=<marker>`` (Linux /proc)."""
    needle = f"CARE_TOPOLOGY_ID={marker}".encode()
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry.name))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
