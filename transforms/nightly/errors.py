"""Which failures are worth a retry.

A source or warehouse outage may pass, so those tasks retry. A broken contract will
not: schema drift, a validation breach, unbalanced accounting, a missing, weak or
changed key, or a publish that would not move forward fail the task at once, without
retries, so the on-call engineer hears about it now rather than after the retry delays.
"""

from __future__ import annotations


def permanent_error_types() -> tuple[type[BaseException], ...]:
    from transforms.extract.errors import DropIntegrityError, SchemaDriftError
    from transforms.keys import KeyError_
    from transforms.nightly.accounting import AccountingError
    from transforms.validation import BatchValidationError
    from transforms.warehouse.bulk import ContractError
    from transforms.warehouse.lineage import OlderNightError, StalePublishError
    from transforms.warehouse.publish import PublishMismatch

    return (
        SchemaDriftError,
        DropIntegrityError,
        KeyError_,
        AccountingError,
        BatchValidationError,
        ContractError,
        OlderNightError,
        StalePublishError,
        PublishMismatch,
    )


def nothing_to_do_types() -> tuple[type[BaseException], ...]:
    """Errors that mean the task has nothing to do: the DAG skips the rest of the run."""
    from transforms.warehouse.lineage import AlreadyPublishedError

    return (AlreadyPublishedError,)


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
