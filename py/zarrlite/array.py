"""The Array: glues indexing, the store and the codec pipeline together."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import numpy as np

from .codecs.pipeline import ChunkSpec
from .codecs.sharding import ShardingCodec
from .context import Context
from .decode_queue import STAGES, DecodeQueue
from .errors import BudgetError, ChunkError, ZarrliteError, in_context
from .formats.dtypes import native
from .formats.metadata import ArrayMetadata
from .indexing import byte_span, chunk_projections, flip_axes, normalize_selection, output_shape
from .reopen import reduce_node
from .runtime import CPU_THREADS, bounded, run_cpu, run_sync
from .sharded_reads import ShardedReads
from .stores.keys import join_key


class Array(ShardedReads):
    """A Zarr v2, Zarr v3 or N5 array. `arr[sel]` / `await arr.get(sel)` read a numpy selection."""

    def __init__(self, ctx: Context, path: str, meta: ArrayMetadata):
        self._ctx = ctx
        self.path = path
        self.meta = meta
        sharding = meta.pipeline.array_bytes
        # Read inner chunks of shards with byte ranges when nothing sits around the sharding codec.
        self._sharding = sharding if (isinstance(sharding, ShardingCodec) and not meta.pipeline.array_array
                                      and not meta.pipeline.bytes_bytes) else None
        self._grid = meta.chunk_grid
        # inner chunks per shard along each dimension, where every shard is alike (a regular grid)
        self._per_shard = (tuple(s // n for s, n in zip(meta.chunks, self._sharding.chunk_shape))
                           if self._sharding is not None and meta.rectilinear is None else None)

    # -- description ------------------------------------------------------------------------
    shape = property(lambda self: self.meta.shape)
    ndim = property(lambda self: self.meta.ndim)
    format = property(lambda self: self.meta.format)
    attrs = property(lambda self: self.meta.attrs)
    dimension_names = property(lambda self: self.meta.dimension_names)
    store = property(lambda self: self._ctx.store, doc="The store the array reads from.")
    context = property(lambda self: self._ctx, doc="The settings and caches shared by the nodes of its source.")

    @property
    def dtype(self) -> np.dtype:
        """The dtype of what reads return: the stored dtype in native byte order."""
        return native(self.meta.dtype)

    @property
    def chunks(self) -> tuple[int, ...]:
        """The chunk shape (the inner chunk shape when sharded, as in zarr-python)."""
        sharding = self.meta.pipeline.array_bytes
        return sharding.chunk_shape if isinstance(sharding, ShardingCodec) else self.meta.chunks

    @property
    def shards(self) -> tuple[int, ...] | None:
        return self.meta.chunks if isinstance(self.meta.pipeline.array_bytes, ShardingCodec) else None

    @property
    def fill_value(self):
        return self.meta.fill_value

    @property
    def codecs(self) -> list[str]:
        return self.meta.pipeline.describe()

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return (f"<zarrlite.Array {self.format} '/{self.path}' shape={self.shape} dtype={self.dtype} "
                f"chunks={self.chunks}>")

    def _repr_html_(self):
        from .notebook import array_html
        return array_html(self)

    def __reduce__(self):
        return reduce_node(self, self._ctx.opened)  # what re-opens it (reopen.py): picklable for dask workers

    def to_dask(self, chunks=None, *, name=None):
        """A lazy dask.array whose blocks are this array's stored chunks (shards where sharded), or `chunks`:
        a block shape of whole chunks per dimension (see zarrlite.dask_array.array_to_dask)."""
        from .dask_array import array_to_dask

        return array_to_dask(self, chunks, name=name)

    def chunk_key(self, coords) -> str:
        """The store key of the stored chunk (shard) at grid `coords`."""
        return join_key(self.path, self.meta.chunk_key(tuple(coords)))

    # -- reading ------------------------------------------------------------------------------
    def __getitem__(self, selection) -> np.ndarray:
        return run_sync(self.get(selection), "await arr.get(selection)")

    async def get(self, selection=...) -> np.ndarray:
        """Read a basic numpy selection (ints, slices with steps, `...`) into a new ndarray."""
        dims = normalize_selection(selection, self.shape)
        shape = output_shape(dims)
        nbytes = math.prod(shape) * self.dtype.itemsize
        if nbytes > self._ctx.max_bytes:
            raise BudgetError(f"array '{self.path}': the selection is {nbytes:,} bytes, more than the memory "
                              f"budget of {self._ctx.max_bytes:,} bytes (open with max_bytes=... to change it)")
        chunk_nbytes = math.prod(self.meta.chunks) * self.dtype.itemsize
        if chunk_nbytes > self._ctx.max_bytes:
            raise BudgetError(f"array '{self.path}': one chunk is {chunk_nbytes:,} bytes, more than the memory "
                              f"budget of {self._ctx.max_bytes:,} bytes")
        out = np.empty(shape, dtype=self.dtype)
        if out.size:
            if self._sharding is not None:
                await self._read_sharded(dims, out)
            else:
                await self._read_chunks(dims, out)
        return out[flip_axes(dims)] if any(d.flip for d in dims) else out

    def _context(self, coords, exc: ZarrliteError) -> ZarrliteError:
        if self._sharding is None:
            where = f"chunk {tuple(coords)} (key '{self.chunk_key(coords)}')"
        else:
            where = f"inner chunk {tuple(coords)} of shard '{self.chunk_key(self._in_shard(coords)[0])}'"
        return in_context(exc, f"array '{self.path}', {where}")

    def _copy(self, out, proj, chunk: np.ndarray, coords, chunk_shape) -> None:
        if chunk.shape != chunk_shape:  # (a whole chunk covers its extent: the check is for short N5 blocks)
            want = self._extent(coords, chunk_shape)
            if any(h < w for h, w in zip(chunk.shape, want)):
                raise ChunkError(f"block of shape {chunk.shape} is smaller than the expected {want}")
        out[proj.out_selection] = chunk[proj.chunk_selection]

    def _extent(self, coords, chunk_shape) -> tuple[int, ...]:
        """The part of the chunk at `coords` inside the array (the array's end cuts edge chunks)."""
        grid = self.meta.rectilinear
        starts = (grid.chunk_start(coords) if grid is not None and self._sharding is None
                  else [k * c for k, c in zip(coords, chunk_shape)])   # regular (inner chunks of shards are)
        return tuple(min(c, s - b) for c, s, b in zip(chunk_shape, self.shape, starts))

    async def _decode_into(self, data, spec: ChunkSpec, out, proj, coords) -> None:
        """Decode through an asynchronous (browser) pipeline; synchronous ones go through a DecodeQueue."""
        pipeline = self.meta.pipeline if self._sharding is None else self._sharding.inner
        try:
            self._copy(out, proj, await pipeline.decode_async(data, spec), coords, spec.shape)
        except ZarrliteError as e:
            raise self._context(coords, e) from e

    async def _read_chunks(self, dims, out) -> None:
        store = self._ctx.store
        spec = ChunkSpec(self.meta.chunks, self.meta.dtype, self.meta.fill_value, self._ctx.max_bytes)

        grid = self.meta.rectilinear

        def spec_of(coords):  # the chunks of a rectilinear grid differ in shape
            return spec if grid is None else replace(spec, shape=grid.chunk_shape(coords))

        get_sync = getattr(store, "get_sync", None)
        if get_sync is not None and not self.meta.pipeline.is_async:
            await self._read_local(dims, out, get_sync, spec_of)
            return

        if self.meta.pipeline.is_async:
            # a first decoder that decodes values where a browser store holds them (codecs/browser.py)
            first = self.meta.pipeline.bytes_bytes[-1:]
            held = getattr(type(store), "get_held", None) and first and getattr(first[0], "takes_held", False)
            get = store.get_held if held else store.get

            async def one(proj):
                data = await get(self.chunk_key(proj.coords))
                if data is None:
                    out[proj.out_selection] = self.meta.fill_value
                else:
                    await self._decode_into(data, spec_of(proj.coords), out, proj, proj.coords)

            await bounded(map(one, chunk_projections(dims, self.meta.chunk_grid)), self._ctx.concurrency)
            return
        decoders = {}   # one per chunk shape (a rectilinear grid has several)
        into = self.meta.pipeline.decoder_into(spec) if grid is None else None

        def decode(data, proj):
            if into is not None and self._decode_direct(into, data, spec, out, proj):
                return
            chunk_spec = spec_of(proj.coords)
            decoder = decoders.get(chunk_spec.shape)
            if decoder is None:
                decoder = decoders[chunk_spec.shape] = self.meta.pipeline.decoder(chunk_spec)
            try:
                self._copy(out, proj, decoder(data), proj.coords, chunk_spec.shape)
            except ZarrliteError as e:
                raise self._context(proj.coords, e) from e

        async def fetch(proj):  # the request slot is free once the bytes are queued for decoding
            data = await store.get(self.chunk_key(proj.coords))
            if data is None:
                out[proj.out_selection] = self.meta.fill_value
            else:
                await queue.put(lambda: decode(data, proj))

        queue = DecodeQueue(backlog=2 * self._ctx.concurrency)
        await self._fetch_then_decode(map(fetch, chunk_projections(dims, self.meta.chunk_grid)), queue)

    def _decode_direct(self, into, data, spec, out, proj) -> bool:
        """Decode the chunk `data` into a kept buffer (`into`: Pipeline.decoder_into) and copy its part into
        `out`; only the bytes the selection reads where the compressor can leave the others (zstd: up to
        the last one, a plane of a 16-plane chunk a 16th of it; blosc: their blocks). False: decode it the
        usual way (which says what is wrong with it). A new buffer per chunk would cost a fault per page,
        more than the decoding."""
        buffer = STAGES.take(spec.nbytes)
        try:
            stage = buffer[:spec.nbytes].view(into[0]).reshape(spec.shape)
            src = np.frombuffer(data, np.uint8)
            part = byte_span(proj.chunk_selection, spec.shape, spec.dtype.itemsize)
            if not into[1](stage.ctypes.data, src.ctypes.data, src.size, part):
                return False
            out[proj.out_selection] = stage[proj.chunk_selection]
            return True
        finally:
            STAGES.give(buffer)

    async def _fetch_then_decode(self, fetches, queue) -> None:
        """Run `fetches` (coroutines that queue decoding work on `queue`, or decode themselves when it is
        None), `concurrency` at once, then wait for the decoding; an error of either ends both."""
        if queue is None:
            await bounded(fetches, self._ctx.concurrency)
            return
        try:
            await bounded(fetches, self._ctx.concurrency)
        except BaseException:
            queue.abandon()
            raise
        await queue.join()

    async def _read_local(self, dims, out, get_sync, spec_of) -> None:
        """A local store: worker-thread tasks take chunks from one queue and read, decode and copy each (a
        thread hop per task, not per chunk). Chunks not stored are filled afterwards, with one assignment
        when none of them is: a blockless array costs a failed open per chunk folder and nothing else."""
        todo = deque(chunk_projections(dims, self.meta.chunk_grid))
        total = len(todo)
        missing = []
        folders: dict = {}   # which chunk folders exist, learnt during this read (LocalStore.get_sync)
        pipeline = self.meta.pipeline
        parts = pipeline.decodes_parts   # decode only the compressed blocks the selection reads (blosc)
        itemsize = self.meta.dtype.itemsize
        into = pipeline.decoder_into(spec_of(None)) if self.meta.rectilinear is None else None   # regular grids

        def work():
            try:
                while todo:
                    try:
                        proj = todo.popleft()
                    except IndexError:  # another thread took the last one
                        return
                    data = get_sync(self.chunk_key(proj.coords), folders)
                    if data is None:
                        missing.append(proj)
                        continue
                    try:
                        chunk_spec = spec_of(proj.coords)
                        if into is not None and self._decode_direct(into, data, chunk_spec, out, proj):
                            continue
                        part = byte_span(proj.chunk_selection, chunk_spec.shape, itemsize) if parts else None
                        self._copy(out, proj, pipeline.decode_sync(data, chunk_spec, part), proj.coords,
                                   chunk_spec.shape)
                    except ZarrliteError as e:
                        raise self._context(proj.coords, e) from e
            except BaseException:
                todo.clear()  # the read has failed: the other tasks stop too
                raise

        try:
            workers = min(total, self._ctx.concurrency, CPU_THREADS)  # more would only wait for a thread
            await bounded((run_cpu(work) for _ in range(workers)), workers)
        except BaseException:
            todo.clear()  # cancelled: no thread starts another chunk of this read
            raise
        if len(missing) == total:
            out[...] = self.meta.fill_value
        else:
            for proj in missing:
                out[proj.out_selection] = self.meta.fill_value
