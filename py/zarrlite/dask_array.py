"""Arrays as lazy dask arrays: one block per stored chunk (shard where sharded), or per block of whole
chunks. Blocks are read by zarrlite (`arr[block]`); the Array pickles as what re-opens it (reopen.py),
so the graph runs on dask.distributed workers in other processes too."""

from __future__ import annotations

import uuid

import numpy as np

from .array import Array
from .errors import SelectionError, ZarrliteError


def block_shape(arr: Array, chunks=None) -> tuple[int, ...]:
    """The dask block shape: the stored chunk (shard) shape by default; else `chunks`, an int for every
    dimension or one entry per dimension, each a multiple of the chunk (the inner chunk where sharded:
    zarrlite reads inner chunks by byte range), or -1 / None / anything past the extent for the whole axis."""
    if chunks is None:
        return tuple(arr.shards or arr.chunks)
    wanted = (chunks,) * arr.ndim if isinstance(chunks, int) else tuple(chunks)
    if len(wanted) != arr.ndim:
        raise SelectionError(f"array '{arr.path}': chunks={chunks!r} has {len(wanted)} entries for {arr.ndim} "
                             "dimensions")
    out = []
    for d, (want, unit, extent) in enumerate(zip(wanted, arr.chunks, arr.shape)):
        if want is None or want == -1 or (isinstance(want, int) and want >= extent):
            out.append(max(extent, 1))
        elif isinstance(want, int) and not isinstance(want, bool) and want > 0 and want % unit == 0:
            out.append(want)
        else:
            raise SelectionError(f"array '{arr.path}': a block of {want!r} along dimension {d} is not a whole "
                                 f"number of chunks of {unit} (blocks are whole chunks: a multiple of {unit}, "
                                 "or -1 for the whole axis)")
    return tuple(out)


def array_to_dask(arr: Array, chunks=None, *, name: str | None = None):
    """A lazy `dask.array.Array` over `arr` (see `block_shape` for `chunks`). `name` is the dask key
    prefix; by default it is derived from the source, path and block shape when the source is a path or
    URL (the same array gives the same keys), else it is unique."""
    import dask.array as da
    from dask.base import tokenize

    blocks = block_shape(arr, chunks)
    if name is None:
        opened = arr.context.opened
        token = (tokenize(opened.source, arr.path, opened.options, arr.shape, str(arr.dtype), blocks)
                 if opened is not None and isinstance(opened.source, str) else uuid.uuid4().hex)
        name = f"zarrlite-{token}"
    # One task reads one block with a basic selection (fancy=False), no lock: zarrlite reads are
    # independent and thread-safe; the array is one key of the graph, sent to each worker once.
    return da.from_array(arr, chunks=blocks, name=name, lock=False, asarray=False, fancy=False,
                         meta=np.empty((0,) * arr.ndim, dtype=arr.dtype))


def to_dask(source, path: str = "", *, chunks=None, name: str | None = None, **options):
    """`zarrlite.open(source, path, **options).to_dask(chunks)`: a lazy dask array of the array at `path`."""
    from . import open as open_node

    arr = open_node(source, path, **options)
    if not isinstance(arr, Array):
        raise ZarrliteError(f"'{path or '/'}' in {source!r} is a group, not an array: name an array's path")
    return array_to_dask(arr, chunks, name=name)
