"""Held values (stores/base.py HeldValue: bytes kept where a browser store fetched them): the size check of
compressor headers judges a stream from its first bytes and its length exactly as from the whole stream,
and the chunk cache keeps and shares held values without handing one to a reader that asked for bytes."""

from __future__ import annotations

import asyncio

import numcodecs
import numpy as np
import pytest

from zarrlite.codecs.native import check_decoded_size, head_decides
from zarrlite.errors import CodecError
from zarrlite.stores import CachedStore
from zarrlite.stores.base import HeldValue

DATA = np.random.default_rng(3).integers(0, 300, 40_000, dtype="<u2").tobytes()
HEAD = HeldValue.HEAD_BYTES
STREAMS = {"blosc": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE).encode(DATA),
           "lz4": numcodecs.LZ4().encode(DATA), "zstd": numcodecs.Zstd(3).encode(DATA)}


def _verdict(name, data, limit, length=None):
    try:
        check_decoded_size(name, data, limit, length)
        return "ok"
    except CodecError as e:
        return str(e)


@pytest.mark.parametrize("name", list(STREAMS))
@pytest.mark.parametrize("limit", [len(DATA), len(DATA) - 1, 100])
def test_the_head_and_length_judge_as_the_whole_stream(name, limit):
    stream = STREAMS[name]
    assert head_decides(name, stream[:HEAD])
    assert _verdict(name, stream[:HEAD], limit, len(stream)) == _verdict(name, stream, limit)
    assert (_verdict(name, stream, limit) == "ok") == (limit >= len(DATA))


def test_a_truncated_blosc_stream_is_told_from_its_length():
    stream = STREAMS["blosc"]
    assert "truncated" in _verdict("blosc", stream[:HEAD], len(DATA), len(stream) - 1)


def test_zstd_frames_without_a_content_size_need_the_whole_stream():
    # a frame header with no Frame_Content_Size (descriptor 0, window byte): its blocks decide
    head = bytes.fromhex("28b52ffd") + bytes([0x00, 0x58]) + bytes(HEAD - 6)
    assert not head_decides("zstd", head)
    with pytest.raises(ValueError):
        check_decoded_size("zstd", head, len(DATA), 10 * HEAD)


class Held(HeldValue):
    def __init__(self, data: bytes):
        self.size, self.head, self._data = len(data), data[:self.HEAD_BYTES], data
        self.reads = 0

    async def read(self):
        self.reads += 1
        return self._data


class HoldingStore:
    """get_held() hands back Held values; get() bytes; both count their calls."""

    def __init__(self):
        self.calls = []

    async def get(self, key):
        self.calls.append(("get", key))
        return key.encode() * 10

    async def get_held(self, key):
        self.calls.append(("get_held", key))
        await asyncio.sleep(0)
        return Held(key.encode() * 10)

    async def get_range(self, key, start, length):
        return (await self.get(key))[start:start + length]

    async def list(self, prefix=""):
        return None


def test_the_cache_keeps_and_shares_held_values_and_gives_bytes_to_get():
    async def main():
        inner = HoldingStore()
        store = CachedStore(inner)
        a, b = await asyncio.gather(store.get_held("k"), store.get_held("k"))
        assert a is b and isinstance(a, Held) and inner.calls == [("get_held", "k")]
        assert await store.get_held("k") is a                     # cached
        assert await store.get("k") == b"k" * 10 and a.reads == 1  # the bytes, from the held value
        assert inner.calls == [("get_held", "k")]

    asyncio.run(main())


def test_the_cache_of_a_store_that_holds_nothing_gets_bytes():
    class Plain(HoldingStore):
        get_held = None

    async def main():
        inner = Plain()
        store = CachedStore(inner)
        assert await store.get_held("k") == b"k" * 10 and inner.calls == [("get", "k")]

    asyncio.run(main())
