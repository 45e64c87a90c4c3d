"""Great Expectations validation: source suites (quarantine rows, stop on batch breaches)
and output suites (stop before publishing). No Airflow import; GX is imported lazily.

The suites are the JSON files in ``expectations/`` (generated from
:mod:`transforms.validation.suites`). See docs/validation.md.
"""

from __future__ import annotations

from transforms.validation.outcome import (
    QUARANTINE_COLUMNS,
    BatchValidationError,
    ValidationOutcome,
    raise_for_breaches,
)
from transforms.validation.suites import ALL_SUITES, OUTPUT_SUITES, SOURCE_SUITES
from transforms.validation.validate import validate_output_table, validate_source_table


def build_data_docs(docs_dir, suites_dir=None):
    """Build GX Data Docs under ``docs_dir`` listing every suite (of ``suites_dir``,
    default the repository's ``expectations/``); returns index.html."""
    from transforms.validation.engine import build_data_docs as build

    return build(docs_dir, suites_dir)


__all__ = [
    "ALL_SUITES",
    "OUTPUT_SUITES",
    "QUARANTINE_COLUMNS",
    "SOURCE_SUITES",
    "BatchValidationError",
    "ValidationOutcome",
    "build_data_docs",
    "raise_for_breaches",
    "validate_output_table",
    "validate_source_table",
]
