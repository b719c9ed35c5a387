"""Basic numpy selection -> per-chunk projections. Pure arithmetic, no I/O."""

from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass
from typing import Iterator, NamedTuple

from .errors import SelectionError
from .formats.grids import ChunkGrid, RegularDim


@dataclass(frozen=True)
class DimSelection:
    """One dimension of a selection, normalised to a positive step: indices start, start+step, ...
    (`count` of them). `drop` for an integer index; `flip` when the user's step was negative."""
    start: int
    step: int
    count: int
    drop: bool = False
    flip: bool = False

    @property
    def last(self) -> int:
        return self.start + (self.count - 1) * self.step


def _as_int(value, what):
    try:
        return operator.index(value)
    except TypeError:
        raise SelectionError(f"{what}: only integers, slices and ... are supported "
                             f"(basic selection), got {value!r}") from None


def normalize_selection(selection, shape: tuple[int, ...]) -> list[DimSelection]:
    if not isinstance(selection, tuple):
        selection = (selection,)
    if sum(1 for s in selection if s is Ellipsis) > 1:
        raise SelectionError("an index can only have a single ellipsis ('...')")
    if any(s is None for s in selection):
        raise SelectionError("np.newaxis (None) is not supported in a selection")
    explicit = len(selection) - (1 if Ellipsis in selection else 0)
    if explicit > len(shape):
        raise SelectionError(f"too many indices: {explicit} for an array of {len(shape)} dimensions")
    expanded = []
    for s in selection:
        if s is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - explicit))
        else:
            expanded.append(s)
    expanded.extend([slice(None)] * (len(shape) - len(expanded)))
    return [_dim(s, n, axis) for axis, (s, n) in enumerate(zip(expanded, shape))]


def _dim(s, n: int, axis: int) -> DimSelection:
    if isinstance(s, slice):
        start, stop, step = (None if v is None else _as_int(v, f"axis {axis}") for v in (s.start, s.stop, s.step))
        if step == 0:
            raise SelectionError(f"axis {axis}: slice step cannot be zero")
        start, stop, step = slice(start, stop, step).indices(n)
        count = len(range(start, stop, step))
        if step > 0:
            return DimSelection(start, step, count)
        if count == 0:
            return DimSelection(0, 1, 0, flip=True)
        return DimSelection(start + (count - 1) * step, -step, count, flip=True)
    i = _as_int(s, f"axis {axis}")
    if not -n <= i < n:
        raise SelectionError(f"index {i} is out of bounds for axis {axis} with size {n}")
    return DimSelection(i % n, 1, 1, drop=True)


def output_shape(dims: list[DimSelection]) -> tuple[int, ...]:
    return tuple(d.count for d in dims if not d.drop)


