"""The store interface: a tiny async key -> bytes mapping.

A missing key is `None`, never an exception: formats decide what a missing key means
(a fill-value chunk, or "no array here").
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Store(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The whole value at `key`, or None if there is none."""

    async def get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        """`length` bytes from `start` (`length=None`: to the end; `start<0`: a suffix of -start bytes)."""

    async def list(self, prefix: str = "") -> list[str] | None:
        """Immediate children names under `prefix`, or None if the store cannot list."""

    # Optional: `async size(key) -> int | None`, the stored size without reading the value
    # (the viewer's chunk map uses it; callers fall back to len(await get(key))).
    # Optional: `async get_held(key) -> bytes | HeldValue | None`, `get` whose value may stay where it
    # was fetched (see HeldValue); only a reader whose decoder takes held values asks for it.


class HeldValue:
    """A value that stays where a store fetched it (in the browser: on the chunk worker that fetched it,
    stores/browser_fetch.py HeldBytes), so that it is decoded there, not copied here and back. `len()` is
    its size; `head` its first bytes (at least HEAD_BYTES, or all of a shorter value: what size checks
    of compressor headers read); `await read()` the bytes themselves."""

    HEAD_BYTES = 32

    size: int
    head: bytes

    def __len__(self) -> int:
        return self.size

    async def read(self) -> bytes:
        raise NotImplementedError


def slice_range(data: bytes, start: int, length: int | None) -> bytes:
    """The get_range semantics applied to bytes in memory."""
    if start < 0:
        return data[max(len(data) + start, 0):]
    end = len(data) if length is None else start + length
    return data[start:end]


def child_names(keys, prefix: str) -> list[str]:
    """The immediate children of `prefix` among flat keys ("a/b/c" is child "b" of "a")."""
    prefix = prefix.strip("/")
    head = prefix + "/" if prefix else ""
    return sorted({k[len(head):].split("/", 1)[0] for k in keys if k.startswith(head) and len(k) > len(head)})
