"""blosc, zstd and lz4 through numcodecs (CPython). Each checks the decoded size announced in the
stream's header against the limit before decoding, so a bomb is refused before any allocation."""

from __future__ import annotations

import functools
import struct
import threading
import weakref

import numpy as np

from ..errors import CodecError
from . import registry

numcodecs = None   # the package, once imported (register)


def _check(name, size, limit):
    if size > limit:
        raise CodecError(f"{name}: header announces {size} decoded bytes, more than the expected {limit} "
                         "(corrupt chunk or decompression bomb)")


def check_decoded_size(name: str, data, limit: int, length: int | None = None) -> None:
    """Refuse a blosc, zstd or lz4 stream that may decode to more than `limit` bytes, from its headers
    alone and before any decoding: the rule of every back-end (numcodecs here, WASM in the browser).
    With `length`, `data` is only the stream's first bytes (a held value's head: stores/base.py
    HeldValue) and `length` the stream's; `head_decides` says whether they are enough."""
    length = len(data) if length is None else length
    if name == "blosc":
        _check("blosc", blosc_decoded_size(data), limit)
        cbytes = struct.unpack_from("<I", data, 12)[0]
        if cbytes > length:
            raise CodecError(f"blosc: truncated ({length} of {cbytes} bytes)")
    elif name == "lz4":
        _check("lz4", lz4_decoded_size(data), limit)
    elif name == "zstd":
        size = zstd_decoded_size(data)
        if size is not None:
            _check("zstd", size, limit)
            return
        if length != len(data):
            raise ValueError("zstd frames without a content size are checked on the whole stream")
        # Decoders stream frames without a content size into a buffer that grows without bound: only
        # hand them frames whose blocks cannot make more than about the expected size.
        allowed = 2 * limit + (1 << 20)
        bound = zstd_decoded_bound(data, stop_above=allowed)
        if bound > allowed:
            raise CodecError(f"zstd: frames without a content size that may decode to over {bound} bytes, "
                             f"more than the expected {limit} (corrupt chunk or decompression bomb)")


def head_decides(name: str, head) -> bool:
    """Whether `check_decoded_size` can judge a blosc, zstd or lz4 stream from its first bytes (`head`: a held value's):
    all but zstd frames without a content size, whose every block header counts."""
    return name != "zstd" or zstd_decoded_size(head) is not None


def blosc_decoded_size(data) -> int:
    if len(data) < 16:
        raise CodecError(f"blosc: {len(data)} bytes is shorter than the 16-byte header")
    return struct.unpack_from("<I", data, 4)[0]


def lz4_decoded_size(data) -> int:
    # numcodecs' LZ4 stores the decoded size as a little-endian uint32 before the LZ4 block
    if len(data) < 4:
        raise CodecError("lz4: truncated header")
    return struct.unpack_from("<I", data, 0)[0]


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_BLOCK_MAX = 128 << 10


def _zstd_frame_header(data, pos):
    """(content size or None, window size or None, header end, has checksum) of the frame at `pos`."""
    if len(data) < pos + 5 or struct.unpack_from("<I", data, pos)[0] != _ZSTD_MAGIC:
        raise CodecError("zstd: not a zstd frame (bad magic number)")
    desc = data[pos + 4]
    fcs_flag, single = desc >> 6, (desc >> 5) & 1
    pos += 5
    window = None
    if not single:
        if len(data) <= pos:
            raise CodecError("zstd: truncated frame header")
        exponent, mantissa = data[pos] >> 3, data[pos] & 7
        window = (1 << (10 + exponent)) + ((1 << (10 + exponent)) >> 3) * mantissa
        pos += 1
    pos += (0, 1, 2, 4)[desc & 3]  # dictionary id
    size = (1 if single else 0, 2, 4, 8)[fcs_flag]
    if len(data) < pos + size:
        raise CodecError("zstd: truncated frame header")
    content = None
    if size:
        content = int.from_bytes(bytes(data[pos:pos + size]), "little") + (256 if size == 2 else 0)
    return content, window, pos + size, bool(desc & 4)


