"""`make run`'s sources: reused when they match, made again when they lack the population."""

from __future__ import annotations

import os

from transforms.config import Settings
from transforms.ops.local_setup import ensure_sources


def test_sources_without_a_population_file_are_generated_again(tmp_path):
    settings = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)})
    args = {"people": 1000, "nights": 1, "seed": 2, "env": dict(os.environ)}
    ensure_sources(settings, **args)
    population = tmp_path / "sources" / "population.csv"
    first = population.read_bytes()
    stamp = (tmp_path / "sources" / "generation.json").stat().st_mtime_ns
    ensure_sources(settings, **args)  # complete: reused as it is
    assert (tmp_path / "sources" / "generation.json").stat().st_mtime_ns == stamp
    population.unlink()
    ensure_sources(settings, **args)
    assert population.read_bytes() == first
