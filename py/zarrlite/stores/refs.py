"""kerchunk references as a store: keys of a virtual Zarr hierarchy whose values are inline or byte
ranges of other files (NetCDF4/HDF5 chunks), in CPython and in the browser.

The document is parsed once (refs_spec.py: pure); values are read through the runtime's own stores
(`store_for`: HttpStore in CPython, FetchStore in the browser; LocalStore for local paths), one per folder
of target files, each chunk a range read of its file. The range reads of one file that arrive together
(the array reads a selection's chunks concurrently) are gathered and adjacent or near ones merged into
one read (gather.py over ranges.merge_ranges: in the HTTP transports, and around LocalStore here).

How a source is recognised (`reference_store_for`), by content: a dict that is a reference set; a local
file holding one (any name, not a .zip); a URL whose path ends in `.json` (its content must be a
reference set); a directory, or a URL whose path ends in `.parq`, holding a Parquet reference set
(kerchunk's `.zmetadata` with `record_size`; CPython only, refs_parquet.py).
"""

from __future__ import annotations

import json
import os
import posixpath
import urllib.parse

from ..errors import StoreError, ZarrliteError
from ..runtime import IN_PYODIDE, Once
from .base import child_names, slice_range
from .keys import check_key
from .refs_spec import Limits, Ref, is_reference_set, is_url, parse_references

MAX_DOCUMENT = 512 << 20  # bytes of a JSON reference file (a set of a million references is ~100 MiB)
MAX_VALUE = Limits().max_length  # bytes of one value read through a reference


class JsonReferences:
    """A parsed JSON reference set (refs_spec.parse_references)."""

    def __init__(self, mapping: dict):
        self.mapping = mapping

    async def lookup(self, key: str):
        return self.mapping.get(key)

    def keys(self):
        return self.mapping.keys()


class ReferenceStore:
    """A store over references (`JsonReferences` or refs_parquet.ParquetReferences), or over what
    `load()` (async) returns, loaded on first use. `open_target(target) -> (store, key)` gives the store
    that reads a target file."""

    def __init__(self, references=None, *, load=None, open_target=None, name: str = "references"):
        async def given():
            return references

        self._refs = Once(given if references is not None else load)
        self._open_target = open_target or TargetStores()
        self.name = name

    def __repr__(self):
        return f"ReferenceStore({self.name!r})"

    async def references(self):
        return await self._refs.get()  # a failed load is tried again on the next read

    async def get(self, key):
        value = await (await self.references()).lookup(check_key(key))
        if value is None or isinstance(value, bytes):
            return value
        return await self._read(key, value, value.offset, value.length)

    async def get_range(self, key, start, length):
        value = await (await self.references()).lookup(check_key(key))
        if value is None or isinstance(value, bytes):
            return value if value is None else slice_range(value, start, length)
        if value.length is None:
            return await self._read(key, value, start, length)
        total = value.length
        first = max(total + start, 0) if start < 0 else min(start, total)
        stop = total if length is None or start < 0 else min(first + max(length, 0), total)
        return await self._read(key, value, value.offset + first, stop - first) if stop > first else b""

    async def size(self, key):
        value = await (await self.references()).lookup(check_key(key))
        if value is None or isinstance(value, bytes):
            return None if value is None else len(value)
        if value.length is not None:
            return value.length
        try:
            store, target_key = self._open_target(value.target)
        except ZarrliteError as e:
            raise _error(e, key, value.target, 0, None) from e
        size = getattr(store, "size", None)
        return await size(target_key) if size is not None else len(await self.get(key) or b"")

    async def list(self, prefix=""):
        return child_names((await self.references()).keys(), check_key(prefix))

    # -- reading targets ------------------------------------------------------------------------------
    async def _read(self, key, ref: Ref, start, length):
        try:
            return await self._fetch(ref.target, start, length)
        except ZarrliteError as e:
            raise _error(e, key, ref.target, start, length) from e

    async def _fetch(self, target, start, length) -> bytes:
        """Bytes [start, start + length) of `target` (length None: to its end); raises what the target's
        store raises, and StoreError for a missing or short target."""
        store, target_key = self._open_target(target)
        if length is None and start >= 0:  # a whole file (`[url]`): no larger than a referenced value
            data = await store.get_range(target_key, start, MAX_VALUE + 1)
            if data is not None and len(data) > MAX_VALUE:
                raise StoreError(f"the file is larger than {MAX_VALUE >> 20} MiB, the most one value may be")
        else:
            data = await store.get_range(target_key, start, length)
        if data is None:
            raise StoreError("the target file is missing")
        if length is not None and len(data) < length:
            raise StoreError(f"the file holds only {len(data)} of the bytes asked for")
        return data


def _error(cause, key, target, start, length) -> StoreError:
    """The error of a referenced read: the key, the target file and its bytes, then the cause."""
    span = "" if length is None and not start else f" bytes {start}..{start + (length or 0)}"
    return StoreError(f"reference {key!r} -> {target}{span}: {cause}")


