"""The pseudonymisation key: where it comes from, how it is checked, and the demo key file.

Every token in the tokens zone is an HMAC-SHA256 under this key (see
:mod:`transforms.pseudonymise`). The key never lives in the repository. It comes from,
in this order:

1. ``explicit`` material handed in by the caller: the DAG passes the password of the
   Airflow connection ``pseudonymisation_key`` (version in its extra ``version`` or login);
2. the environment variable ``CARE_PSEUDONYMISATION_KEY`` (hex, base64 or raw text);
3. the key file named by ``CARE_KEY_FILE``.

The version is the ``version`` argument, else (for a key file) the file's own
``version``, else ``CARE_KEY_VERSION``, else ``v1``. A file version and a different
``CARE_KEY_VERSION`` is a configuration mistake and is refused.

Key file format (JSON, mode 0600, owner-only)::

    {"format": "care-pseudonymisation-key", "version": "v1", "key": "<64+ hex digits>",
     "created": "2026-11-01T02:00:00+00:00"}

A file holding only the key material (hex or base64 on one line) is accepted too.

Key material is accepted as hex (64+ digits), base64 / base64url (decoding to 32+
bytes) or raw text (32+ bytes of UTF-8). ``bytes`` are taken as the raw secret. Less
than 32 bytes, or an obviously weak key (one repeated byte, few distinct bytes, a short
repeating pattern, a counting sequence, a placeholder word) is refused. Error messages
say where a key should come from and never contain the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MIN_KEY_BYTES = 32
#: Random 32-byte keys have ~30 distinct bytes; fewer than this many is not random.
MIN_DISTINCT_BYTES = 12
DEFAULT_VERSION = "v1"
ENV_KEY = "CARE_PSEUDONYMISATION_KEY"
ENV_KEY_FILE = "CARE_KEY_FILE"
ENV_KEY_VERSION = "CARE_KEY_VERSION"
KEY_FILE_FORMAT = "care-pseudonymisation-key"

WHERE = (
    "Set the Airflow connection 'pseudonymisation_key' (password = key material, "
    f'extra {{"version": "v1"}}), or {ENV_KEY} (hex or base64 of at least '
    f"{MIN_KEY_BYTES} random bytes), or {ENV_KEY_FILE} pointing at a key file (mode 0600). "
    "For a local demo, `make run` creates one. Generate material with: "
    'python -c "import secrets; print(secrets.token_hex(32))"'
)

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_B64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_PLACEHOLDERS = (
    b"changeme",
    b"change-me",
    b"change_me",
    b"password",
    b"secret",
    b"example",
    b"placeholder",
    b"default",
    b"test-key",
    b"testkey",
    b"dummy",
    b"xxxxxxxx",
    b"12345678",
    b"qwerty",
)


class KeyError_(Exception):  # noqa: N801  (not the builtin KeyError)
    """Base class: the pipeline cannot get a usable pseudonymisation key."""


class MissingKeyError(KeyError_):
    """No key was configured anywhere."""


class WeakKeyError(KeyError_):
    """Key material was found but is too short or obviously not random."""


class KeyFileError(KeyError_):
    """The key file is unreadable, malformed, or readable by group/others."""


class KeyFileExistsError(KeyFileError, FileExistsError):
    """``create_local_key_file`` refuses to overwrite an existing file."""


class KeyMismatchError(KeyError_):
    """The key's material differs from what was recorded for its version."""


def check_fingerprint(key: PseudonymKey, recorded: str | None, recorded_by: str | None) -> None:
    """Refuse ``key`` when its version was recorded with another fingerprint.

    Different material under one version label would give tonight's records tokens that
    match no earlier night's, silently splitting every person in two. Rotation is a new
    version, which re-tokenises everything with a full refresh."""
    if recorded is None or recorded == key.fingerprint:
        return
    raise KeyMismatchError(
        f"the pseudonymisation key labelled {key.version!r} has fingerprint "
        f"{key.fingerprint}, but run {recorded_by} recorded {recorded} for that version: "
        "this is different key material under the same version. Nothing was extracted. "
        "Restore the key that version was published with; to rotate the key, give the new "
        "material a new version (docs/runbook.md, 'Rotate the key')."
    )


@dataclass(frozen=True)
class PseudonymKey:
    """A versioned HMAC key. ``repr``/``str`` show the version and a fingerprint only."""

    version: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes):
            raise TypeError("PseudonymKey.secret must be bytes")
        if not isinstance(self.version, str) or not _VERSION.match(self.version):
            raise ValueError(
                "key version must be 1-32 characters of letters, digits, '.', '_' or '-'"
            )

    @property
    def fingerprint(self) -> str:
        """A short, non-reversible identifier of the key (for audit logs)."""
        return hmac.new(self.secret, b"care-key-fingerprint", hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"PseudonymKey(version={self.version!r}, fingerprint={self.fingerprint!r})"

    __str__ = __repr__

    def __reduce__(self):  # pickling is allowed (Airflow may copy), repr stays safe
        return (PseudonymKey, (self.version, self.secret))


def _decode(material: str | bytes) -> bytes:
    if isinstance(material, bytes | bytearray | memoryview):
        return bytes(material)
    if not isinstance(material, str):
        raise TypeError("key material must be str or bytes")
    text = material.strip()
    if not text:
        return b""
    if _HEX.match(text) and len(text) % 2 == 0 and len(text) >= 16:
        return bytes.fromhex(text)  # hex wins: short hex is then refused as too short
    if _B64.match(text) and len(text) >= 40:
        padded = text + "=" * (-len(text) % 4)
        try:
            alt = "-_" if ("-" in text or "_" in text) else None
            decoded = (
                base64.urlsafe_b64decode(padded) if alt else base64.b64decode(padded, validate=True)
            )
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) >= MIN_KEY_BYTES:
            return decoded
    return text.encode("utf-8")


