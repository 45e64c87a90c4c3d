"""The warehouse tables' columns and types, read from the DDL files (``sql/ddl``).

The data dictionary takes its column types from here; tests and the schema check compare
the documented and built columns with it.
"""

from __future__ import annotations

import re
from pathlib import Path

from transforms.tables.generated import SQL_DIR

_CREATE = re.compile(r"create\s+table\s+if\s+not\s+exists\s+([\w.]+)\s*\(", re.IGNORECASE)
_ADD = re.compile(
    r"alter\s+table\s+([\w.]+)\s+add\s+column\s+if\s+not\s+exists\s+(\w+)\s+([^;]+);",
    re.IGNORECASE,
)
_STOP = {"not", "null", "primary", "default", "references", "unique", "check", "constraint"}


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


def _split_top(body: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def ddl_columns(ddl_dir: Path = SQL_DIR / "ddl") -> dict[str, list[tuple[str, str]]]:
    """``schema.table -> [(column, type), ...]`` from the DDL files (create + add column)."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(ddl_dir.glob("*.sql")):
        text = _strip_comments(path.read_text())
        for m in _CREATE.finditer(text):
            depth, i = 1, m.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            cols = []
            for item in _split_top(text[m.end() : i - 1]):
                words = item.split()
                if words[0].lower() in ("primary", "unique", "constraint", "foreign", "check"):
                    continue
                kind = []
                for w in words[1:]:
                    if w.lower() in _STOP:
                        break
                    kind.append(w)
                cols.append((words[0], " ".join(kind)))
            tables[m.group(1)] = cols
        for m in _ADD.finditer(text):
            table, col, kind = m.group(1), m.group(2), m.group(3).split()
            entry = (col, " ".join(w for w in kind if w.lower() not in _STOP))
            if col not in [c for c, _ in tables.setdefault(table, [])]:
                tables[table].append(entry)
    return tables
