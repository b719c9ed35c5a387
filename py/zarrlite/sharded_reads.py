"""Reads of a sharded array (the Array's part for `sharding_indexed`): inner chunks grouped by shard, a
shard's index read once (cached in the context), nearby inner chunks fetched with one range request,
a shard whose every inner chunk is wanted fetched whole."""

from __future__ import annotations

import math
from collections import defaultdict
from operator import floordiv, mod

from .codecs.pipeline import ChunkSpec
from .decode_queue import DecodeQueue
from .errors import ChunkError, ZarrliteError, in_context
from .indexing import chunk_projections
from .runtime import bounded
from .stores.ranges import merge_ranges

# Inner chunks of a shard decoded in one queued work: enough to make a hop worth it, few enough that
# both CPU threads share a shard.
INNER_PER_WORK = 8
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
        by_shard = defaultdict(list)
        for proj in chunk_projections(dims, sharding.chunk_shape):
            shard, within = self._in_shard(proj.coords)
            by_shard[shard].append((within, proj))
        spec = sharding.chunk_spec(ChunkSpec(self.meta.chunks, self.meta.dtype, self.meta.fill_value,
                                             self._ctx.max_bytes))

        queue = None if sharding.inner.is_async else DecodeQueue(backlog=2 * self._ctx.concurrency)

        async def one_shard(shard, projs):
            grid = self._shard_grid(shard)
            if len(projs) == math.prod(grid) and self.chunk_key(shard) not in self._ctx.shard_indexes:
                return await self._read_whole_shard(shard, grid, projs, spec, out, queue)
            index = await self._shard_index(shard, grid)
            wanted = []
            for within, proj in projs:
                where = None if index is None else sharding.locate(index, within)
                if where is None:
                    out[proj.out_selection] = self.meta.fill_value
                else:
                    wanted.append((where[0], where[1], proj))
            await bounded((self._read_run(shard, run, spec, out, queue) for run in coalesce(wanted)),
                          self._ctx.concurrency)

        await self._fetch_then_decode((one_shard(s, p) for s, p in by_shard.items()), queue)

    async def _read_whole_shard(self, shard, grid, projs, spec, out, queue):
        """Every inner chunk of the shard is wanted: one GET of the whole shard, its index taken from it
        (one request where the index and then the chunks would take two round trips)."""
        sharding, key = self._sharding, self.chunk_key(shard)
        data = await self._ctx.store.get(key)
        mv = memoryview(data if data is not None else b"")
        n = sharding.index_nbytes(grid)
        try:
            index = None if data is None else sharding.decode_index(
                mv[:n] if sharding.index_location == "start" else mv[max(len(mv) - n, 0):], grid)
        except ZarrliteError as e:
            raise in_context(e, f"array '{self.path}', shard '{key}'") from e
        stored = []
        for within, proj in projs:
            try:
                where = None if index is None else sharding.locate(index, within, len(mv))
            except ZarrliteError as e:  # an index entry pointing outside the shard
                raise in_context(e, f"array '{self.path}', shard '{key}'") from e
            if where is None:
                out[proj.out_selection] = self.meta.fill_value
            else:
                stored.append((mv[where[0]:where[0] + where[1]], proj))
        await self._decode_inner(stored, spec, out, queue)

    async def _read_run(self, shard, run, spec, out, queue):
        """Fetch nearby inner chunks of one shard with a single range request (`coalesce`), then decode each."""
        start = run[0][0]
        end = max(o + n for o, n, _ in run)
        data = await self._ctx.store.get_range(self.chunk_key(shard), start, end - start)
        if data is None or len(data) < end - start:
            got = 0 if data is None else len(data)
            raise ChunkError(f"array '{self.path}', shard '{self.chunk_key(shard)}': truncated, or its index "
                             f"points outside it (bytes {start}..{end} requested, {got} read)")
        mv = memoryview(data)
        await self._decode_inner([(mv[o - start:o - start + n], proj) for o, n, proj in run], spec, out, queue)

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


def coalesce(wanted):
    """Group (offset, nbytes, item) into runs, each read with one request: byte ranges adjacent or a small
    gap apart (stores/ranges.py, the rule reference reads follow too), in file order."""
    runs = merge_ranges([(offset, nbytes) for offset, nbytes, _ in wanted])
    return [[wanted[i] for i in run.members] for run in runs]
