"""zarrlite: read Zarr v2, Zarr v3 (with sharding) and N5 arrays, in CPython and in the browser."""

from __future__ import annotations

from . import codecs as _codecs  # noqa: F401
from .array import Array
from .codecs import native as _native, stdlib as _stdlib  # noqa: F401  (register the back-ends)
from .context import Context
from .errors import (BudgetError, ChunkError, CodecError, KeyRejectedError, MetadataError, NotFoundError,
                     SelectionError, StoreError, SyncUnavailableError, ZarrliteError, ZarrliteWarning)
from .group import Group
from .model import ImageModel, image_model, image_model_async
from .runtime import DEFAULT_CONCURRENCY, DEFAULT_MAX_BYTES, IN_PYODIDE, run_sync

if IN_PYODIDE:
    from .codecs import browser as _browser

    _browser.install()

__version__ = "0.1.0"
__all__ = ["open", "open_async", "Array", "Group", "ZarrliteError", "MetadataError", "NotFoundError",
           "CodecError", "ChunkError", "SelectionError", "BudgetError", "StoreError", "KeyRejectedError",
           "SyncUnavailableError", "ZarrliteWarning", "show", "check", "check_async", "explore", "to_dask",
           "ImageModel", "image_model", "image_model_async"]


async def open_async(source, path: str = "", *, max_bytes: int = DEFAULT_MAX_BYTES,
                     concurrency: int = DEFAULT_CONCURRENCY,
                     cache_bytes: int = 256 << 20, **store_options) -> Array | Group:
    """Open the array or group at `path` in `source` (a directory, a .zip, an http(s) URL or a store).

    `max_bytes` bounds what one read may allocate; `cache_bytes` is the chunk cache of remote stores;
    `concurrency` bounds the chunks of one read and the requests in flight (runtime.DEFAULT_CONCURRENCY:
    64 in CPython, 32 in the browser); other options go to the HTTP store (`retries`, `timeout`,
    `headers`; `region`, `endpoint_url` for s3:// gs:// az://; `storage_options` for fsspec).
    """
    from .nodes import open_node
    from .reopen import OpenedWith
    from .stores import store_for

    store = store_for(source, cache_bytes=cache_bytes, concurrency=concurrency, **store_options)
    opened = OpenedWith.record(source, dict(max_bytes=max_bytes, concurrency=concurrency, cache_bytes=cache_bytes,
                                            **store_options))
    ctx = Context(store=store, max_bytes=max_bytes, concurrency=concurrency, opened=opened)
    return await open_node(ctx, path)


def open(source, path: str = "", **options) -> Array | Group:  # noqa: A001 - the contract's name
    """Synchronous form of `open_async` (CPython; in the browser use `await zarrlite.open_async`)."""
    return run_sync(open_async(source, path, **options), "await zarrlite.open_async(source, path)")


def to_dask(source, path: str = "", **options):
    """A lazy dask.array of the array at `path` in `source`, one block per stored chunk (shard): see
    `zarrlite.dask_array.to_dask` (`chunks=` for blocks of several chunks; other options as `open`)."""
    from .dask_array import to_dask as array_to_dask

    return array_to_dask(source, path, **options)


async def check_async(source, path: str = "", **options):
    """Whether each array at and below `path` is readable, in this Python and in the browser runtime, and
    if not why, from metadata only: a `zarrlite.readability.CheckReport` (see `zarrlite check`)."""
    from .readability import check_async as check_hierarchy

    return await check_hierarchy(source, path, **options)


def check(source, path: str = "", **options):
    """Synchronous form of `check_async` (CPython)."""
    return run_sync(check_async(source, path, **options), "await zarrlite.check_async(source, path)")


def explore(source, **options):
    """An ipywidgets view of an array or image (see `zarrlite.explorer.explore`; imported on first use: the
    browser worker never needs it, and its imports cost start-up there)."""
    from .explorer import explore as explore_node

    return explore_node(source, **options)


def show(source, selection=None, *args, **options):
    """Show a 2-D plane inline in a notebook (see `zarrlite.notebook.show`; imported on first use to keep
    the browser worker's start-up short)."""
    from .notebook import show as notebook_show

    return notebook_show(source, selection, *args, **options)


def __getattr__(name):
    # zarrlite.notebook stays reachable as an attribute although `import zarrlite` no longer imports it
    if name == "notebook":
        import importlib

        return importlib.import_module(f"{__name__}.notebook")
    raise AttributeError(f"module 'zarrlite' has no attribute {name!r}")
