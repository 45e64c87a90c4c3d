"""Make GX Data Docs render with no network: local copies of the CSS/JS they load.

Great Expectations' page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome
and Vega from public CDNs, which council and NHS networks often block: the index tables
are then empty (they are filled by bootstrap-table) and pages unstyled. After each build,
:func:`make_offline` copies the files shipped in ``data_docs_assets/`` (and Vega from the
installed Splink package) to ``<docs_dir>/static/offline/``, points every page at them,
drops any other remote ``<link>``/``<script>``/``<img>``, and explains every rule in plain
words: suite pages show each rule's notes open (GX hides them behind a toggle), and each
section of a validation page (a column, or the table) gets its rules' descriptions under
its heading, where GX shows only the bare check ("values must belong to set True").
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

ASSETS = Path(__file__).with_name("data_docs_assets")
OFFLINE_DIR = ("static", "offline")
#: Marks a page already rewritten, so a nightly build only rewrites new pages.
MARK = "<!-- care: offline assets -->"

#: CDN address -> local file under ``static/offline`` (versions as GX 1.x pins them).
LOCAL = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "js/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "js/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "js/vega-embed.min.js",
}
#: Splink ships Vega, Vega-Lite and vega-embed for its own offline charts.
VEGA = {
    "js/vega.min.js": "vega@5.31.0",
    "js/vega-lite.min.js": "vega-lite@5.2.0",
    "js/vega-embed.min.js": "vega-embed@6.20.2",
}

_REMOTE_TAG = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>"
    r"|<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>",
    re.IGNORECASE,
)
_FAVICON = re.compile(r'(<link\b[^>]*\bhref=)"[./]*static/images/favicon\.ico"')
_INTEGRITY = re.compile(r'\s(?:integrity="sha[^"]*"|crossorigin="anonymous")')
_REMOTE_IMG = re.compile(r"(<img\b[^>]*\bsrc=)[\"']https?://[^\"']*[\"']", re.IGNORECASE)
#: GX renders an expectation's ``notes`` in a collapsed card: shown open instead.
_NOTES_CARD = 'class="card card-body p-1 collapse m-2"'
_NOTES_OPEN = 'class="card card-body p-1 m-2 care-rule-notes"'
_NOTES_RED = re.compile(
    r'(care-rule-notes"\s*>(?:(?!care-rule-notes).){0,800}?)<div style="color:red;"\s*>', re.S
)
_STYLE = (
    "<style>.care-rule-notes{background:#f4f8fb;border-left:4px solid #17a2b8}"
    ".care-rule-notes h6{font-size:.8rem;color:#555}"
    ".care-rule-explained{font-size:.9rem;margin:.4rem 0 0 0;padding-left:1.2rem}</style>"
)
_SECTION_HEADING = re.compile(r'(<h5 class="m-0" >\s*)([^<]+?)(\s*</h5>)')
_VALIDATION_PAGE = re.compile(r"care-(schema|rows)$")
TABLE_SECTION = "Table-Level Expectations"


def _words(text: str) -> str:
    """A description (markdown with `code` spans) as safe HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_lib.escape(text, quote=False))


def explanations(expectations: Sequence, part: str) -> dict[str, str]:
    """Section heading -> HTML list of the plain-words rules of that section, for the
    ``part`` (``schema`` or ``rows``) a validation page shows."""
    by_section: dict[str, list[str]] = {}
    for e in expectations:
        if e.meta.get("batch", "rows") != part:
            continue
        section = e.column or TABLE_SECTION
        by_section.setdefault(section, []).append(
            f"<li><strong>{html_lib.escape(e.rule)}</strong> ({html_lib.escape(e.severity)}): "
            f"{_words(e.description)}</li>"
        )
    return {k: f'<ul class="care-rule-explained">{"".join(v)}</ul>' for k, v in by_section.items()}


def explain_page(html: str, explained: Mapping[str, str]) -> str:
    """Put each section's rule descriptions under its heading."""

    def add(m: re.Match) -> str:
        extra = explained.get(m.group(2).strip())
        return m.group(0) + extra if extra else m.group(0)

    return _SECTION_HEADING.sub(add, html)


def vega_source() -> Path | None:
    """Splink's folder of Vega files, when Splink is installed."""
    try:
        import splink
    except ImportError:
        return None
    found = Path(splink.__file__).parent / "internals" / "files" / "external_js"
    return found if found.is_dir() else None


def copy_assets(docs_dir: Path) -> Path:
    """Copy the local CSS/JS/fonts (and Vega) into ``<docs_dir>/static/offline``."""
    target = docs_dir.joinpath(*OFFLINE_DIR)
    for src in ASSETS.rglob("*"):
        if src.is_file():
            dest = target / src.relative_to(ASSETS)
            if not dest.exists() or dest.stat().st_size != src.stat().st_size:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
    vega = vega_source()
    for name, shipped in VEGA.items():
        dest = target / name
        if vega is not None and (vega / shipped).exists() and not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(vega / shipped, dest)
    return target


def rewrite_page(html: str, prefix: str, available: set[str]) -> str:
    """One page with local asset links (``prefix`` leads from the page to the site root)."""
    base = prefix + "/".join(OFFLINE_DIR) + "/"
    for url, local in LOCAL.items():
        if local in available:
            html = html.replace(f'"{url}"', f'"{base}{local}"')
    # a local file fails Subresource Integrity's CORS check under file://
    html = _INTEGRITY.sub("", html)
    html = _REMOTE_TAG.sub("", html)
    html = _REMOTE_IMG.sub(rf'\1"{prefix}static/images/logo-long.png"', html)
    # GX's own relative favicon link is one folder off on validation pages
    html = _FAVICON.sub(rf'\1"{prefix}static/images/favicon.ico"', html)
    html = html.replace(_NOTES_CARD, _NOTES_OPEN)
    html = _NOTES_RED.sub(r"\1<div>", html)
    return html.replace("</head>", f"{_STYLE}\n{MARK}\n</head>", 1)


def make_offline(docs_dir: Path | str, suites: Mapping[str, Sequence] | None = None) -> int:
    """Rewrite every page of the site not yet rewritten; returns how many were.

    ``suites`` maps a suite's name to its expectations (``engine.Expectation``), whose
    descriptions explain the sections of that suite's validation pages."""
    docs_dir = Path(docs_dir)
    target = copy_assets(docs_dir)
    available = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    done = 0
    for page in docs_dir.rglob("*.html"):
        rel = page.relative_to(docs_dir)
        if rel.parts[0] == "static":
            continue
        html = page.read_text(encoding="utf-8")
        if MARK in html:
            continue
        part = _VALIDATION_PAGE.search(page.stem)
        if rel.parts[0] == "validations" and part and suites and rel.parts[1] in suites:
            html = explain_page(html, explanations(suites[rel.parts[1]], part.group(1)))
        page.write_text(rewrite_page(html, "../" * (len(rel.parts) - 1), available), "utf-8")
        done += 1
    return done
