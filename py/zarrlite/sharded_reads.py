"""Reads of a sharded array (the Array's part for `sharding_indexed`): inner chunks grouped by shard, a
shard's index read once (cached in the context), nearby inner chunks fetched with one range request,
a shard whose every inner chunk is wanted fetched whole."""

from __future__ import annotations

import functools
import math
import threading
from operator import floordiv, mod

import numpy as np

from .codecs.pipeline import ChunkSpec
from .decode_queue import STAGES, DecodeQueue
from .errors import ChunkError, ZarrliteError, in_context
from .indexing import shard_selections
from .runtime import bounded
from .stores.ranges import merge_ranges

# Inner chunks of a shard decoded in one queued work: enough to make a hop worth it, few enough that
# both CPU threads share a shard.
INNER_PER_WORK = 8
# A shard whose region of the output is read whole is decoded into one array of its inner chunks, then
# copied with one strided copy; past this size, chunk by chunk (the array is as large as the shard).
WHOLE_STAGE_MAX = 16 << 20
ASYNC_INNER_DECODES = 4   # inner chunks of one shard decoding at once through an asynchronous (browser) pipeline


class ShardedReads:
    """Mixed into Array, whose state it reads (`meta`, `_ctx`, `_sharding`, `_grid`, `_per_shard`) and whose
    chunk decoding it shares (`_decode_into`, `_copy`, `_fetch_then_decode`)."""

    def _in_shard(self, coords) -> tuple[tuple, tuple]:
        """(shard, the inner chunk's coordinates in it) of the inner chunk at grid `coords`. Inner chunks
        are regular across the whole array, also in a rectilinear grid: every shard edge is a multiple."""
        if self._per_shard is not None:
            return tuple(map(floordiv, coords, self._per_shard)), tuple(map(mod, coords, self._per_shard))
        inner = self._sharding.chunk_shape
        shard = tuple(d.chunk_of(c * n) for d, c, n in zip(self._grid.dims, coords, inner))
        within = tuple((c * n - d.start(k)) // n for d, c, n, k in zip(self._grid.dims, coords, inner, shard))
        return shard, within

    def _shard_grid(self, shard) -> tuple[int, ...]:
        """Inner chunks per dimension of the shard at `shard` (shards of a rectilinear grid differ)."""
        return self._sharding.grid(self._grid.chunk_shape(shard))

    async def shard_index(self, shard):
        """The decoded index of the shard at grid coordinates `shard` (see `ShardingCodec.locate`), or None
        when the shard is not stored or its inner chunks cannot be read by range (codecs around the
        sharding codec)."""
        if self._sharding is None:
            return None
        return await self._shard_index(tuple(shard), self._shard_grid(tuple(shard)))

    async def _shard_index(self, shard, grid):
        key = self.chunk_key(shard)
        index = self._ctx.shard_indexes.get(key)
        if index is not None:
            self._ctx.shard_indexes.move_to_end(key)
            return index
        start, length = self._sharding.index_range(grid)
        data = await self._ctx.store.get_range(key, start, length)
        if data is None:
            return None
        try:
            index = self._sharding.decode_index(data, grid)
        except ZarrliteError as e:
            raise in_context(e, f"array '{self.path}', shard '{key}'") from e
        self._ctx.remember_index(key, index)
        return index

    async def _read_sharded(self, dims, out) -> None:
        sharding = self._sharding
        spec = sharding.chunk_spec(ChunkSpec(self.meta.chunks, self.meta.dtype, self.meta.fill_value,
                                             self._ctx.max_bytes))
        queue = None if sharding.inner.is_async else DecodeQueue(backlog=2 * self._ctx.concurrency)
        into = None if queue is None else sharding.inner.decoder_into(spec)

        async def one_shard(sel):
            grid = self._shard_grid(sel.coords)
            if sel.count == math.prod(grid) and self.chunk_key(sel.coords) not in self._ctx.shard_indexes:
                return await self._read_whole_shard(sel, grid, spec, out, queue, into)
            index = await self._shard_index(sel.coords, grid)
            if index is None and sel.covered is not None:
                out[sel.covered] = self.meta.fill_value
                return
            wanted = []
            for within, proj in sel.projections():
                where = None if index is None else sharding.locate(index, within)
                if where is None:
                    out[proj.out_selection] = self.meta.fill_value
                else:
                    wanted.append((where[0], where[1], proj))
            await bounded((self._read_run(sel.coords, run, spec, out, queue, into) for run in coalesce(wanted)),
                          self._ctx.concurrency)

        shards = shard_selections(dims, sharding.chunk_shape, self._grid)
        await self._fetch_then_decode((one_shard(sel) for sel in shards), queue)

    async def _read_whole_shard(self, sel, grid, spec, out, queue, into):
        """Every inner chunk of the shard is wanted: one GET of the whole shard, its index taken from it
        (one request where the index and then the chunks would take two round trips)."""
        sharding, key = self._sharding, self.chunk_key(sel.coords)
        data = await self._ctx.store.get(key)
        if data is None:
            for _, proj in sel.projections():
                out[proj.out_selection] = self.meta.fill_value
            return
        mv = memoryview(data)
        n = sharding.index_nbytes(grid)
        try:
            index = sharding.decode_index(
                mv[:n] if sharding.index_location == "start" else mv[max(len(mv) - n, 0):], grid)
            where = sharding.locate_all(index, len(mv))   # (an entry pointing outside the shard fails)
        except ZarrliteError as e:
            raise in_context(e, f"array '{self.path}', shard '{key}'") from e
        if (into is not None and sel.covered is not None and None not in where
                and len(where) * spec.nbytes <= WHOLE_STAGE_MAX):
            # the shard's region of `out`, all of it: decoded into one buffer, then one copy
            pieces = [(offset, nbytes, None) for offset, nbytes in where]
            await self._decode_staged(mv, pieces, spec, into, out, queue, lambda i: self._inner_coords(sel, grid, i),
                                      lambda stage: place_shard(out[sel.covered], stage, grid, spec.shape, sel.kept))
            return
        stored = []
        for w, (_, proj) in zip(where, sel.projections()):
            if w is None:
                out[proj.out_selection] = self.meta.fill_value
            else:
                stored.append((w[0], w[1], proj))
        await self._decode_pieces(mv, stored, spec, out, queue, into)

    def _inner_coords(self, sel, grid, i) -> tuple:
        """The array-wide coordinates of the inner chunk `i` (C order) of a shard wanted whole."""
        return tuple(members[w][1] for members, w in zip(sel.per_dim, np.unravel_index(i, grid)))

    async def _read_run(self, shard, run, spec, out, queue, into):
        """Fetch nearby inner chunks of one shard with a single range request (`coalesce`), then decode each."""
        start = run[0][0]
        end = max(o + n for o, n, _ in run)
        data = await self._ctx.store.get_range(self.chunk_key(shard), start, end - start)
        if data is None or len(data) < end - start:
            got = 0 if data is None else len(data)
            raise ChunkError(f"array '{self.path}', shard '{self.chunk_key(shard)}': truncated, or its index "
                             f"points outside it (bytes {start}..{end} requested, {got} read)")
        await self._decode_pieces(memoryview(data), [(o - start, n, proj) for o, n, proj in run], spec, out, queue,
                                  into)

    async def _decode_pieces(self, mv, pieces, spec, out, queue, into):
        """Decode inner chunks, (offset, nbytes, projection) in the buffer `mv`, into `out`."""
        if into is not None:
            await self._decode_staged(mv, pieces, spec, into, out, queue, lambda i: pieces[i][2].coords)
        else:
            await self._decode_inner([(mv[o:o + n], proj) for o, n, proj in pieces], spec, out, queue)

    async def _decode_staged(self, mv, pieces, spec, into, out, queue, coords_of, whole=None) -> None:
        """Decode inner chunks ((offset, nbytes, projection) in the buffer `mv`) straight into arrays of them
        (`into`: Pipeline.decoder_into), queued for CPU threads a few chunks a work: each copied into `out`
        by its projection, or, with `whole`, all into one array, `whole(stage)` once all are decoded. One
        call into the decompressor per inner chunk: no array made, no header parsed in Python (those
        cost more than decoding a small chunk). A chunk the direct path does not make exactly is decoded
        the usual way, which says what is wrong with it."""
        dtype, decode_into = into
        src = np.frombuffer(mv, np.uint8)
        src_at, step = src.ctypes.data, spec.nbytes
        decode = self._sharding.inner.decoder(spec)
        if whole is not None:
            shared = STAGES.take(len(pieces) * step)
            lock, left = threading.Lock(), [-(-len(pieces) // INNER_PER_WORK)]

        def work(lo, hi):
            if whole is not None:
                buffer, first, count = shared, 0, len(pieces)
            else:   # a stage of its own, for its chunks only
                buffer, first, count = STAGES.take((hi - lo) * step), lo, hi - lo
            stage = buffer[:count * step].view(dtype).reshape(count, *spec.shape)
            stage_at = stage.ctypes.data
            for i in range(lo, hi):
                offset, nbytes, proj = pieces[i]
                j = i - first
                if not decode_into(stage_at + j * step, src_at + offset, nbytes):
                    try:
                        stage[j] = decode(mv[offset:offset + nbytes])
                    except ZarrliteError as e:
                        raise self._context(coords_of(i), e) from e
                if proj is not None:
                    out[proj.out_selection] = stage[j][proj.chunk_selection]
            if whole is None:
                STAGES.give(buffer)
                return
            with lock:
                left[0] -= 1
                last = not left[0]
            if last:
                whole(stage)
                STAGES.give(buffer)
        for lo in range(0, len(pieces), INNER_PER_WORK):
            await queue.put(functools.partial(work, lo, min(lo + INNER_PER_WORK, len(pieces))))

    async def _decode_inner(self, chunks, spec, out, queue) -> None:
        """Decode inner chunks of one shard ((bytes, projection) pairs) into `out`: queued for CPU threads a
        few chunks a work (`queue`; one hop per small inner chunk costs more than decoding it), or, for an
        asynchronous (browser) pipeline, a few at once (its decoders run on other cores: enough to keep
        them busy, not so many that their messages crowd the worker)."""
        pipeline = self._sharding.inner
        if queue is None:
            await bounded((self._decode_into(data, spec, out, proj, proj.coords) for data, proj in chunks),
                          ASYNC_INNER_DECODES)
            return

        decode = pipeline.decoder(spec)

        def decode_all(part):
            for data, proj in part:
                try:
                    self._copy(out, proj, decode(data), proj.coords, spec.shape)
                except ZarrliteError as e:
                    raise self._context(proj.coords, e) from e
        for i in range(0, len(chunks), INNER_PER_WORK):
            part = chunks[i:i + INNER_PER_WORK]
            await queue.put(lambda part=part: decode_all(part))


def place_shard(target, stage, grid, inner, kept) -> None:
    """Copy a shard's inner chunks (`stage`: one after the other in C order of their coordinates in `grid`,
    each of shape `inner`) to `target`, the shard's region of the output, whose dimensions are those in
    `kept` (None: all): one strided copy, to a view of the target with each dimension split in two
    (inner chunk, element)."""
    nd = len(grid)
    parts = stage.reshape(*grid, *inner).transpose([j for i in range(nd) for j in (i, nd + i)])
    kept = range(nd) if kept is None else kept
    if len(kept) < nd:  # a dropped dimension is one element thick: its (inner chunk, element) is (0, 0)
        parts = parts[tuple(slice(None) if i in kept else 0 for i in range(nd) for _ in (0, 1))]
    split = target.reshape([x for i in kept for x in (grid[i], inner[i])])
    if np.may_share_memory(split, target):
        split[...] = parts
    else:  # (splitting dimensions makes a view: not reached)
        target[...] = parts.reshape(target.shape)


def coalesce(wanted):
    """Group (offset, nbytes, item) into runs, each read with one request: byte ranges adjacent or a small
    gap apart (stores/ranges.py, the rule reference reads follow too), in file order."""
    runs = merge_ranges([(offset, nbytes) for offset, nbytes, _ in wanted])
    return [[wanted[i] for i in run.members] for run in runs]