def split_location(location: str) -> tuple[str, str]:
    """(the folder, the name) of a URL or path: a store for the folder reads the file as key `name`.
    A URL's query (a signed URL) stays on the folder, as store URLs keep it."""
    if not is_url(location):
        return os.path.dirname(location) or ".", os.path.basename(location)
    parts = urllib.parse.urlsplit(location)
    folder, name = posixpath.split(parts.path)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, folder, parts.query, "")), \
        urllib.parse.unquote(name)


def _origin(url: str):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


class TargetStores:
    """target -> (store, key): one store per folder of target files, made by the runtime's `store_for`
    (local paths: LocalStore). `headers` are sent only to targets on the origin of `origin_url` (the
    reference file's): a reference file must not be able to send a user's credentials elsewhere."""

    def __init__(self, origin_url: str | None = None, **http_options):
        self.origin = _origin(origin_url) if origin_url and is_url(origin_url) else None
        self.http_options = http_options
        self.stores: dict[str, object] = {}

    def __call__(self, target: str):
        folder, name = split_location(target)
        store = self.stores.get(folder)
        if store is None:
            store = self.stores[folder] = self._store(folder)
        return store, name

    def _store(self, folder):
        if not is_url(folder):
            from .gather import GatheredRanges
            from .local import LocalStore
            return GatheredRanges(LocalStore(folder))  # URL stores gather in their transports
        from . import store_for
        options = dict(self.http_options)
        if self.origin is None or _origin(folder) != self.origin:
            options.pop("headers", None)
        return store_for(folder, cache_bytes=0, **options)


def parse_document(data: bytes, where: str):
    """The decoded JSON of a reference file's bytes, bounded; StoreError naming `where` if it is not JSON."""
    if len(data) > MAX_DOCUMENT:
        raise StoreError(f"{where}: a reference file larger than {MAX_DOCUMENT >> 20} MiB")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise StoreError(f"{where}: not a JSON reference file ({e})") from None


def _not_references(where, doc) -> StoreError:
    what = ("a zarr.json (open the folder it is in)" if isinstance(doc, dict) and "zarr_format" in doc
            else "JSON, but not a kerchunk reference set")
    return StoreError(f"{where}: {what}")


def is_json_url(source: str) -> bool:
    return is_url(source) and urllib.parse.urlsplit(source).path.lower().endswith(".json")


def is_parquet_url(source: str) -> bool:
    return is_url(source) and urllib.parse.urlsplit(source).path.rstrip("/").lower().endswith(".parq")


def reference_store_for(source, limits: Limits = Limits(), **http_options):
    """A ReferenceStore when `source` is a reference set (see the module's doc), else None."""
    if isinstance(source, dict):
        return ReferenceStore(JsonReferences(parse_references(source, None, limits=limits)),
                              open_target=TargetStores(**http_options), name="references (dict)")
    if not isinstance(source, str):
        return None
    if is_json_url(source):
        return ReferenceStore(load=lambda: _load_json_url(source, limits, http_options),
                              open_target=TargetStores(source, **http_options), name=source)
    if is_parquet_url(source) or (not is_url(source) and _is_parquet_folder(source)):
        if IN_PYODIDE:
            if is_parquet_url(source):
                raise StoreError(f"{source}: Parquet reference sets are not supported in the browser (no "
                                 "Parquet reader here): convert it to a JSON reference file")
            return None
        from .refs_parquet import parquet_references
        return parquet_references(source, limits, http_options)
    mapping = read_reference_file(source, limits) if not is_url(source) else None
    if mapping is None:
        return None
    return ReferenceStore(JsonReferences(mapping), open_target=TargetStores(**http_options), name=source)


def read_reference_file(path: str, limits: Limits = Limits()) -> dict | None:
    """The parsed references of a local file holding a reference set (any name but a .zip: read by
    content; targets resolved against its path), or None when the file's content is not JSON."""
    if not os.path.isfile(path) or path.lower().endswith(".zip"):
        return None
    with open(path, "rb") as f:
        data = f.read(64)
        if data.lstrip()[:1] != b"{":
            return None
        data += f.read(MAX_DOCUMENT)
    doc = parse_document(data, path)
    if not is_reference_set(doc):
        raise _not_references(path, doc)
    return parse_references(doc, os.path.abspath(path), limits=limits)


def _is_parquet_folder(path: str) -> bool:
    """A folder whose .zmetadata is a Parquet reference set's (not Zarr's consolidated metadata)."""
    try:
        with open(os.path.join(path, ".zmetadata"), "rb") as f:
            data = f.read(MAX_DOCUMENT)
    except OSError:
        return False
    return b'"record_size"' in data and b'"zarr_consolidated_format"' not in data


async def _load_json_url(url, limits, http_options):
    from . import store_for

    folder, name = split_location(url)
    try:  # a range, so that a server sending endless bytes is cut off at the bound
        data = await store_for(folder, cache_bytes=0, **http_options).get_range(name, 0, MAX_DOCUMENT + 1)
    except ZarrliteError as e:
        raise StoreError(f"reference file {url}: {e}") from e
    if data is None:
        raise StoreError(f"reference file {url}: not found")
    doc = parse_document(data, url)
    if not is_reference_set(doc):
        raise _not_references(url, doc)
    return JsonReferences(parse_references(doc, url, local_targets=False, limits=limits))
