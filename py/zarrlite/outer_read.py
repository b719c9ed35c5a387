"""Outer (orthogonal) selection — integer arrays per dimension, as numpy's `a[np.ix_(...)]` — read as a
few basic selections: the indices along a dimension are cut into runs wherever they skip a whole chunk,
so a run never reads a chunk it does not need, and each combination of runs is one basic read."""

from __future__ import annotations

import itertools

import numpy as np

from .array import Array, bounded
from .errors import SelectionError


def _runs(index: np.ndarray, size: int, chunk: int) -> list[tuple[int, int, slice]]:
    """(start, stop, positions in the output) for each run of nondecreasing `index`."""
    if index.size and (index.min() < 0 or index.max() >= size):
        raise SelectionError(f"index out of bounds for a dimension of {size}")
    cuts = np.flatnonzero(np.diff(index) >= chunk) + 1
    bounds = [0, *cuts.tolist(), index.size]
    return [(int(index[a]), int(index[b - 1]) + 1, slice(a, b)) for a, b in zip(bounds, bounds[1:]) if b > a]


async def read_outer(arr: Array, key: tuple) -> np.ndarray:
    """`key` has one entry per dimension: an int, a slice, or a 1-D nondecreasing integer array."""
    if not any(isinstance(k, np.ndarray) for k in key):
        return await arr.get(key)
    key = tuple(np.asarray(k, dtype=np.int64) if isinstance(k, np.ndarray) else k for k in key)
    choices, shape = [], []
    for d, k in enumerate(key):
        if isinstance(k, np.ndarray):
            choices.append(_runs(k, arr.shape[d], arr.chunks[d]))
            shape.append(k.size)
        elif isinstance(k, slice):
            choices.append([k])
            shape.append(len(range(*k.indices(arr.shape[d]))))
        else:
            choices.append([k])
    out = np.empty(shape, dtype=arr.dtype)
    if not out.size:
        return out

    async def one(combo):
        basic, where, local = [], [], []
        for k, c in zip(key, combo):
            if isinstance(k, np.ndarray):
                start, stop, positions = c
                basic.append(slice(start, stop))
                where.append(positions)
                local.append(k[positions] - start)
            else:
                basic.append(c)
                if isinstance(c, slice):
                    where.append(slice(None))
                    local.append(slice(None))
        block = await arr.get(tuple(basic))
        for axis, take in enumerate(local):  # outer semantics: one dimension at a time
            if isinstance(take, np.ndarray):
                block = np.take(block, take, axis=axis)
        out[tuple(where)] = block

    await bounded(map(one, itertools.product(*choices)), arr.context.concurrency)
    return out
