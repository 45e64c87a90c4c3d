"""What the extracts raise: an outage worth a retry, or a broken contract that is not."""

from __future__ import annotations


class SourceUnavailableError(RuntimeError):
    """A source system could not be reached; the task should retry, then fail."""


class SchemaDriftError(ValueError):
    """A file's header lacks contracted columns: the supplier changed the format."""


class DropIntegrityError(ValueError):
    """A drop does not match its manifest or cannot be read.

    ``manifest_sha256`` is the SHA-256 of the drop's manifest when it could be read.
    """

    manifest_sha256: str | None = None
