"""Synthetic DCC and DCHS sources with a known ground truth (see docs/synthetic.md).

Public API:

* :func:`generate` — write both sources, ``truth.parquet``, ``errors.parquet`` and
  ``generation.json`` into a folder;
* :class:`GenConfig`, :class:`Rates` — the run configuration and the error rates;
* :func:`generate_chunk` — one chunk of people as Arrow tables (pure, seeded).
"""

from transforms.synthetic.chunk import generate_chunk
from transforms.synthetic.config import CHUNK_PEOPLE, GenConfig, Rates, parse_rate_args
from transforms.synthetic.generate import generate

__all__ = ["CHUNK_PEOPLE", "GenConfig", "Rates", "generate", "generate_chunk", "parse_rate_args"]
