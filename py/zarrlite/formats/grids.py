"""Chunk grids: where each chunk of a dimension starts and how long its edge is.

Regular grids (zarr v2, the zarr v3 core, N5) have one edge length per dimension. Rectilinear grids
(the zarr-extensions `rectilinear` chunk grid, as zarr-python 3.2+ writes it) list the edge lengths of
each dimension, run-length encoded; they are kept as runs here, so a grid of a billion equal chunks is
as small as its JSON. Indexing, the array and the viewer ask only `chunk_of`, `start` and `edge`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from ..errors import MetadataError


@dataclass(frozen=True)
class RegularDim:
    """Chunks of `size` along an axis of `length`."""
    size: int
    length: int = 0

    @property
    def count(self) -> int:
        return math.ceil(self.length / self.size)

    @property
    def largest(self) -> int:
        return self.size

    def chunk_of(self, index: int) -> int:
        return index // self.size

    def start(self, k: int) -> int:
        return k * self.size

    def edge(self, k: int) -> int:
        return self.size


@dataclass(frozen=True)
class VariableDim:
    """Runs of equal edges: run j has `counts[j]` chunks of `edges[j]`, its first chunk numbered
    `firsts[j]` and starting at `starts[j]`. Only the runs that reach into the axis are kept."""
    edges: tuple[int, ...]
    counts: tuple[int, ...]
    firsts: tuple[int, ...]
    starts: tuple[int, ...]
    length: int

    @property
    def count(self) -> int:
        return self.firsts[-1] + self.counts[-1] if self.edges else 0

    @property
    def largest(self) -> int:
        return max(self.edges, default=1)

    def chunk_of(self, index: int) -> int:
        j = bisect.bisect_right(self.starts, index) - 1
        return self.firsts[j] + (index - self.starts[j]) // self.edges[j]

    def start(self, k: int) -> int:
        j = bisect.bisect_right(self.firsts, k) - 1
        return self.starts[j] + (k - self.firsts[j]) * self.edges[j]

    def edge(self, k: int) -> int:
        return self.edges[bisect.bisect_right(self.firsts, k) - 1]


def variable_dim(runs: list[tuple[int, int]], length: int) -> VariableDim:
    """A dimension from (edge, count) runs whose edges add up to at least `length`."""
    edges, counts, firsts, starts = [], [], [], []
    first = start = 0
    for edge, count in runs:
        if start >= length and edges:
            break  # chunks wholly past the end (the spec permits overflow): never read
        keep = count if start + edge * count <= length else min(count, -(-(length - start) // edge))
        if edges and edges[-1] == edge:  # merge equal neighbours
            counts[-1] += keep
        else:
            edges.append(edge), counts.append(keep), firsts.append(first), starts.append(start)
        first += keep
        start += edge * keep
    if start < length:
        raise MetadataError(f"chunk edge lengths add up to {start}, less than the array's {length}")
    return VariableDim(tuple(edges), tuple(counts), tuple(firsts), tuple(starts), length)


@dataclass(frozen=True)
class ChunkGrid:
    """One dimension object per axis (RegularDim or VariableDim)."""
    dims: tuple

    @property
    def regular(self) -> bool:
        return all(isinstance(d, RegularDim) for d in self.dims)

    @property
    def shape(self) -> tuple[int, ...]:
        """Chunks per dimension."""
        return tuple(d.count for d in self.dims)

    @property
    def largest(self) -> tuple[int, ...]:
        """The longest edge of each dimension: what one chunk can hold at most."""
        return tuple(d.largest for d in self.dims)

    def chunk_shape(self, coords) -> tuple[int, ...]:
        """The stored shape of the chunk at `coords` (edge chunks are whole, as they are stored)."""
        return tuple(d.edge(k) for d, k in zip(self.dims, coords))

    def chunk_start(self, coords) -> tuple[int, ...]:
        return tuple(d.start(k) for d, k in zip(self.dims, coords))

    def boundaries(self, axis: int, limit: int = 1 << 16) -> list[int] | None:
        """Where the chunks of `axis` start, and the axis' end: `count + 1` numbers; None past `limit`."""
        d = self.dims[axis]
        if d.count > limit:
            return None
        return [d.start(k) for k in range(d.count)] + [d.length]

    def variable_bounds(self) -> tuple | None:
        """Per dimension, `boundaries` where the edges vary (None where they do not, or past the limit);
        None for a regular grid. What a viewer needs to draw chunks where they are."""
        if self.regular:
            return None
        return tuple(None if isinstance(d, RegularDim) else self.boundaries(axis) for axis, d in enumerate(self.dims))


def regular_grid(shape, chunks) -> ChunkGrid:
    return ChunkGrid(tuple(RegularDim(c, s) for c, s in zip(chunks, shape)))


MAX_RUNS = 1 << 20   # entries of one dimension's list: metadata larger than this is not a grid but an attack


def parse_rectilinear(conf: dict, shape: tuple[int, ...], where: str) -> ChunkGrid:
    """The zarr-extensions `rectilinear` configuration: {"kind": "inline", "chunk_shapes": [...]}, one entry
    per dimension: an integer (a regular step), or a list of edge lengths and [edge, count] runs."""
    if conf.get("kind") != "inline":
        raise MetadataError(f"{where}: rectilinear chunk grid kind {conf.get('kind')!r} is not supported "
                            "(only 'inline')")
    specs = conf.get("chunk_shapes")
    if not isinstance(specs, list) or len(specs) != len(shape):
        raise MetadataError(f"{where}: chunk_shapes must be a list of {len(shape)} entries, got {specs!r}")
    dims = []
    for axis, (spec, length) in enumerate(zip(specs, shape)):
        what = f"{where} chunk_shapes[{axis}]"
        if _positive(spec):
            dims.append(RegularDim(spec, length))
            continue
        if not isinstance(spec, list) or not spec or len(spec) > MAX_RUNS:
            raise MetadataError(f"{what}: expected an integer or a non-empty list of edge lengths, got {spec!r}")
        runs = []
        for item in spec:
            if _positive(item):
                runs.append((item, 1))
            elif isinstance(item, list) and len(item) == 2 and _positive(item[0]) and _positive(item[1]):
                runs.append((item[0], item[1]))
            else:
                raise MetadataError(f"{what}: {item!r} is neither an edge length nor an [edge, count] run")
        try:
            dims.append(variable_dim(runs, length))
        except MetadataError as e:
            raise MetadataError(f"{what}: {e}") from None
    return ChunkGrid(tuple(dims))


def _positive(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**62
