"""Which DCHS drops land tonight, and in which order (the rules: the package docstring).

A drop not landed is passed to ``reject(drop_date, kind, reason, manifest_sha256)``;
the landing order is a list of ``(drop, replay, correction)``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from transforms.extract.dchs.files import manifest_sha256
from transforms.extract.dchs.folders import drop_date_of
from transforms.extract.dchs.verify import Drop, verify_drop
from transforms.extract.errors import DropIntegrityError

log = logging.getLogger(__name__)

_ACCEPT_HINT = "python -m transforms.ops.drops accept {day} --by NAME --reason TEXT"

Landing = tuple[Drop, bool, bool]  # (drop, replay, correction)


@dataclass(frozen=True)
class Ledger:
    """What is on record of earlier drops, as drop date -> manifest SHA-256."""

    ingested: dict[str, str]  # audit.dchs_drop
    pending: dict[str, str]  # accepted as corrections, not yet ingested with that SHA
    ingested_shas: frozenset[str]
    newest: str | None  # the newest ingested drop date

    @classmethod
    def of(cls, ingested: dict[str, str], accepted: dict[str, str]) -> Ledger:
        """``accepted``: the acceptances on record (``audit.drop_acceptance``)."""
        return cls(
            ingested=ingested,
            pending={d: s for d, s in accepted.items() if drop_date_of(d) and ingested.get(d) != s},
            ingested_shas=frozenset(ingested.values()),
            newest=max((d for d in ingested if drop_date_of(d)), default=None),
        )


def choose_drops(
    drop_dir: Path,
    found: list[tuple[Path, date]],
    *,
    until: date,
    ledger: Ledger,
    full_refresh: bool,
    reject,
) -> list[Landing]:
    """Of the drop folders ``found``, what lands tonight in landing order: accepted
    corrections with the replay they need (on a full refresh, every ingested drop and
    accepted correction in date order), then the new drops."""
    _reject_vanished_corrections(drop_dir, found, until, ledger.pending, reject)
    newest = ledger.newest
    old = [path for path, _ in found if newest is not None and path.name <= newest]
    again, corrections = _sort_out_old(old, ledger, full_refresh, reject)
    if full_refresh:  # every old drop lands anyway, in date order: no replay needed
        replay = sorted(
            [*((d, True, False) for d in again), *((d, False, True) for d in corrections.values())],
            key=lambda landed: landed[0].drop_date,
        )
    else:
        replay = _replay(drop_dir, corrections, ledger.ingested, reject)
    later = [path for path, _ in found if newest is None or path.name > newest]
    new = _new_drops(later, ledger.ingested_shas, reject)
    return [*replay, *((d, False, False) for d in new)]


def _reject_vanished_corrections(
    drop_dir: Path, found: list[tuple[Path, date]], until: date, pending: dict[str, str], reject
) -> None:
    folders = {path.name for path, _ in found}
    for day in sorted(set(pending) - folders):
        if day <= until.isoformat() and not os.path.lexists(drop_dir / day):
            reject(day, "replay_failed", f"{drop_dir / day}: accepted, but the drop folder is gone",
                   pending[day])  # fmt: skip


def _sort_out_old(
    old: list[Path], ledger: Ledger, full_refresh: bool, reject
) -> tuple[list[Drop], dict[str, Drop]]:
    """Drops dated on or before the newest ingested one, as ``(again, corrections)``:
    the ingested drops to land again (a full refresh only) and the accepted corrections,
    both verified; every other old drop is held."""
    again: list[Drop] = []
    corrections: dict[str, Drop] = {}
    for path in old:
        day, sha = path.name, manifest_sha256(path)
        if sha is not None and ledger.ingested.get(day) == sha:
            if full_refresh:
                try:
                    again.append(verify_drop(path))
                except DropIntegrityError as exc:
                    reject(day, "replay_failed", f"ingested, but no longer verifies: {exc}", sha)
            continue  # the ingested drop, delivered again
        if sha is not None and ledger.pending.get(day) == sha:
            try:
                corrections[day] = verify_drop(path)
            except DropIntegrityError as exc:
                reject(day, "replay_failed", f"accepted, but no longer verifies: {exc}", sha)
            continue
        _hold(path, ledger, reject)
    return again, corrections


def _hold(path: Path, ledger: Ledger, reject) -> None:
    """An old drop neither ingested nor accepted: malformed, a repeat, changed or late."""
    day, newest = path.name, ledger.newest
    try:
        drop = verify_drop(path)
    except DropIntegrityError as exc:
        reject(day, "malformed", f"{exc} (dated on or before the newest ingested drop "
               f"{newest}; it holds back no other drop)", exc.manifest_sha256)  # fmt: skip
        return
    if day not in ledger.ingested and drop.manifest_sha256 in ledger.ingested_shas:
        log.warning("DCHS drop %s is a repeat delivery of an ingested drop; skipped", day)
        return
    stale = "; the acceptance on record is for another manifest" if day in ledger.pending else ""
    if day in ledger.ingested:
        reject(day, "changed", f"{path}: manifest differs from the one ingested for this "
               f"date; held until accepted as a correction ({_ACCEPT_HINT.format(day=day)})"
               f"{stale}", drop.manifest_sha256)  # fmt: skip
    else:
        reject(day, "late", f"{path}: dated on or before the newest ingested drop {newest}; "
               f"held until accepted as a correction ({_ACCEPT_HINT.format(day=day)})"
               f"{stale}", drop.manifest_sha256)  # fmt: skip


def _replay(
    drop_dir: Path, corrections: dict[str, Drop], ingested: dict[str, str], reject
) -> list[Landing]:
    """Accepted corrections and every ingested drop dated after the first of them, in date
    order, as ``(drop, replay, correction)``; a correction whose replay needs a drop that
    no longer verifies is left out (``replay_failed``)."""
    if not corrections:
        return []
    first = min(corrections)
    broken: dict[str, str] = {}
    again: dict[str, Drop] = {}
    for day in sorted(d for d in ingested if drop_date_of(d) and d > first):
        if day in corrections:
            continue
        try:
            drop = verify_drop(drop_dir / day)
        except DropIntegrityError as exc:
            broken[day] = str(exc)
            continue
        if drop.manifest_sha256 != ingested[day]:
            broken[day] = f"{drop_dir / day}: manifest differs from the one ingested"
        else:
            again[day] = drop
    last_broken = max(broken, default="")
    for day in sorted(corrections):
        if day < last_broken:
            need = min(b for b in broken if b > day)
            reject(day, "replay_failed", f"accepted, but not applied: the replay needs ingested "
                   f"drop {need}, which no longer verifies: {broken[need]}",
                   corrections[day].manifest_sha256)  # fmt: skip
    applied = {d: c for d, c in corrections.items() if d > last_broken}
    if not applied:
        return []
    start = min(applied)
    order = sorted({*applied, *(d for d in again if d > start)})
    return [(applied[d], False, True) if d in applied else (again[d], True, False) for d in order]


def _new_drops(later: list[Path], ingested_shas: frozenset[str], reject) -> list[Drop]:
    """Drops dated after the newest ingested one, verified in date order; the first that
    fails is rejected and every later one waits behind it; repeats are skipped."""
    new: list[Drop] = []
    seen = set(ingested_shas)
    for i, path in enumerate(later):
        try:
            drop = verify_drop(path)
        except DropIntegrityError as exc:
            reject(path.name, "malformed", f"{exc}; it and later drops wait",
                   exc.manifest_sha256)  # fmt: skip
            for behind in later[i + 1 :]:
                reject(behind.name, "held_behind", f"held back behind {path.name}")
            break
        if drop.manifest_sha256 in seen:
            log.warning("DCHS drop %s is a repeat delivery of an ingested drop; skipped", path.name)
            continue
        seen.add(drop.manifest_sha256)
        new.append(drop)
    return new
