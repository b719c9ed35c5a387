"""Parquet reference sets (kerchunk's `refs_to_dataframe` layout), CPython only, read with fastparquet
(the extra `zarrlite[refs]`).

Layout: `.zmetadata` is `{"metadata": {Zarr metadata keys -> documents}, "record_size": n}`; the
references of the chunks of array `a` are rows of `a/refs.<r>.parq` (columns path, offset, size, raw),
chunk number i (the C-order index of its grid coordinates) at row i % n of record r = i // n. A row with
`raw` holds the value inline; a null path is a chunk never written; offset = size = 0 means the whole
file. Records are read on demand and the last few kept.
"""

from __future__ import annotations

import io
import json
import math
from collections import OrderedDict

from ..errors import MetadataError, StoreError, ZarrliteError
from ..runtime import run_cpu
from .keys import join_key
from .refs import ReferenceStore, TargetStores, is_url, split_location
from .refs_spec import Limits, Ref, resolve_target

MAX_RECORD_FILE = 256 << 20  # bytes of one refs.<r>.parq
RECORDS_KEPT = 8


def parquet_reader():
    try:
        import fastparquet
    except ImportError:
        raise StoreError("Parquet reference sets need fastparquet: pip install 'zarrlite[refs]'") from None
    return fastparquet


class ParquetReferences:
    """The references of a Parquet set whose `.zmetadata` is `meta`; `read(name)` (async) reads a file
    of the set (`.zmetadata`, `a/refs.0.parq`); relative targets resolve against `base`."""

    def __init__(self, meta, read, base: str, *, local_targets: bool, limits: Limits):
        if not isinstance(meta, dict) or not isinstance(meta.get("metadata"), dict) \
                or isinstance(meta.get("record_size"), bool) or not isinstance(meta.get("record_size"), int) \
                or not 0 < meta["record_size"] <= limits.max_refs:
            raise MetadataError(f"{base}: .zmetadata is not a Parquet reference set's "
                                "({'metadata': {...}, 'record_size': n})")
        self.metadata = meta["metadata"]
        self.record_size = meta["record_size"]
        self.read = read
        self.base = base
        self.local_targets = local_targets
        self.limits = limits
        self.records: OrderedDict = OrderedDict()

    def keys(self):
        return self.metadata.keys()

    async def lookup(self, key: str):
        if key == ".zmetadata":  # what Zarr v2 consolidated metadata is
            return json.dumps({"zarr_consolidated_format": 1, "metadata": self.metadata}).encode()
        if key in self.metadata:
            return json.dumps(self.metadata[key]).encode()
        field, _, chunk = key.rpartition("/")
        number = self._chunk_number(field, chunk)
        if number is None:
            return None
        record, row = divmod(number, self.record_size)
        paths, offsets, sizes, raws = await self._record(field, record)
        if row >= len(paths):
            return None
        if raws is not None and raws[row] is not None:
            return bytes(raws[row])
        path = paths[row]
        if path is None:
            return None
        target = resolve_target(str(path), self.base)
        if not self.local_targets and not is_url(target):
            raise StoreError(f"reference {key!r} points at the local file {target!r}, but the reference set "
                             "came from a URL: its targets must be URLs")
        offset, size = int(offsets[row]), int(sizes[row])
        if offset == size == 0:
            return Ref(target)
        if not (0 <= offset <= self.limits.max_offset and 0 <= size <= self.limits.max_length):
            raise MetadataError(f"reference {key!r}: offset {offset} / length {size} out of range")
        return Ref(target, offset, size)

    def _chunk_number(self, field, chunk) -> int | None:
        zarray = self.metadata.get(f"{field}/.zarray" if field else ".zarray")
        if not isinstance(zarray, dict) or not chunk:
            return None
        try:
            grid = [math.ceil(s / c) for s, c in zip(zarray["shape"], zarray["chunks"])] or [1]
            coords = [int(c) for c in chunk.split(zarray.get("dimension_separator") or ".")]
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None
        if len(coords) != len(grid) or not all(0 <= c < g for c, g in zip(coords, grid)):
            return None
        number = 0
        for c, g in zip(coords, grid):
            number = number * g + c
        return number

    async def _record(self, field, record):
        name = f"{field}/refs.{record}.parq"
        if name in self.records:
            self.records.move_to_end(name)
            return self.records[name]
        try:
            data = await self.read(name)
        except ZarrliteError as e:
            raise StoreError(f"Parquet references {self.base}: {name}: {e}") from e
        if data is None:
            columns = ([], [], [], None)
        elif len(data) > MAX_RECORD_FILE:
            raise StoreError(f"Parquet references {self.base}: {name} is larger than {MAX_RECORD_FILE >> 20} MiB")
        else:
            columns = await run_cpu(_decode, data, f"{self.base}/{name}")
        self.records[name] = columns
        while len(self.records) > RECORDS_KEPT:
            self.records.popitem(last=False)
        return columns


def _decode(data: bytes, where: str):
    """(paths, offsets, sizes, raws or None) of one record file; a missing path or raw is None."""
    fastparquet = parquet_reader()
    try:
        frame = fastparquet.ParquetFile(io.BytesIO(data)).to_pandas()
    except Exception as e:  # the reader's own errors: any of many types, for a corrupt file
        raise StoreError(f"{where}: not a readable Parquet file ({type(e).__name__}: {e})") from None
    if "path" not in frame or "offset" not in frame or "size" not in frame:
        raise MetadataError(f"{where}: expected the columns path, offset, size (and raw)")

    def nulls_none(column):
        return [None if v is None or v != v else v for v in column.tolist()]
    raws = nulls_none(frame["raw"].astype(object)) if "raw" in frame else None
    return (nulls_none(frame["path"].astype(object)), frame["offset"].to_numpy(), frame["size"].to_numpy(), raws)


def parquet_references(source: str, limits: Limits, http_options: dict) -> ReferenceStore:
    """A ReferenceStore over the Parquet reference set in the folder (local or URL) `source`."""
    from . import store_for

    parquet_reader()
    folder = source.rstrip("/")
    remote = is_url(folder)
    if remote:  # the folder's files as keys below its parent, whose URL is not a reference set's
        parent, name = split_location(folder)
        files = store_for(parent, cache_bytes=0, **http_options)
    else:
        from .local import LocalStore
        name = ""
        files = LocalStore(folder)

    async def read(file_name):  # a range: nothing larger than a record file is read whole
        return await files.get_range(join_key(name, file_name), 0, MAX_RECORD_FILE + 1)

    async def load():
        raw = await read(".zmetadata")
        if raw is None:
            raise StoreError(f"{source}: no .zmetadata: not a Parquet reference set")
        if len(raw) > MAX_RECORD_FILE:
            raise StoreError(f"{source}/.zmetadata is larger than {MAX_RECORD_FILE >> 20} MiB")
        try:
            meta = json.loads(raw)
        except ValueError as e:
            raise StoreError(f"{source}/.zmetadata: not JSON ({e})") from None
        # relative targets resolve as for a reference file in the set's place (beside its folder)
        return ParquetReferences(meta, read, folder, local_targets=not remote, limits=limits)

    return ReferenceStore(load=load, open_target=TargetStores(folder if remote else None, **http_options),
                          name=source)

