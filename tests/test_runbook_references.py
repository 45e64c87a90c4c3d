"""Every runbook section an error or a notification sends an operator to exists."""

from __future__ import annotations

import re

from tests.conftest import ROOT

#: ``docs/runbook.md (Section)`` or ``docs/runbook.md, 'Section'`` in code and messages
REFERENCE = re.compile(r"docs/runbook\.md[,]? [(']+([^)']+)[)']")


def test_every_runbook_section_named_in_the_code_exists():
    headings = {
        line.lstrip("#").strip()
        for line in (ROOT / "docs" / "runbook.md").read_text().splitlines()
        if line.startswith("#")
    }
    named = {
        (path.name, section.strip())
        for folder in ("transforms", "dags")
        for path in (ROOT / folder).rglob("*.py")
        for section in REFERENCE.findall(path.read_text())
    }
    assert len(named) >= 5  # the pattern still finds the references
    missing = sorted((f, s) for f, s in named if s not in headings)
    assert missing == [], f"runbook sections named but missing: {missing}"