def _weakness(secret: bytes) -> str | None:
    """Why ``secret`` is obviously weak, or None. Never includes the secret."""
    if len(secret) < MIN_KEY_BYTES:
        return f"it is {len(secret)} bytes; at least {MIN_KEY_BYTES} are required"
    distinct = len(set(secret))
    if distinct == 1:
        return "it is one byte repeated"
    if distinct < MIN_DISTINCT_BYTES:
        return f"it has only {distinct} distinct byte values (random keys have ~30)"
    for period in range(1, min(len(secret) // 2, 256) + 1):
        if all(secret[i] == secret[i % period] for i in range(len(secret))):
            return f"it repeats a {period}-byte pattern"
    steps = {(secret[i + 1] - secret[i]) % 256 for i in range(len(secret) - 1)}
    if len(steps) == 1:
        return "it is a counting sequence"
    lowered = secret.lower()
    for word in _PLACEHOLDERS:
        if word in lowered:
            return "it contains a placeholder word (e.g. 'changeme', 'secret', 'password')"
    return None


def key_from_material(material: str | bytes, version: str = DEFAULT_VERSION) -> PseudonymKey:
    """A checked key from hex, base64 or raw material; raises WeakKeyError/MissingKeyError."""
    if material is None:
        raise MissingKeyError(f"no pseudonymisation key material given. {WHERE}")
    secret = _decode(material)
    if not secret:
        raise MissingKeyError(f"the pseudonymisation key is empty. {WHERE}")
    why = _weakness(secret)
    if why:
        raise WeakKeyError(f"refusing a weak pseudonymisation key: {why}. {WHERE}")
    try:
        return PseudonymKey(version=version, secret=secret)
    except ValueError as exc:
        raise KeyFileError(f"bad pseudonymisation key version: {exc}") from None


def _check_file_mode(path: Path) -> None:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file. {WHERE}")
    if os.name == "posix" and st.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} is readable or writable by group/others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`"
        )


def read_key_file(path: str | os.PathLike) -> tuple[bytes | str, str | None]:
    """(material, version or None) from a key file, after checking it is owner-only."""
    path = Path(path)
    if not path.exists():
        raise MissingKeyError(f"{ENV_KEY_FILE} names {path}, which does not exist. {WHERE}")
    _check_file_mode(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {type(exc).__name__}") from None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            raise KeyFileError(f"key file {path} is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("key"), str):
            raise KeyFileError(f'key file {path} must hold {{"version": ..., "key": "<hex>"}}')
        version = doc.get("version")
        return doc["key"], str(version) if version else None
    return text, None


def load_key(
    *,
    explicit: str | bytes | None = None,
    version: str | None = None,
    env: dict | None = None,
) -> PseudonymKey:
    """The key from ``explicit`` material, else ``CARE_PSEUDONYMISATION_KEY``, else the
    file at ``CARE_KEY_FILE``. Raises :class:`KeyError_` subclasses with a clear message."""
    env = os.environ if env is None else env
    env_version = env.get(ENV_KEY_VERSION) or None
    if explicit is not None and (not isinstance(explicit, str) or explicit.strip()):
        source = "explicit"
        key = key_from_material(explicit, version or env_version or DEFAULT_VERSION)
    elif env.get(ENV_KEY, "").strip():
        source = ENV_KEY
        key = key_from_material(env[ENV_KEY], version or env_version or DEFAULT_VERSION)
    elif env.get(ENV_KEY_FILE, "").strip():
        path = Path(env[ENV_KEY_FILE]).expanduser()
        material, file_version = read_key_file(path)
        if file_version and env_version and file_version != env_version and not version:
            raise KeyFileError(
                f"key file {path} says version {file_version!r} but {ENV_KEY_VERSION} says "
                f"{env_version!r}; unset one so tokens are labelled with the right version"
            )
        source = f"key file {path}"
        key = key_from_material(material, version or file_version or env_version or "v1")
    else:
        raise MissingKeyError(f"no pseudonymisation key configured; refusing to run. {WHERE}")
    log.info("pseudonymisation key %s loaded from %s", key, source)
    return key


def create_local_key_file(path: str | os.PathLike, version: str = DEFAULT_VERSION) -> PseudonymKey:
    """Write a new random demo key to ``path`` (mode 0600, atomic, never overwrites)."""
    path = Path(path)
    if path.exists():
        raise KeyFileExistsError(f"key file {path} already exists; refusing to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = PseudonymKey(version=version, secret=secrets.token_bytes(MIN_KEY_BYTES))
    doc = {
        "format": KEY_FILE_FORMAT,
        "version": version,
        "key": key.secret.hex(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    payload = (json.dumps(doc) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # whatever the umask did
        try:
            os.link(tmp, path)  # atomic, and fails if the target exists
        except FileExistsError:
            raise KeyFileExistsError(
                f"key file {path} already exists; refusing to overwrite it"
            ) from None
        except OSError:  # no hard links on this filesystem: exclusive create instead
            fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd2, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        tmp.unlink(missing_ok=True)
    log.warning(
        "created a LOCAL DEMO pseudonymisation key at %s (mode 0600, version %s); "
        "production keys come from the Airflow connection 'pseudonymisation_key'",
        path,
        version,
    )
    return key
