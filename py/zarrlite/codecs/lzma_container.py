"""numcodecs' lzma chunks, put into a container the browser's liblzma (WASM) decoder reads on its own.

numcodecs' LZMA codec writes one of three formats: the .xz container (the default), legacy .lzma
("alone": a 13-byte header) or raw streams whose filter chain only the array's metadata records. The
browser runtime has liblzma's automatic decoder (.xz and .lzma), not its raw decoder, so a raw stream is
given the header it lacks: an LZMA1 stream the .lzma header, an LZMA2 stream (behind delta or BCJ
filters, if any) an .xz container built around it - its index needs the decoded size, which the LZMA2
chunk headers state, so nothing is decoded here. Pure: tested in CPython against the standard library.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import CodecError, MetadataError

FORMAT_AUTO, FORMAT_XZ, FORMAT_ALONE, FORMAT_RAW = 0, 1, 2, 3
XZ_MAGIC = b"\xfd7zXZ\x00"
FILTER_LZMA1, FILTER_LZMA2, FILTER_DELTA = 0x4000000000000001, 0x21, 0x03
FILTERS_BCJ = range(0x04, 0x0C)   # x86, PowerPC, IA-64, ARM, ARM-Thumb, SPARC, ARM64, RISC-V

# Dictionary sizes of the presets 0-9 (liblzma's lzma_lzma_preset); a dict_size in the config wins.
PRESET_DICT = [1 << 18, 1 << 20, 1 << 21, 1 << 22, 1 << 22, 1 << 23, 1 << 23, 1 << 24, 1 << 25, 1 << 26]


def for_browser(data, config: dict) -> tuple[str, bytes]:
    """(decoder, bytes): "xz" for an .xz stream (the xz decoder), "liblzma" for what liblzma's automatic
    decoder reads (.lzma, and raw streams once wrapped here)."""
    fmt = config.get("format", FORMAT_XZ)
    data = bytes(data)
    if fmt in (FORMAT_XZ, FORMAT_AUTO) and data[:6] == XZ_MAGIC:
        return "xz", data
    if fmt in (FORMAT_ALONE, FORMAT_AUTO):
        return "liblzma", data
    if fmt == FORMAT_XZ:
        raise CodecError("lzma: the chunk is not in the .xz container its metadata declares (bad magic)")
    if fmt != FORMAT_RAW:
        raise MetadataError(f"lzma: unknown format {fmt!r} (0 auto, 1 xz, 2 alone, 3 raw)")
    filters = config.get("filters")
    if not isinstance(filters, list) or not filters or not all(isinstance(f, dict) for f in filters):
        raise MetadataError(f"lzma: a raw stream needs its filter chain in the metadata, got {filters!r}")
    last = filters[-1].get("id")
    if last == FILTER_LZMA1:
        if len(filters) != 1:
            raise CodecError("lzma: raw LZMA1 behind other filters is not read in the browser runtime")
        return "liblzma", alone_header(filters[0]) + data
    if last == FILTER_LZMA2:
        return "liblzma", xz_container(data, filters)
    raise MetadataError(f"lzma: a raw filter chain must end in LZMA1 or LZMA2, not {last!r}")


def _dict_size(options: dict) -> int:
    size = options.get("dict_size")
    if size is None:
        preset = options.get("preset", 6)
        if not isinstance(preset, int) or isinstance(preset, bool):
            raise MetadataError(f"lzma: preset {preset!r} is not an integer")
        size = PRESET_DICT[min(max(preset & 0x1F, 0), 9)]
    if not isinstance(size, int) or isinstance(size, bool) or not 4096 <= size <= 1 << 30:
        raise MetadataError(f"lzma: dict_size {size!r} is out of range")
    return size


def alone_header(options: dict) -> bytes:
    """The .lzma header of a raw LZMA1 stream: properties, dictionary size, decoded size unknown (liblzma's
    raw LZMA1 encoder ends its streams with the end-of-payload marker the decoder then stops at)."""
    lc, lp, pb = (options.get(k, d) for k, d in (("lc", 3), ("lp", 0), ("pb", 2)))
    if not (0 <= lc <= 8 and 0 <= lp <= 4 and 0 <= pb <= 4):
        raise MetadataError(f"lzma: LZMA1 options lc={lc}, lp={lp}, pb={pb} are out of range")
    return struct.pack("<BIQ", (pb * 5 + lp) * 9 + lc, _dict_size(options), 2**64 - 1)


def lzma2_sizes(data: bytes) -> tuple[int, int]:
    """(encoded length up to and with the end marker, decoded size) from the LZMA2 chunk headers alone."""
    pos = decoded = 0
    while True:
        if pos >= len(data):
            raise CodecError("lzma: raw LZMA2 stream truncated (no end marker)")
        control = data[pos]
        if control == 0:
            return pos + 1, decoded
        if control in (1, 2):  # a stored chunk
            if pos + 3 > len(data):
                raise CodecError("lzma: raw LZMA2 chunk header truncated")
            size = int.from_bytes(data[pos + 1:pos + 3], "big") + 1
            pos, decoded = pos + 3 + size, decoded + size
        elif control >= 0x80:
            header = 6 if control >= 0xC0 else 5   # states that reset the properties carry them
            if pos + header > len(data):
                raise CodecError("lzma: raw LZMA2 chunk header truncated")
            decoded += ((control & 0x1F) << 16) + int.from_bytes(data[pos + 1:pos + 3], "big") + 1
            pos += header + int.from_bytes(data[pos + 3:pos + 5], "big") + 1
        else:
            raise CodecError(f"lzma: corrupt raw LZMA2 stream (control byte {control:#04x})")


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _lzma2_dict_byte(size: int) -> int:
    """The smallest LZMA2 dictionary-size byte (2 or 3 times a power of two) that holds `size`."""
    for d in range(41):
        if (2 | (d & 1)) << (d // 2 + 11) >= size:
            return d
    return 40


def _filter_flags(options: dict, decoded: int) -> bytes:
    fid = options.get("id")
    if fid == FILTER_LZMA2:
        # A dictionary never needs to exceed what it decodes, and so the decoder allocates no more.
        props = bytes([_lzma2_dict_byte(min(_dict_size(options), max(decoded, 4096)))])
    elif fid == FILTER_DELTA:
        dist = options.get("dist", 1)
        if not isinstance(dist, int) or not 1 <= dist <= 256:
            raise MetadataError(f"lzma: delta dist {dist!r} is out of range")
        props = bytes([dist - 1])
    elif fid in FILTERS_BCJ:
        offset = options.get("start_offset", 0)
        props = struct.pack("<I", offset) if offset else b""
    else:
        raise MetadataError(f"lzma: filter {fid!r} is not read in the browser runtime")
    return _varint(fid) + _varint(len(props)) + props


def xz_container(data: bytes, filters: list[dict]) -> bytes:
    """An .xz stream (no check) of one block holding the raw stream `data` of `filters` (LZMA2 last)."""
    length, decoded = lzma2_sizes(data)
    flags = b"".join(_filter_flags(f, decoded) for f in filters)
    if len(filters) > 4:
        raise MetadataError("lzma: more than 4 filters")
    header = bytes([len(filters) - 1]) + flags
    header = bytes([(len(header) + 1 + len(_pad4(len(header) + 1)) + 4) // 4 - 1]) + header
    header += _pad4(len(header))
    header += struct.pack("<I", zlib.crc32(header))
    block = header + data[:length] + _pad4(length)
    index = b"\0" + _varint(1) + _varint(len(header) + length) + _varint(decoded)
    index += _pad4(len(index))
    index += struct.pack("<I", zlib.crc32(index))
    stream_flags = b"\0\0"   # check: none
    footer = struct.pack("<I", len(index) // 4 - 1) + stream_flags
    return (XZ_MAGIC + stream_flags + struct.pack("<I", zlib.crc32(stream_flags)) + block + index
            + struct.pack("<I", zlib.crc32(footer)) + footer + b"YZ")


def browser_reason(config: dict) -> str | None:
    """From the metadata alone: None when the browser runtime reads this lzma configuration, else why not."""
    fmt = config.get("format", FORMAT_XZ)
    if fmt in (FORMAT_AUTO, FORMAT_XZ, FORMAT_ALONE):
        return None
    if fmt != FORMAT_RAW:
        return f"lzma: unknown format {fmt!r}"
    filters = config.get("filters")
    ids = [f.get("id") for f in filters] if isinstance(filters, list) and all(isinstance(f, dict) for f in filters) \
        else None
    if not ids:
        return "lzma: a raw stream without its filter chain in the metadata"
    if ids == [FILTER_LZMA1] or (ids[-1] == FILTER_LZMA2 and len(ids) <= 4
                                 and all(i == FILTER_DELTA or i in FILTERS_BCJ for i in ids[:-1])):
        return None
    return f"lzma: the raw filter chain {ids} is not read in the browser runtime (LZMA2 behind delta or BCJ " \
           "filters, or LZMA1 alone, are)"
