"""HTML pieces the linkage report pages share: escaping, tables, numbers."""

from __future__ import annotations

import html

import numpy as np


def esc(x) -> str:
    """``x`` as text safe in HTML content and attribute values."""
    return html.escape(str(x), quote=True)


def table(rows: list[tuple], header: tuple) -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in header)
    trs = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def fmt(v) -> str:
    """Floats to 4 decimals, integers with thousands separators, anything else as text."""
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    return str(v)
