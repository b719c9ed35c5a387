"""The xarray backend `engine="zarrlite"`: Zarr v2, Zarr v3 and N5 groups as lazily indexed Datasets and
DataTrees. zarrlite reads the arrays; xarray decodes CF conventions (masks, scales, times) as it does for
its own zarr engine, from the same attributes.

Dimension names: Zarr v3 `dimension_names`, else the `_ARRAY_DIMENSIONS` attribute (Zarr v2 written by
xarray), else for N5 the `axes` attribute of the dataset or of its group (x first, as N5 lists
dimensions, so reversed to zarrlite's C order). An array with none of these gets `dim_0`, `dim_1`, ...
(xarray's default names); two such arrays whose lengths then disagree are an error naming them (drop one
with `drop_variables`, or open the group of one of them).
"""

from __future__ import annotations

import os
import urllib.parse
import warnings
from collections.abc import Iterable

from xarray.backends.common import (AbstractDataStore, BackendArray, BackendEntrypoint,
                                    datatree_from_dict_with_io_cleanup)
from xarray.backends.store import StoreBackendEntrypoint
from xarray.backends.zarr import FillValueCoder
from xarray.core import indexing
from xarray.core.utils import FrozenDict

from .array import Array
from .cf_values import v2_fill_value_given
from .errors import MetadataError, ZarrliteError, ZarrliteWarning
from .group import Group
from .outer_read import read_outer
from .runtime import run_sync

_SUFFIXES = (".zarr", ".n5", ".zarr.zip", ".n5.zip")
_SUPPORT = indexing.IndexingSupport.OUTER


class ZarrliteBackendArray(BackendArray):
    """A zarrlite Array behind xarray's lazy indexing: basic and outer selections are read by zarrlite
    (only the chunks a selection touches); vectorized ones are a bounding outer read then numpy."""

    def __init__(self, array: Array):
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer):
        return indexing.explicit_indexing_adapter(key, self.shape, _SUPPORT, self._read)

    def _read(self, key: tuple):
        return run_sync(read_outer(self.array, key), "await backend_array.async_getitem(key)")

    async def async_getitem(self, key: indexing.ExplicitIndexer):
        return await indexing.async_explicit_indexing_adapter(key, self.shape, _SUPPORT, self._read_async)

    async def _read_async(self, key: tuple):
        return await read_outer(self.array, key)

    def __deepcopy__(self, memo):
        return self  # read-only: a deep copy of a Variable shares it instead of re-opening the source


def dimension_names(arr: Array, group_attrs: dict) -> tuple[list[str | None], set[str]]:
    """(a name or None per dimension, the attributes the names came from) for `arr`."""
    if arr.dimension_names is not None and len(arr.dimension_names) == arr.ndim:
        # Zarr v3 lets a dimension go unnamed (null)
        return [None if n is None else str(n) for n in arr.dimension_names], set()
    if arr.format == "zarr2":
        names = arr.attrs.get("_ARRAY_DIMENSIONS")
        if isinstance(names, list) and len(names) == arr.ndim:
            return [str(n) for n in names], {"_ARRAY_DIMENSIONS"}
    if arr.format == "n5":
        for attrs, used in ((arr.attrs, {"axes"}), (group_attrs, set())):
            axes = attrs.get("axes")
            if isinstance(axes, list) and len(axes) == arr.ndim and all(isinstance(a, str) for a in axes):
                return list(reversed(axes)), used
    return [None] * arr.ndim, set()


async def kept_members(group: Group, dropped: set[str]):
    # dropped members are not even opened: a malformed one can be dropped to open the rest
    if group.context.consolidated is None and await group.context.store.list(group.path) is None:
        warnings.warn(f"the members of group '{group.path or '/'}' in {group.context.store!r} cannot be listed "
                      "(a plain HTTP server, no consolidated metadata): only those its metadata names are read. "
                      "Consolidate the store's metadata to open them all.", ZarrliteWarning, stacklevel=2)
    return await group.children([n for n in await group.members() if n not in dropped])


