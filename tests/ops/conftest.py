"""Operations tests: compose file, notifications, the Celery topology and the browser.

Every test here carries the ``ops`` marker; the heavy ones are also ``slow``, which
plain ``pytest`` leaves out and ``make test`` (and so CI) runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.helpers import ARTIFACTS


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ops/" in str(item.fspath):
            item.add_marker(pytest.mark.ops)


@pytest.fixture
def artifacts_dir(request) -> Path:
    """Where a test leaves screenshots and logs for people (gitignored ``tests/artifacts``)."""
    name = request.node.name.replace("[", "_").replace("]", "").replace("/", "_")
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path
