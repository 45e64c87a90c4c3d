"""`transforms/` is the logic, importable and tested without Airflow: it never imports it."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def airflow_imports(path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name == "airflow" or name.startswith("airflow.") for name in names):
            lines.append(node.lineno)
    return lines


def test_nothing_under_transforms_imports_airflow():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "transforms").rglob("*.py"))
        if (lines := airflow_imports(path))
    }
    assert found == {}
    # the check sees imports, wherever they stand (inside a function too)
    probe = ROOT / "dags" / "airflow_glue.py"
    assert airflow_imports(probe), "the probe file imports Airflow, so the scan must find it"
