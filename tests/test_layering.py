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


TOOLS = ("transforms.synthetic", "transforms.two_file", "transforms.review", "transforms.ops")


def module_of(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, known: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & known


def nightly_modules() -> set[str]:
    """Every module the night's stages (and the DAG's glue) import, however indirectly."""
    paths = {module_of(p): p for p in (ROOT / "transforms").rglob("*.py")}
    known = set(paths)
    todo = [m for m in known if m.startswith("transforms.nightly.stages")]
    todo += ["transforms.nightly.errors", "transforms.nightly.failures", "transforms.config"]
    todo += sorted(imported_modules(ROOT / "dags" / "airflow_glue.py", known))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += imported_modules(paths[name], known)
    return seen


def test_the_night_imports_none_of_the_tools():
    """The generator, the two-file command, the review tool and the operator helpers sit
    apart from the nightly path: nothing the night runs imports them."""
    night = nightly_modules()
    assert "transforms.nightly.stages.publish" in night and "transforms.link.predict" in night
    assert sorted(m for m in night if m.startswith(TOOLS)) == []
