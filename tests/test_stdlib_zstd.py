"""The zstd back-end of the standard library (Python 3.14's compression.zstd; here its backport, the same
module, on 3.12): chunks written by zarr-python through numcodecs decode to the values written, frames
one after another join, and bombs stop at the limit."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr

from zarrlite.codecs import stdlib
from zarrlite.errors import CodecError

zstd = stdlib.zstd     # compression.zstd, or backports.zstd (requirements-dev.txt)


def test_the_module_is_there():
    assert zstd is not None and zstd.__name__ in ("compression.zstd", "backports.zstd")


@pytest.mark.parametrize("level,checksum", [(1, False), (5, True), (19, False)])
def test_zarr_python_chunks(tmp_path, level, checksum):
    data = np.arange(3 * 64 * 50, dtype="<u2").reshape(3, 64, 50) % 999
    z = zarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, chunks=(1, 32, 50), dtype="<u2",
                          compressors=[zarr.codecs.ZstdCodec(level=level, checksum=checksum)])
    z[:] = data
    codec = stdlib.Zstd({})
    for i in range(3):
        for j in range(2):
            raw = (tmp_path / "a.zarr" / "c" / str(i) / str(j) / "0").read_bytes()
            out = codec.decode(raw, 32 * 50 * 2)
            np.testing.assert_array_equal(np.frombuffer(out, "<u2").reshape(32, 50), data[i, 32 * j:32 * j + 32])


def test_frames_join_and_truncation_fails():
    a, b = b"first frame " * 100, b"second " * 300
    two = numcodecs.Zstd(3).encode(a) + numcodecs.Zstd(3).encode(b)
    assert stdlib.Zstd({}).decode(two, len(a) + len(b)) == a + b
    with pytest.raises(CodecError, match="exceeds"):
        stdlib.Zstd({}).decode(two, len(a) + len(b) - 1)
    with pytest.raises(CodecError, match="truncated"):
        stdlib.Zstd({}).decode(numcodecs.Zstd(3).encode(b)[:-5], len(b))


def test_bombs_stop_at_the_limit():
    big = bytes(8 << 20)
    with pytest.raises(CodecError, match="header announces"):      # the frame states its size
        stdlib.Zstd({}).decode(numcodecs.Zstd(3).encode(big), 1 << 20)
    c = zstd.ZstdCompressor()                                       # streamed: no content size
    streamed = c.compress(big) + c.flush()
    with pytest.raises(CodecError, match="exceeds the expected 4194304"):
        stdlib.Zstd({}).decode(streamed, 4 << 20)
