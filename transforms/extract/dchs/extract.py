"""The night's DCHS extract: from the drop folder to the landing zone.

Find the drop folders, choose what lands (``choose``), land it (``land``), and say what
was landed and what was held, and why.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from transforms.extract.dchs.choose import Landing, Ledger, choose_drops
from transforms.extract.dchs.folders import scan
from transforms.extract.dchs.land import land

log = logging.getLogger(__name__)


def extract_dchs(
    drop_dir: Path,
    *,
    until: date,
    ingested: dict[str, str],
    accepted: dict[str, str],
    landing_dir: Path,
    full_refresh: bool = False,
) -> dict:
    """Land tonight's drops up to ``until`` (see :mod:`transforms.extract.dchs`).

    ``full_refresh``: land every drop again, ingested ones and accepted corrections in
    date order, then the new ones; a late or changed drop is still held.

    ``ingested``: drop date -> manifest SHA-256 already ingested (``audit.dchs_drop``);
    ``accepted``: drop date -> manifest SHA-256 an operator accepted as a correction
    (``audit.drop_acceptance``; pending while not ingested with that SHA).

    Returns ``{"rows": {stem: n}, "drops": [{drop_date, manifest_sha256, rows_total,
    replay, correction}] in landing order, "rejected": [{drop_date, kind, reason,
    manifest_sha256}]}``. Malformed input is never raised; only a file that changes
    between its verification and its landing raises ``DropIntegrityError``.
    """
    rejected: list[dict] = []

    def reject(name: str, kind: str, reason: str, sha: str | None = None) -> None:
        rejected.append({"drop_date": name, "kind": kind, "reason": reason, "manifest_sha256": sha})
        log.warning("DCHS drop %s not applied (%s): %s", name, kind, reason)

    found = scan(drop_dir, until, reject)
    landing = choose_drops(
        drop_dir,
        found,
        until=until,
        ledger=Ledger.of(ingested, accepted),
        full_refresh=full_refresh,
        reject=reject,
    )
    counts = land(landing, landing_dir)
    log.info(
        "DCHS extract until %s: %d drop(s) landed %s, %d rejected; rows %s",
        until,
        len(landing),
        [d.drop_date for d, _, _ in landing],
        len(rejected),
        counts,
    )
    return {"rows": counts, "drops": _landed_drops(landing), "rejected": rejected}


def _landed_drops(landing: list[Landing]) -> list[dict]:
    return [
        {
            "drop_date": d.drop_date,
            "manifest_sha256": d.manifest_sha256,
            "rows_total": d.rows_total,
            "replay": is_replay,
            "correction": is_correction,
        }
        for d, is_replay, is_correction in landing
    ]
