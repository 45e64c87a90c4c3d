"""What goes wrong with the distributed topology."""

from __future__ import annotations


class TopologyError(RuntimeError):
    """The topology could not start, or a component died."""


class RunFailed(RuntimeError):
    """A DAG run ended badly; ``report`` says where."""

    def __init__(self, message: str, report: dict) -> None:
        super().__init__(message)
        self.report = report