class ZarrliteDataStore(AbstractDataStore):
    """The arrays directly inside one zarrlite Group, as xarray Variables (not yet CF-decoded)."""

    def __init__(self, group: Group, drop_variables: Iterable[str] = ()):
        self.group = group
        members = run_sync(kept_members(group, set(drop_variables)), "await group.children()")
        self.arrays = {}
        for name, node in members:
            if isinstance(node, ZarrliteError):
                raise type(node)(f"{node} (pass drop_variables=[{name!r}] to open the rest)") from node
            if isinstance(node, Array):
                self.arrays[name] = node

    def get_variables(self):
        from xarray import Variable

        variables, unnamed = {}, {}
        for name, arr in self.arrays.items():
            names, used = dimension_names(arr, self.group.attrs)
            dims = [f"dim_{d}" if n is None else n for d, n in enumerate(names)]
            for dim, given, size in zip(dims, names, arr.shape):
                if given is None:  # a default name: the arrays given it must agree on its length
                    other = unnamed.setdefault(dim, (name, size))
                    if other[1] != size:
                        raise MetadataError(
                            f"arrays '{other[0]}' and '{name}' have no dimension names and differ in length "
                            f"along {dim} ({other[1]} != {size}): name their dimensions, or drop one with "
                            "drop_variables")
            attrs = {k: v for k, v in arr.attrs.items() if k not in used and not k.lower().startswith("_nc")}
            encoding = {"chunks": arr.chunks, "preferred_chunks": dict(zip(dims, arr.shards or arr.chunks)),
                        "shards": arr.shards}
            if arr.format == "zarr2":
                # Zarr v2's fill_value is the CF _FillValue (what xarray writes and its zarr engine reads);
                # null means none (zarrlite reads it as 0, as zarr-python does)
                if run_sync(v2_fill_value_given(arr), "await v2_fill_value_given(arr)"):
                    attrs["_FillValue"] = arr.fill_value
            elif arr.format == "zarr3":
                # Zarr v3: the fill value is not a mask; xarray keeps _FillValue in the attributes, encoded
                encoding["fill_value"] = arr.fill_value
                if "_FillValue" in attrs:
                    attrs["_FillValue"] = FillValueCoder.decode(attrs["_FillValue"], arr.dtype)
            data = indexing.LazilyIndexedArray(ZarrliteBackendArray(arr))
            variables[name] = Variable(dims, data, attrs, encoding)
        return FrozenDict(variables)

    def get_attrs(self):
        return {k: v for k, v in self.group.attrs.items() if not k.lower().startswith("_nc")}

    def get_dimensions(self):
        return {d: n for v in self.get_variables().values() for d, n in zip(v.dims, v.shape)}


def open_group(filename_or_obj, group: str | None, storage_options: dict | None) -> Group:
    """The zarrlite Group at `group` in the source (a path, URL or store; or a zarrlite Group)."""
    from . import open as open_node

    if isinstance(filename_or_obj, Group):
        node = filename_or_obj if not group else filename_or_obj[group.strip("/")]
    else:
        node = open_node(filename_or_obj, (group or "").strip("/"), **(storage_options or {}))
    if not isinstance(node, Group):
        raise ZarrliteError(f"'{node.path or '/'}' is an array, not a group: open its group (group=...) and "
                            "select the variable")
    return node


def subgroups(group: Group):
    """(path relative to `group`, Group) for the group and every group below it."""
    yield "", group
    for name, child in run_sync(group.children(), "await group.children()"):
        if isinstance(child, Group):
            for path, sub in subgroups(child):
                yield f"{name}/{path}".rstrip("/"), sub


class ZarrliteBackendEntrypoint(BackendEntrypoint):
    """`xr.open_dataset(source, engine="zarrlite")`: Zarr v2, Zarr v3 (sharded too) and N5, read by zarrlite.
    `storage_options` are zarrlite.open's options (headers, retries, timeout, max_bytes, ...)."""

    description = "Read Zarr v2, Zarr v3 and N5 with zarrlite"
    supports_groups = True
    open_dataset_parameters = ("filename_or_obj", "mask_and_scale", "decode_times", "concat_characters",
                               "decode_coords", "drop_variables", "use_cftime", "decode_timedelta", "group",
                               "storage_options")

    def guess_can_open(self, filename_or_obj) -> bool:
        if isinstance(filename_or_obj, Group):
            return True
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        text = os.fspath(filename_or_obj)
        path = urllib.parse.urlsplit(text).path if "://" in text else text
        return path.rstrip("/").lower().endswith(_SUFFIXES)

    def open_dataset(self, filename_or_obj, *, mask_and_scale=True, decode_times=True, concat_characters=True,
                     decode_coords=True, drop_variables: str | Iterable[str] | None = None, use_cftime=None,
                     decode_timedelta=None, group: str | None = None, storage_options: dict | None = None):
        node = open_group(filename_or_obj, group, storage_options)
        return self._dataset(node, mask_and_scale=mask_and_scale, decode_times=decode_times,
                             concat_characters=concat_characters, decode_coords=decode_coords,
                             drop_variables=drop_variables, use_cftime=use_cftime,
                             decode_timedelta=decode_timedelta)

    @staticmethod
    def _dataset(node: Group, drop_variables=None, **decoding):
        drop = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables or ())
        store = ZarrliteDataStore(node, drop)
        return StoreBackendEntrypoint().open_dataset(store, drop_variables=drop, **decoding)

    def open_groups_as_dict(self, filename_or_obj, *, group: str | None = None, storage_options=None,
                            drop_variables=None, **decoding):
        root = open_group(filename_or_obj, group, storage_options)
        return {f"/{path}": self._dataset(node, drop_variables, **decoding) for path, node in subgroups(root)}

    def open_datatree(self, filename_or_obj, *, mask_and_scale=True, decode_times=True, concat_characters=True,
                      decode_coords=True, drop_variables=None, use_cftime=None, decode_timedelta=None,
                      group: str | None = None, storage_options: dict | None = None):
        groups = self.open_groups_as_dict(
            filename_or_obj, group=group, storage_options=storage_options, drop_variables=drop_variables,
            mask_and_scale=mask_and_scale, decode_times=decode_times, concat_characters=concat_characters,
            decode_coords=decode_coords, use_cftime=use_cftime, decode_timedelta=decode_timedelta)
        return datatree_from_dict_with_io_cleanup(groups)
