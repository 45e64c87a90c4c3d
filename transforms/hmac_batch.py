"""HMAC-SHA256 of many short values at once, as hex tokens, compiled with numba.

The pseudonymisation step makes one token per distinct value per domain: about 1.5 M
HMACs for a million person records, almost all of them NHS numbers (every one distinct).
In Python each HMAC costs ~1 µs of interpreter overhead around OpenSSL's ~0.2 µs of
hashing. Here the values travel as one Arrow string buffer; a numba-compiled loop pads
each message and calls libcrypto's one-block SHA-256 compression (the library hashlib
itself uses), and writes the hex digits straight into the buffer of an Arrow string
array: no Python object per value. The loop releases the GIL, so callers can hash on
several threads. Where that function cannot be found the same tokens come from a
hashlib loop.

The result is byte-for-byte ``hmac.new(secret, domain + b"\\x1f" + value,
"sha256").hexdigest()[:width]`` (RFC 2104); ``tests/test_hmac_batch.py`` checks it against
the standard library for values of every length around the SHA-256 block boundaries and
for non-ASCII text. The key's inner and outer pad blocks are hashed once per call, so each
value of up to 55 bytes (with its domain prefix) costs two compressions.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import hmac
import logging

import numpy as np
import pyarrow as pa
from numba import njit

log = logging.getLogger(__name__)

_H0 = np.array(
    [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB,
     0x5BE0CD19],
    dtype=np.uint32,
)  # fmt: skip
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()
_EMPTY = np.zeros(1, dtype=np.uint8)
BLOCK = 64


def _libcrypto_path() -> str | None:
    """The libcrypto Python's own hashlib loaded (from this process's memory map), else
    the system's."""
    import _hashlib  # noqa: F401 - loads libcrypto

    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "/libcrypto" in path:
                    return path
    except OSError:
        pass
    return ctypes.util.find_library("crypto")


def _openssl_transform():
    """libcrypto's one-block SHA-256 (``SHA256_Transform``, in OpenSSL 1.1 and 3), which
    uses the CPU's SHA extensions where it has them (~40 ns a block here), or None."""
    name = _libcrypto_path()
    try:
        fn = ctypes.CDLL(name).SHA256_Transform if name else None
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        fn.restype = None
    return fn


#: SHA256_CTX is h[8], Nl, Nh, data[16], num, md_len: 28 words; the transform reads and
#: writes only h, the first 8
_CTX_WORDS = 28
_SHA256_TRANSFORM = _openssl_transform()
#: whether the compiled path is available (else the hashlib loop, same tokens)
NATIVE = _SHA256_TRANSFORM is not None
if not NATIVE:  # pragma: no cover - CPython's hashlib links libcrypto on every build here
    log.warning("libcrypto's SHA256_Transform not found: HMAC tokens take the hashlib path")


@njit(cache=True)
def _pad_state(compress, key_block, pad):
    state = np.zeros(_CTX_WORDS, dtype=np.uint32)
    state[:8] = _H0
    block = key_block ^ np.uint8(pad)  # a new array: the caller's key stays as it was
    compress(state.ctypes.data, block.ctypes.data)
    return state


@njit(cache=True, nogil=True)
def _hmac_hex(compress, key_block, prefix, data, offsets, width, out):
    """Hex HMAC-SHA256 of ``prefix + data[offsets[i]:offsets[i+1]]`` into ``out[i]``.

    ``out`` is (n, width) uint8; ``width`` hex digits (<= 64) of each digest are kept.
    ``compress`` is libcrypto's ``SHA256_Transform``: passed in, not a global, so that
    numba can cache the compiled kernel on disk.
    """
    istate = _pad_state(compress, key_block, 0x36)
    ostate = _pad_state(compress, key_block, 0x5C)
    np_ = len(prefix)
    block = np.empty(BLOCK, dtype=np.uint8)
    state = np.empty(_CTX_WORDS, dtype=np.uint32)
    digest = np.empty(32, dtype=np.uint8)
    for i in range(len(offsets) - 1):
        lo = offsets[i]
        length = np_ + (offsets[i + 1] - lo)
        # message || 0x80 || zeros || 64-bit big-endian bit length (key block included)
        total = ((length + 8) // BLOCK + 1) * BLOCK
        bits = (BLOCK + length) * 8
        state[:8] = istate[:8]
        for start in range(0, total, BLOCK):
            for j in range(BLOCK):
                p = start + j
                if p < np_:
                    block[j] = prefix[p]
                elif p < length:
                    block[j] = data[lo + p - np_]
                elif p == length:
                    block[j] = 0x80
                elif p >= total - 8:
                    block[j] = (bits >> (8 * (total - 1 - p))) & 0xFF
                else:
                    block[j] = 0
            compress(state.ctypes.data, block.ctypes.data)
        for j in range(8):
            for b in range(4):
                digest[4 * j + b] = (state[j] >> np.uint32(24 - 8 * b)) & np.uint32(0xFF)
        # outer hash: one block of the 32-byte inner digest, padded (768 bits in all)
        block[:32] = digest
        block[32] = 0x80
        block[33:62] = 0
        block[62] = 0x03
        block[63] = 0x00
        state[:8] = ostate[:8]
        compress(state.ctypes.data, block.ctypes.data)
        for j in range(width // 2):
            byte = (state[j // 4] >> np.uint32(24 - 8 * (j % 4))) & np.uint32(0xFF)
            out[i, 2 * j] = _HEX[byte >> 4]
            out[i, 2 * j + 1] = _HEX[byte & 0xF]


def _key_block(secret: bytes) -> bytes:
    key = hashlib.sha256(secret).digest() if len(secret) > BLOCK else secret
    return key.ljust(BLOCK, b"\0")


def _python_hex(secret: bytes, prefix: bytes, values: list, width: int) -> list:
    """The same tokens one at a time through the standard library: the fallback."""
    keyed = hmac.new(secret, prefix, "sha256")  # key and prefix hashed once, then copied
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        h = keyed.copy()
        h.update(v.encode("utf-8"))
        out.append(h.hexdigest()[:width])
    return out


def hmac_hex_tokens(
    secret: bytes, prefix: bytes, values: pa.Array, width: int, *, native: bool | None = None
) -> pa.Array:
    """``hmac(secret, prefix + value)`` as ``width`` hex digits per value of an Arrow
    string array, as a ``large_string`` array (what pandas' ``str`` dtype holds, so no
    cast follows); null stays null. ``native=False`` forces the hashlib path."""
    if width % 2 or not 0 < width <= 64:
        raise ValueError("width must be an even number of hex digits, at most 64")
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"expected an Arrow string array, got {values.type}")
    values = values.cast(pa.large_string())  # one offset width for the loop: int64
    if native is None:
        native = NATIVE
    if not native:
        return pa.array(_python_hex(secret, prefix, values.to_pylist(), width), pa.large_string())
    if values.offset:
        values = pa.concat_arrays([values])  # a slice: copy so its buffers start at 0
    n = len(values)
    validity, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[: n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf and data_buf.size else _EMPTY
    out = np.empty((n, width), dtype=np.uint8)
    if n:
        key = np.frombuffer(_key_block(secret), dtype=np.uint8)
        _hmac_hex(
            _SHA256_TRANSFORM, key, np.frombuffer(prefix, np.uint8), data, offsets, width, out
        )
    return pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int64)),
        pa.py_buffer(out),
        validity if values.null_count else None,
        values.null_count,
    )
