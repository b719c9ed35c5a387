"""A zip file's directory and members, read over any transport, with one root-folder rule.

Pure: the reading is written as generators ("steps") that yield `(offset, n)` and are sent the bytes
read there, so the same parser serves a file on disk in CPython (`run_steps`, blocking reads on a worker
thread) and a `File` in the browser (`run_steps_async`, awaited `File.slice()`).

    directory = run_steps(load_directory(file_size, "x.zip"), read_at)
    value = run_steps(directory.read("zarr.json", 0, None), read_at)

Rules:
- entries whose names could escape the root (`check_key`: `..`, absolute, backslash, NUL) are skipped;
- a zip whose every file sits inside one top folder, with no file at the zip root, is the zip of that
  folder: the folder is the root, and keys that still name the folder ("data.zarr/x") resolve too;
- members are stored or deflated; `size()` is the stored (compressed) size;
- inflation is bounded: at most the member's declared size (+1 byte, to catch a lie) is ever produced,
  so a decompression bomb costs what it claims, not what it holds.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

from ..errors import KeyRejectedError, StoreError
from .base import child_names
from .keys import check_key

T = TypeVar("T")
Steps = Generator[tuple[int, int], bytes, T]

_EOCD, _EOCD64_LOCATOR, _EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_CENTRAL, _LOCAL = b"PK\x01\x02", b"PK\x03\x04"
_TAIL = 22 + 0xFFFF + 20  # the end record, the longest comment, the zip64 locator before it
STORED, DEFLATED = 0, 8
_UTF8_FLAG = 0x800


@dataclass(frozen=True)
class Member:
    name: str
    offset: int  # of the local header
    compressed_size: int
    size: int
    method: int
    crc: int


def run_steps(steps: Steps[T], read_at) -> T:
    """Drive `steps` with a blocking `read_at(offset, n) -> bytes`."""
    try:
        request = next(steps)
        while True:
            request = steps.send(read_at(*request))
    except StopIteration as done:
        return done.value


async def run_steps_async(steps: Steps[T], read_at) -> T:
    """Drive `steps` with an async `read_at(offset, n) -> bytes`."""
    try:
        request = next(steps)
        while True:
            request = steps.send(await read_at(*request))
    except StopIteration as done:
        return done.value


def load_directory(file_size: int, label: str) -> Steps[ZipDirectory]:
    """Read the end record (zip64 too) and the central directory: two reads, three for zip64."""
    tail_at = max(file_size - _TAIL, 0)
    tail = yield tail_at, file_size - tail_at
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        raise StoreError(f"{label}: not a zip file (no end of central directory)")
    count, cd_size, cd_offset = struct.unpack_from("<HII", tail, at + 10)
    if at >= 20 and tail[at - 20:at - 16] == _EOCD64_LOCATOR:
        (eocd64_at,) = struct.unpack_from("<Q", tail, at - 20 + 8)
        record = yield eocd64_at, 56
        if len(record) < 56 or record[:4] != _EOCD64:
            raise StoreError(f"{label}: bad zip64 end of central directory")
        count, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
    if cd_offset + cd_size > file_size:
        raise StoreError(f"{label}: the central directory lies outside the file (truncated zip?)")
    central = yield cd_offset, cd_size
    return ZipDirectory(parse_central_directory(central, count, label), label)


def parse_central_directory(central: bytes, count: int, label: str) -> list[Member]:
    members, pos = [], 0
    for _ in range(count):
        if central[pos:pos + 4] != _CENTRAL or pos + 46 > len(central):
            raise StoreError(f"{label}: corrupt zip central directory")
        flags, method = struct.unpack_from("<HH", central, pos + 8)
        crc, csize, usize = struct.unpack_from("<III", central, pos + 16)
        nlen, elen, clen = struct.unpack_from("<HHH", central, pos + 28)
        (offset,) = struct.unpack_from("<I", central, pos + 42)
        raw_name = central[pos + 46:pos + 46 + nlen]
        extra = central[pos + 46 + nlen:pos + 46 + nlen + elen]
        pos += 46 + nlen + elen + clen
        name = raw_name.decode("utf-8" if flags & _UTF8_FLAG else "cp437", "replace")
        usize, csize, offset = _zip64_values(extra, usize, csize, offset)
        members.append(Member(name, offset, csize, usize, method, crc))
    return members


def _zip64_values(extra: bytes, usize: int, csize: int, offset: int):
    """The 64-bit sizes and offset of the zip64 extra field, for those the 32-bit fields mark 0xFFFFFFFF."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            values, at = [], pos + 4
            for v in (usize, csize, offset):
                if v == 0xFFFFFFFF and at + 8 <= pos + 4 + size:
                    values.append(struct.unpack_from("<Q", extra, at)[0])
                    at += 8
                else:
                    values.append(v)
            return tuple(values)
        pos += 4 + size
    return usize, csize, offset