def zstd_decoded_size(data) -> int | None:
    """Frame_Content_Size of the first frame, or None when the frame does not say."""
    return _zstd_frame_header(data, 0)[0]


def zstd_decoded_bound(data, stop_above: int | None = None) -> int:
    """An upper bound on what frames without a content size decode to, from their block headers alone:
    raw and RLE blocks state their decoded size, a compressed block gives at most 128 KiB (or the window).
    With `stop_above`, the bound so far once it passes that (a bomb's millions of blocks go unread)."""
    total, pos = 0, 0
    while pos < len(data):
        if len(data) >= pos + 8 and struct.unpack_from("<I", data, pos)[0] & 0xFFFFFFF0 == 0x184D2A50:
            pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]  # a skippable frame
            continue
        content, window, pos, checksum = _zstd_frame_header(data, pos)
        block_max = min(window or content or _ZSTD_BLOCK_MAX, _ZSTD_BLOCK_MAX)
        while True:
            if len(data) < pos + 3:
                raise CodecError("zstd: truncated block header")
            header = int.from_bytes(bytes(data[pos:pos + 3]), "little")
            kind, size = (header >> 1) & 3, header >> 3
            if kind == 3:
                raise CodecError("zstd: corrupt block header (reserved block type)")
            total += size if kind < 2 else block_max
            if stop_above is not None and total > stop_above:
                return total
            pos += 3 + (1 if kind == 1 else size)
            if header & 1:  # last block of the frame
                break
        pos += 4 if checksum else 0
    return total


class _Numcodec:
    name = ""

    def __init__(self, config):
        self.config = config

    def decode(self, data, limit):
        check_decoded_size(self.name, data, limit)
        try:
            out = self.codec.decode(data)
        except (RuntimeError, ValueError, MemoryError) as e:
            raise CodecError(f"{self.name}: {e}") from e
        if len(out) > limit:  # frames without a stated size, within the bound zstd allows
            raise CodecError(f"{self.name}: decoded {len(out)} bytes, more than the expected {limit}")
        return out