def dim_projections(d: DimSelection, chunk) -> list[tuple[int, slice, slice]]:
    """(chunk index, slice within the chunk, slice within the output axis) for each chunk touched.
    `chunk` is the edge length of a regular grid or a grid dimension (formats/grids.py: `chunk_of`,
    `start`, `edge`). Cost is the number of chunks touched, not the extent of the selection."""
    dim = RegularDim(chunk) if isinstance(chunk, int) else chunk
    out = []
    if d.count == 0:
        return out
    idx, last = d.start, d.last
    while idx <= last:
        k = dim.chunk_of(idx)
        begin = dim.start(k)
        end = begin + dim.edge(k)
        last_in = idx + ((min(last, end - 1) - idx) // d.step) * d.step
        o0 = (idx - d.start) // d.step
        o1 = (last_in - d.start) // d.step + 1
        out.append((k, slice(idx - begin, last_in - begin + 1, d.step), slice(o0, o1)))
        idx = last_in + d.step
    return out


class ChunkProjection(NamedTuple):   # (a named tuple: reads of shards make thousands, and quickly)
    coords: tuple[int, ...]        # chunk grid coordinates
    chunk_selection: tuple         # what to take from the chunk (a slice, or an int for a dropped axis)
    out_selection: tuple           # where it goes in the output (dropped dimensions removed)


def _grid_dims(chunks) -> tuple:
    """Edge lengths of a regular grid, or a ChunkGrid: one entry per dimension for dim_projections."""
    return chunks.dims if isinstance(chunks, ChunkGrid) else tuple(chunks)


def chunk_projections(dims: list[DimSelection], chunks) -> Iterator[ChunkProjection]:
    """Per chunk touched: its coordinates and where its part of the selection goes. `chunks`: the chunk
    shape of a regular grid, or a ChunkGrid (rectilinear grids too)."""
    if not dims:  # a 0-d array: its one chunk
        yield ChunkProjection((), (), ())
        return
    # Per dimension, the chunk's index, its selection item and the output's (None for a dropped axis),
    # worked out once: each chunk is then a transpose of one combination (reads touch thousands).
    per_dim = [[(k, cs.start if d.drop else cs, None if d.drop else os) for k, cs, os in dim_projections(d, c)]
               for d, c in zip(dims, _grid_dims(chunks))]
    kept = None if not any(d.drop for d in dims) else [i for i, d in enumerate(dims) if not d.drop]
    for combo in itertools.product(*per_dim):
        coords, chunk_sel, out_sel = zip(*combo)
        yield ChunkProjection(coords, chunk_sel, out_sel if kept is None else tuple([out_sel[i] for i in kept]))


class ShardSelection(NamedTuple):
    """The inner chunks of one shard that a selection touches (`shard_selections`), kept per dimension:
    the shard's chunk projections are made only when asked for (`projections`)."""
    coords: tuple[int, ...]        # the shard's grid coordinates
    per_dim: tuple                 # per dimension [(within, inner chunk index, chunk item, out item)], ascending
    covered: tuple | None          # the output's slices when every element of the shard is selected (step 1)
    kept: list | None              # the dimensions not dropped, None when none is

    @property
    def count(self) -> int:
        return math.prod(map(len, self.per_dim))

    def projections(self) -> Iterator[tuple[tuple, ChunkProjection]]:
        """(the inner chunk's coordinates within the shard, its projection), in C order of those."""
        kept = self.kept
        if not self.per_dim:  # a 0-d array
            yield (), ChunkProjection((), (), ())
            return
        for combo in itertools.product(*self.per_dim):
            within, coords, chunk_sel, out_sel = zip(*combo)
            yield within, ChunkProjection(coords, chunk_sel,
                                          out_sel if kept is None else tuple([out_sel[i] for i in kept]))


def shard_selections(dims: list[DimSelection], inner: tuple[int, ...], shards) -> Iterator[ShardSelection]:
    """Per shard touched: the inner chunks (of shape `inner`) the selection reads in it, worked out per
    dimension (not per inner chunk: a read of a few shards touches thousands). `shards`: the grid of the
    shards (formats/grids.py), whose every edge is a multiple of `inner`."""
    per_dim = []
    for d, n, sd in zip(dims, inner, shards.dims):
        groups = {}
        for k, cs, os in dim_projections(d, n):
            s = sd.chunk_of(k * n)
            groups.setdefault(s, []).append(((k * n - sd.start(s)) // n, k, cs.start if d.drop else cs,
                                             None if d.drop else os))
        axis = []
        for s, members in groups.items():
            edge = sd.edge(s)
            if d.drop:   # an integer index selects all of a shard one element thick
                whole = edge == 1
            else:
                whole = (len(members) * n == edge and d.step == 1 and members[0][2].start == 0
                         and members[-1][2].stop == n)
            out = None if d.drop else slice(members[0][3].start, members[-1][3].stop)
            axis.append((s, tuple(members), whole, out))
        per_dim.append(axis)
    kept = None if not any(d.drop for d in dims) else [i for i, d in enumerate(dims) if not d.drop]
    for combo in itertools.product(*per_dim):
        covered = (tuple(a[3] for a in combo if a[3] is not None) if dims and all(a[2] for a in combo) else None)
        yield ShardSelection(tuple(a[0] for a in combo), tuple(a[1] for a in combo), covered, kept)


def byte_span(chunk_selection: tuple, shape: tuple[int, ...], itemsize: int) -> tuple[int, int]:
    """[start, stop) of the bytes that `chunk_selection` (a ChunkProjection's) reads from a C-order chunk."""
    first = last = 0
    stride = itemsize
    for sel, n in zip(reversed(chunk_selection), reversed(shape)):
        if isinstance(sel, slice):
            r = range(sel.start, sel.stop, sel.step)
            first, last = first + r[0] * stride, last + r[-1] * stride
        else:
            first, last = first + sel * stride, last + sel * stride
        stride *= n
    return first, last + itemsize


def count_chunks(dims: list[DimSelection], chunks) -> int:
    return math.prod(len(dim_projections(d, c)) for d, c in zip(dims, _grid_dims(chunks)))


def flip_axes(dims: list[DimSelection]) -> tuple:
    """The view that turns the positive-step result into the user's negative-step order."""
    return tuple(slice(None, None, -1) if d.flip else slice(None) for d in dims if not d.drop)


def parse_selection(text: str) -> tuple:
    """'0,12,:,100:900:2' or '...,5' -> a selection tuple (the CLI's --select, the JS API's strings)."""
    if not isinstance(text, str):
        raise SelectionError(f"selection text must be a string, got {type(text).__name__}")
    text = text.strip().strip("[]()")
    if not text:
        return ()
    out = []
    for part in text.split(","):
        part = part.strip()
        if part in ("...", "Ellipsis"):
            out.append(Ellipsis)
        elif ":" in part:
            bits = part.split(":")
            if len(bits) > 3:
                raise SelectionError(f"bad slice {part!r}")
            out.append(slice(*(_parse_int(b, part) if b.strip() else None for b in bits)))
        else:
            out.append(_parse_int(part, part))
    return tuple(out)


def _parse_int(text, part):
    try:
        return int(text.strip())
    except ValueError:
        raise SelectionError(f"bad index {part!r} in selection") from None
