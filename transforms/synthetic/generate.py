"""Run the generator: chunks of people, written as they are made.

Chunks are generated in order (or, with ``workers > 1``, ahead of the writer in worker
processes) and written in chunk order, so the output does not depend on ``workers``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

from transforms.contracts import DCHS_FILES
from transforms.synthetic.chunk import generate_chunk
from transforms.synthetic.config import GenConfig
from transforms.synthetic.population import census
from transforms.synthetic.writers import (
    DccWriter,
    DchsWriter,
    ParquetAppender,
    write_population,
)

log = logging.getLogger(__name__)


def _chunks(cfg: GenConfig, workers: int):
    if workers <= 1:
        for c in range(cfg.n_chunks):
            yield generate_chunk(cfg, c)
        return
    # spawned, not forked: a process that has used DuckDB (a test session, say) leaves
    # its thread pool behind in a forked child, which then hangs joining those threads
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        pending = {}
        nxt = 0
        for c in range(cfg.n_chunks):
            while nxt < cfg.n_chunks and nxt < c + workers + 1:
                pending[nxt] = pool.submit(generate_chunk, cfg, nxt)
                nxt += 1
            yield pending.pop(c).result()


def generate(cfg: GenConfig, out: Path, *, dcc_url: str | None = None, workers: int = 1) -> dict:
    """Generate both sources, the ground truth and the population (``population.csv``, as
    of the first night) into ``out``; returns generation.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if dcc_url is None:
        db = out / "dcc.sqlite"
        db.unlink(missing_ok=True)
        dcc_url = f"sqlite:///{db}"
    dchs_root = out / "dchs"
    if dchs_root.exists():
        shutil.rmtree(dchs_root)
    nights = [d.isoformat() for d in cfg.nights]
    dcc = DccWriter(dcc_url)
    dchs = DchsWriter(dchs_root, nights)
    truth = errors = None
    error_counts: Counter = Counter()
    record_counts: Counter = Counter()
    event_counts: Counter = Counter()
    population = None
    try:
        for i, tables in enumerate(_chunks(cfg, workers)):
            dcc.write(tables["person"], tables["event"])
            for name in DCHS_FILES:
                dchs.write(name, tables[name])
            if truth is None:
                truth = ParquetAppender(out / "truth.parquet", tables["truth"].schema)
                errors = ParquetAppender(out / "errors.parquet", tables["errors"].schema)
            truth.write(tables["truth"])
            errors.write(tables["errors"])
            for (src, kind), n in (
                tables["errors"].group_by(["source", "error_type"]).aggregate([("error_type", "count")])
                .to_pandas().set_index(["source", "error_type"])["error_type_count"].items()
            ):  # fmt: skip
                error_counts[f"{src}:{kind}"] += int(n)
            for row in (
                tables["truth"].group_by("source").aggregate([("source", "count")]).to_pylist()
            ):
                record_counts[row["source"]] += row["source_count"]
            event_counts["dcc_event"] += tables["event"].num_rows
            counted = census(tables["people"], cfg.first_night)
            population = counted if population is None else population + counted
            log.info("chunk %d/%d written", i + 1, cfg.n_chunks)
    finally:
        dcc.close()
        per_night = dchs.close()
        if truth is not None:
            truth.close()
            errors.close()
    write_population(out / "population.csv", population)
    rates = dataclasses.asdict(cfg.rates)
    dchs_totals = {name: sum(v[name] for v in per_night.values()) for name in DCHS_FILES}
    realised = {}
    for key, n in sorted(error_counts.items()):
        src, kind = key.split(":", 1)
        key = f"{kind}_{src}"
        if kind == "late_arrival":
            base = dcc.rows["event"] if src == "dcc" else dchs_totals["care_contact.csv"]
        elif kind == "merged":
            base = error_counts["dcc:duplicate"]
        elif key in rates:
            base = record_counts[src]
        else:
            continue
        realised[key] = round(n / max(base, 1), 5)
    meta = {
        "args": {
            "people": cfg.people,
            "days": cfg.days,
            "seed": cfg.seed,
            "first_night": cfg.first_night.isoformat(),
            "history_days": cfg.history_days,
            "dcc_url": "sqlite:dcc.sqlite" if dcc_url.startswith("sqlite:") else "external",
            "chunk_people": cfg.chunk_people,
        },
        "rates": rates,
        "nights": nights,
        "history_start": (cfg.first_night - timedelta(days=cfg.history_days)).isoformat(),
        "counts": {
            "dcc": {"person": dcc.rows["person"], "event": dcc.rows["event"]},
            "dchs": dchs_totals,
            "dchs_per_night": per_night,
            "truth": {"dcc": record_counts["dcc"], "dchs": record_counts["dchs"]},
            "errors": dict(sorted(error_counts.items())),
        },
        "realised_record_rates": realised,
    }
    (out / "generation.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