class Blosc(_Numcodec):
    name = "blosc"

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.blosc.Blosc()

    def decode_part(self, data, limit, start: int, stop: int):
        """The decoded stream with (at least) bytes [start, stop) decoded, the others undefined: only the
        blosc blocks the range touches are decompressed (blosc_getitem of the blosc that numcodecs carries),
        whenever that leaves a block out (measured: a gain from one block in eight left out)."""
        check_decoded_size(self.name, data, limit)
        getitem = blosc_getitem()
        nbytes, blocksize = struct.unpack_from("<II", data, 4)
        typesize = data[3]
        if (getitem is None or data[0] != 2 or not 0 < blocksize <= nbytes or not typesize
                or nbytes % typesize or nbytes >= 1 << 31):   # (blosc format 2: what c-blosc 1 writes)
            return self.decode(data, limit)
        first, last = start // blocksize, (max(stop, start + 1) - 1) // blocksize
        if last - first + 1 == -(-nbytes // blocksize):   # every block: one whole decode copies less
            return self.decode(data, limit)
        item0, item1 = start // typesize, min(-(-stop // typesize), nbytes // typesize)
        out = np.empty(nbytes, np.uint8)
        src = np.frombuffer(data, np.uint8)
        got = getitem(src.ctypes.data, item0, item1 - item0, out.ctypes.data + item0 * typesize)
        if got != (item1 - item0) * typesize:
            return self.decode(data, limit)   # a stream blosc_getitem refuses fails (or not) as a whole one
        return out

    def decompress_into(self):
        """decompress(dst, capacity, src, n) -> bytes written (0: not this way): a blosc stream whose header
        says `capacity` decoded bytes and no more than the `n` bytes there are, decoded straight to address
        `dst` (blosc_decompress_ctx: no shared state between threads); None where it is not exported."""
        run = blosc_function("blosc_decompress_ctx")
        if run is None:
            return None

        def decompress(dst, capacity, src, n):
            if n < 16 or not _blosc_fits(_blosc_head(src), capacity, n):
                return 0
            return max(run(src, dst, capacity, 1), 0)
        return decompress

    def decompress_part_into(self):
        """part(dst, size, src, n, start, stop) -> whether bytes [start, stop) of the stream at `src` are
        now at `dst` (the others undefined): only the blocks they are in (blosc_getitem, as `decode_part`;
        False where that would decode them all, or cannot)."""
        getitem = blosc_getitem()
        if getitem is None:
            return None

        def part(dst, size, src, n, start, stop):
            head = _blosc_head(src) if n >= 16 else None
            if head is None or not _blosc_fits(head, size, n) or head[0] != 2 or not 0 < stop <= size:
                return False
            nbytes, blocksize = struct.unpack_from("<II", head, 4)
            typesize = head[3]
            if not 0 < blocksize <= nbytes or not typesize or nbytes % typesize or nbytes >= 1 << 31:
                return False
            if (max(stop, start + 1) - 1) // blocksize - start // blocksize + 1 == -(-nbytes // blocksize):
                return False   # every block: one whole decode copies less
            item0, item1 = start // typesize, min(-(-stop // typesize), nbytes // typesize)
            return getitem(src, item0, item1 - item0, dst + item0 * typesize) == (item1 - item0) * typesize
        return part


def _blosc_head(address: int) -> bytes:
    """The first 16 bytes at `address` (a blosc header)."""
    import ctypes

    return ctypes.string_at(address, 16)


def _blosc_fits(head: bytes, size: int, n: int) -> bool:
    """The blosc header `head` says `size` decoded bytes, from no more than the `n` compressed ones there are."""
    nbytes, _, cbytes = struct.unpack_from("<III", head, 4)
    return nbytes == size and cbytes <= n


class Zstd(_Numcodec):
    name = "zstd"

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.zstd.Zstd()

    def decode(self, data, limit):
        """A frame that states its size is decoded straight into a buffer of that size by the zstd of
        numcodecs' build, through a decoding context kept per thread (numcodecs makes one a call, and
        its argument checks cost about what decoding a small inner chunk does); others as numcodecs does."""
        decompress = zstd_decompress()
        size = zstd_decoded_size(data)
        if decompress is None or size is None:
            return super().decode(data, limit)
        _check(self.name, size, limit)
        out = np.empty(size, np.uint8)
        src = np.frombuffer(data, np.uint8)
        got = decompress(out.ctypes.data, size, src.ctypes.data, src.size)
        if got != size:  # an error code, or frames after the first (their sizes unknown): numcodecs says
            return super().decode(data, limit)
        return out

    def decompress_into(self):
        """decompress(dst, capacity, src, n) -> bytes written (an error code when more than `capacity`, or
        corrupt): the frames at address `src` decoded straight to address `dst` (Pipeline.decoder_into);
        None where numcodecs' build does not export it."""
        return zstd_decompress()

    def decompress_part_into(self):
        """part(dst, size, src, n, start, stop) -> whether bytes [0, stop) are now at `dst`: the frame's
        first bytes only (`zstd_decompress_prefix`; a stream cannot start in its middle)."""
        prefix = zstd_decompress_prefix()
        if prefix is None:
            return None
        return lambda dst, size, src, n, start, stop: prefix(dst, size, src, n, stop) >= stop


class LZ4(_Numcodec):
    name = "lz4"

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.lz4.LZ4()


@functools.cache
def blosc_function(name: str):
    """A c-blosc function (src, dest, destsize, nthreads) -> int of numcodecs' own blosc build, or None."""
    try:
        import ctypes

        fn = getattr(ctypes.CDLL(numcodecs.blosc.__file__), name)
    except (ImportError, OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


@functools.cache
def blosc_getitem():
    """c-blosc's blosc_getitem(src, start, nitems, dest) from numcodecs' own blosc build, or None where that
    build does not export it (then chunks decode whole)."""
    try:
        import ctypes

        fn = ctypes.CDLL(numcodecs.blosc.__file__).blosc_getitem
    except (ImportError, OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    fn.restype = ctypes.c_int
    return fn


class _DecodingContexts(threading.local):
    """A zstd decoding context per thread, freed with the thread."""

    def __init__(self, lib):
        self.lib = lib
        self.dctx = lib.ZSTD_createDCtx()
        weakref.finalize(self, lib.ZSTD_freeDCtx, self.dctx)


@functools.cache
def _zstd():
    """(numcodecs' own zstd build through ctypes, this thread's decoding context), or None where that build
    does not export what is needed (then numcodecs decodes)."""
    try:
        import ctypes

        lib = ctypes.CDLL(numcodecs.zstd.__file__)
        lib.ZSTD_createDCtx.restype = ctypes.c_void_p
        lib.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
        fns = [lib.ZSTD_decompressDCtx, lib.ZSTD_decompressStream, lib.ZSTD_DCtx_reset, lib.ZSTD_isError,
               lib.ZSTD_getFrameContentSize]
    except (ImportError, OSError, AttributeError):
        return None
    p, n = ctypes.c_void_p, ctypes.c_size_t
    for fn, args, result in zip(fns, [[p, p, n, p, n], [p, p, p], [p, ctypes.c_int], [n], [p, n]],
                                [n, n, n, ctypes.c_uint, ctypes.c_ulonglong]):
        fn.argtypes, fn.restype = args, result
    return lib, _DecodingContexts(lib)


@functools.cache
def zstd_decompress():
    """decompress(dst, dst_capacity, src, src_size) -> bytes written, or an error code (a huge number),
    through ZSTD_decompressDCtx of numcodecs' own zstd build with this thread's context; None where that
    build does not export it (then numcodecs decodes)."""
    if _zstd() is None:
        return None
    lib, contexts = _zstd()
    run = lib.ZSTD_decompressDCtx

    def decompress(dst, capacity, src, n):
        return run(contexts.dctx, dst, capacity, src, n)
    return decompress


@functools.cache
def zstd_decompress_prefix():
    """prefix(dst, size, src, src_size, stop) -> how many bytes were decoded to `dst`, at least `stop` when
    the first `stop` bytes of the frame at `src` are there (fewer: corrupt, truncated, or a frame whose
    stated content size is not `size`): the rest of the frame is not decoded (ZSTD_decompressStream into
    a buffer of `stop` bytes). None where numcodecs' build does not export it."""
    if _zstd() is None:
        return None
    import ctypes

    class Buffer(ctypes.Structure):   # ZSTD_inBuffer and ZSTD_outBuffer alike: pointer, size, pos
        _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]

    lib, contexts = _zstd()
    stream, reset, is_error, content_size = (lib.ZSTD_decompressStream, lib.ZSTD_DCtx_reset, lib.ZSTD_isError,
                                             lib.ZSTD_getFrameContentSize)

    def prefix(dst, size, src, n, stop):
        if content_size(src, n) != size or not 0 < stop <= size:
            return 0
        dctx = contexts.dctx
        reset(dctx, 1)   # ZSTD_reset_session_only
        out, into = Buffer(dst, stop, 0), Buffer(src, n, 0)
        ref_out, ref_in = ctypes.byref(out), ctypes.byref(into)
        while out.pos < stop:
            before = out.pos, into.pos
            ret = stream(dctx, ref_out, ref_in)
            if is_error(ret) or ret == 0 or (out.pos, into.pos) == before:
                break   # corrupt; the frame's end before `stop`; truncated
        return out.pos
    return prefix


def register() -> bool:
    """Register blosc, zstd and lz4 when numcodecs imports; also later than zarrlite's import (a Pyodide
    kernel loads numcodecs from its distribution on first need: codecs/browser.py)."""
    global numcodecs
    try:
        import numcodecs.blosc
        import numcodecs.lz4
        import numcodecs.zstd
    except ImportError:  # Pyodide without numcodecs: the browser back-end registers these instead
        return False
    registry.register("blosc", Blosc)
    registry.register("zstd", Zstd)
    registry.register("lz4", LZ4)
    return True


register()