def root_folder(names) -> str:
    """'data.zarr' when every name sits inside that one folder and no file is at the zip root, else ''."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop()
    return ""


class ZipDirectory:
    """The members of one zip, by key below the root (see the module's rules)."""

    def __init__(self, members: list[Member], label: str):
        self.label = label
        safe = {}
        for m in members:
            if m.name.endswith("/"):
                continue  # a folder entry
            try:
                safe[check_key(m.name)] = m
            except KeyRejectedError:
                continue  # an entry that would escape the root is not followed
        self.folder = root_folder(safe)
        head = len(self.folder) + 1 if self.folder else 0
        self._members = {k[head:]: m for k, m in safe.items()}
        self._data_at: dict[str, int] = {}  # name -> offset of the member's data (from its local header)

    def _key(self, key: str) -> str:
        """`key` below the root; a key naming the root folder ("data.zarr/x") is taken without it,
        unless the root itself holds that path."""
        key = check_key(key).strip("/")
        if not self.folder or key in self._members:
            return key
        if key == self.folder:
            return ""
        if key.startswith(self.folder + "/"):
            inner = key[len(self.folder) + 1:]
            literal = key + "/"
            if not any(k.startswith(literal) for k in self._members):
                return inner
        return key

    def member(self, key: str) -> Member | None:
        return self._members.get(self._key(key))

    def list(self, prefix: str = "") -> list[str]:
        return child_names(self._members, self._key(prefix) if prefix.strip("/") else "")

    def size(self, key: str) -> int | None:
        """The stored (compressed) size."""
        m = self.member(key)
        return None if m is None else m.compressed_size

    def read(self, key: str, start: int, length: int | None) -> Steps[bytes | None]:
        """`length` bytes of the member's value from `start` (the Store.get_range semantics)."""
        m = self.member(key)
        if m is None:
            return None
        if m.method not in (STORED, DEFLATED):
            raise StoreError(f"{self.label}: {key!r} uses zip compression method {m.method} (only stored and "
                             "deflate are supported)")
        data_at = self._data_at.get(m.name)
        if data_at is None:
            header = yield m.offset, 30
            if len(header) < 30 or header[:4] != _LOCAL:
                raise StoreError(f"{self.label}: corrupt local header for {key!r}")
            nlen, elen = struct.unpack_from("<HH", header, 26)
            data_at = self._data_at[m.name] = m.offset + 30 + nlen + elen
        first, end = _span(start, length, m.size)
        if first >= end:
            return b""
        whole = first == 0 and end == m.size
        if m.method == STORED:
            data = yield data_at + first, end - first
            if len(data) != end - first:
                raise StoreError(f"{self.label}: {key!r} is truncated ({len(data)} of {end - first} bytes)")
        else:
            raw = yield data_at, m.compressed_size
            data = _inflate(raw, end, m, self.label, key)[first:]
        if whole and zlib.crc32(data) != m.crc:
            raise StoreError(f"{self.label}: {key!r} fails its CRC-32 check (corrupt zip member)")
        return data


def _span(start: int, length: int | None, size: int) -> tuple[int, int]:
    if start < 0:
        return max(size + start, 0), size
    return min(start, size), size if length is None else min(start + max(length, 0), size)


def _inflate(raw: bytes, end: int, m: Member, label: str, key: str) -> bytes:
    """The first `end` bytes of a deflated member; up to its end, one byte more is allowed, to show that
    it inflates to more than it declares."""
    limit = end + 1 if end == m.size else end
    if limit > sys.maxsize:
        raise StoreError(f"{label}: {key!r} declares {m.size} bytes, more than this platform can hold")
    try:
        data = zlib.decompressobj(-15).decompress(raw, limit)
    except zlib.error as e:
        raise StoreError(f"{label}: {key!r}: {e}") from e
    if len(data) > m.size:
        raise StoreError(f"{label}: {key!r} inflates to more than its declared {m.size} bytes (corrupt or "
                         "hostile zip)")
    if len(data) < end:
        raise StoreError(f"{label}: {key!r} inflates to {len(data)} bytes, fewer than its declared {m.size}")
    return data

