"""The index of nightly linkage reports: ``index.html`` (the nights, newest first) and
``latest.html`` (a copy of the newest) beside the reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from transforms.link.report.markup import esc

#: the tags :func:`transforms.link.report.page.write_linkage_report` writes in the head
_META = re.compile(r'<meta name="linkage-(night|run-id)" content="([^"]*)">')


def write_linkage_index(report_dir: Path | str) -> Path:
    """``index.html`` listing every nightly report in ``report_dir`` (newest night
    first), and ``latest.html``, a copy of the newest; returns the index."""
    report_dir = Path(report_dir)
    found = _reports_newest_first(report_dir)
    rows = "".join(
        f'<tr><td>{esc(night)}</td><td><a href="{esc(path.name)}">{esc(run or path.stem)}</a>'
        f"</td><td>{'latest' if i == 0 else ''}</td></tr>"
        for i, (night, _, path, run) in enumerate(found)
    )
    if found:
        tmp = report_dir / "latest.html.tmp"
        shutil.copyfile(found[0][2], tmp)
        tmp.replace(report_dir / "latest.html")
    latest = '<p><a href="latest.html">Latest report</a></p>' if found else "<p>No report yet.</p>"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linkage reports</title>
<style>body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 3px 10px; }}
</style></head><body><h1>Linkage reports</h1>{latest}
<table><thead><tr><th>night</th><th>run</th><th></th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
    index = report_dir / "index.html"
    tmp = report_dir / "index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(index)
    return index


def _reports_newest_first(report_dir: Path) -> list[tuple[str, float, Path, str]]:
    """(night, modified time, path, run id) of each report, newest night first. The
    night is the page's own tag, else the first ten characters of its file name."""
    found = []
    for path in report_dir.glob("*.html"):
        if path.name in ("index.html", "latest.html"):
            continue
        with path.open(encoding="utf-8") as f:
            head = f.read(4000)
        meta = dict(_META.findall(head))
        night = meta.get("night") or path.stem[:10]
        found.append((night, path.stat().st_mtime, path, meta.get("run-id", "")))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return found
