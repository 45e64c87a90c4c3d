"""A small columnar accumulator: add blocks of rows (arrays or scalars), build at the end."""

from __future__ import annotations

import numpy as np


class Cols:
    """Columns of one table under construction. ``ints`` name the integer columns."""

    def __init__(self, names: list[str], ints: set[str]):
        self.names = names
        self.ints = ints
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **cols) -> None:
        if n == 0:
            return
        unknown = set(cols) - set(self.names)
        if unknown:
            raise KeyError(f"unknown columns {unknown}")
        part = {}
        for k in self.names:
            v = cols.get(k)
            if k in self.ints:
                arr = np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy()
            elif isinstance(v, np.ndarray):
                arr = v.astype(object, copy=False)
            else:
                arr = np.empty(n, dtype=object)
                arr[:] = v
            if arr.shape[0] != n:
                raise ValueError(f"column {k}: {arr.shape[0]} rows, expected {n}")
            part[k] = arr
        self.parts.append(part)

    def build(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {
                k: np.zeros(0, dtype=np.int64) if k in self.ints else np.empty(0, dtype=object)
                for k in self.names
            }
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.names}


def take(table: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in table.items()}


def nrows(table: dict[str, np.ndarray]) -> int:
    return next(iter(table.values())).shape[0] if table else 0


def pick(rng: np.random.Generator, options: list, probs: list[float], n: int) -> np.ndarray:
    """``n`` draws from ``options`` with weights ``probs`` (normalised), as an object array."""
    arr = np.empty(len(options), dtype=object)
    arr[:] = options
    p = np.asarray(probs, dtype=float)
    return arr[rng.choice(len(options), size=n, p=p / p.sum())]


def uniform_days(rng: np.random.Generator, lo, hi, n: int | None = None) -> np.ndarray:
    """Integer days uniformly in ``[lo, hi)`` (elementwise; ``hi > lo`` assumed)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    size = n if n is not None else np.broadcast(lo, hi).shape
    return lo + (rng.random(size) * np.maximum(hi - lo, 1)).astype(np.int64)
