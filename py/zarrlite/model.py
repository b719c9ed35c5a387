"""The image model: what any viewer needs to show a node, computed once, in Python, from the metadata
conventions (OME-NGFF multiscales, omero, labels; N5 pyramids; Zarr v3 `dimension_names` and xarray's
`_ARRAY_DIMENSIONS`). The browser viewer, the notebook display and `zarrlite info` all use it.

    img = zarrlite.image_model(node)            # an Array or a multiscale Group
    img = await zarrlite.image_model_async(node)
    img.levels[0].shape, img.axes[img.y_dim].unit, img.channels[0].color, img.default_index
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, fields

import numpy as np

from .cf_values import packing_async
from .coords import coordinates_of
from .errors import NotFoundError, ZarrliteError
from .ome import (Multiscale, is_label_image, is_plate, label_paths, multiscale_from_attrs,
                  n5_datasets_multiscale)
from .runtime import run_sync

# Colours of channels without colours of their own, in order (a composite stays tellable apart).
CHANNEL_PALETTE = ("#00ff00", "#ff00ff", "#00ffff", "#ff0000", "#0000ff", "#ffff00", "#ffffff")
RGB_COLORS = ("#ff0000", "#00ff00", "#0000ff", "#ffffff")
RGB_LABELS = ("red", "green", "blue", "alpha")
DEFAULT_NAMES = ("t", "c", "z", "y", "x")
MAX_N5_LEVELS = 32
# Paths that name segmentations (ids, not intensities) in common tools' layouts
_LABELS_PATH = re.compile(r"(^|/)(labels?|seg\w*|segmentation|ids?|supervoxels?|neurons?)(/|$)",
                          re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class ImageLevel:
    path: str                            # of the array, from the root of the source
    shape: tuple[int, ...]
    chunks: tuple[int, ...]              # inner chunks when sharded
    shards: tuple[int, ...] | None
    dtype: str                           # numpy dtype.str of what reads return
    codecs: tuple[str, ...]
    fill_value: object
    scale: tuple[float, ...]             # physical size of a pixel per dimension
    translation: tuple[float, ...] | None
    factor: tuple[float, ...]            # level-0 pixels per pixel of this level, per dimension
    # a rectilinear grid: where its stored chunks (shards when sharded) start along each dimension whose
    # edges vary, and the end (formats/grids.py); None for a regular grid
    bounds: tuple | None = None


@dataclass(frozen=True)
class ImageAxis:
    name: str
    type: str | None                     # "space", "time", "channel" or None
    unit: str | None
    scale: float                         # physical size of a level-0 pixel


@dataclass(frozen=True)
class ImageChannel:
    index: int                           # along the channel dimension
    label: str
    color: str                           # "#rrggbb", "gray", or "labels" (coloured by id)
    window: tuple[float, float] | None   # None: choose from the data
    visible: bool
    source_color: str | None = None      # the colour the metadata gives ("#rrggbb"), if any


@dataclass(frozen=True)
class ImageModel:
    path: str
    name: str
    kind: str                            # "array" or "group"
    format: str
    levels: tuple[ImageLevel, ...]       # finest first
    axes: tuple[ImageAxis, ...]
    y_dim: int                           # the displayed rows, columns, and channel dimension (-1: none)
    x_dim: int
    c_dim: int
    channels: tuple[ImageChannel, ...]
    default_index: tuple[int, ...]       # the plane to show first, in level-0 pixels
    is_labels: bool                      # a segmentation: integer ids
    labels: tuple[str, ...]              # paths of the OME label images of this image
    description: str | None              # "OME-NGFF 0.5 multiscale — cells", "N5 multiscale", ...
    coordinates: dict | None = None      # the coordinate labelling each dimension (zarrlite.coords)
    is_rgb: bool = False                 # a colour picture: its last dimension is red, green, blue (alpha)
    cf: dict | None = None               # CF packing and labels of the values (zarrlite.cf_values)
    arrays: tuple = field(default=(), repr=False, compare=False)   # the opened level arrays

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def dtype(self) -> str:
        return self.levels[0].dtype

    def as_dict(self) -> dict:
        """Plain data for JSON with camelCase names (`yDim`, `defaultIndex`, ...), as JS reads them."""
        out = _camel(self, skip=("arrays",))
        out.update(ndim=self.ndim, dtype=self.dtype)
        return out


def _camel(obj, skip=()):
    if hasattr(obj, "__dataclass_fields__"):
        return {_camel_name(f.name): _camel(getattr(obj, f.name)) for f in fields(obj) if f.name not in skip}
    if isinstance(obj, (list, tuple)):
        return [_camel(v) for v in obj]
    return obj


def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def dimension_names(arr) -> list[str] | None:
    """An array's dimension names: Zarr v3 `dimension_names`, else xarray's `_ARRAY_DIMENSIONS`
    attribute (Zarr v2 from climate tools) when it names every dimension; None otherwise."""
    names = arr.dimension_names
    if names is None:
        xr = arr.attrs.get("_ARRAY_DIMENSIONS") if isinstance(arr.attrs, dict) else None
        names = xr if isinstance(xr, list) and len(xr) == arr.ndim else None
    return None if names is None else [None if n is None else str(n) for n in names]


def guess_type(name, size: int) -> str | None:
    """The axis type a bare dimension name suggests ("channel" only for a short dimension)."""
    n = str(name).lower()
    if n in ("c", "channel", "channels", "band") and size <= 32:
        return "channel"
    if n in ("t", "time"):
        return "time"
    if n in ("z", "depth", "level", "lev", "height"):
        return "space"
    return None


def _default_name(d: int, ndim: int) -> str:
    return DEFAULT_NAMES[5 - ndim + d] if 2 <= ndim <= 5 else f"dim_{d}"


def _where(node) -> str:
    return f"'{node.path or '/'}'"


# -- finding the pyramid ------------------------------------------------------------------------------
async def find_multiscale(group) -> Multiscale | None:
    """The multiscale pyramid a group describes: in its own attributes (OME-NGFF, N5 `scales`), or, for
    N5, on its `s0`, `s1`, ... datasets (their `downsamplingFactors`)."""
    ms = multiscale_from_attrs(group.attrs)
    if ms is not None or group.format != "n5":
        return ms
    names = await group.members()
    if names and "s0" not in names:
        return None
    datasets = {}
    for i in range(MAX_N5_LEVELS):   # in order, so a store that cannot list is probed until a gap
        name = f"s{i}"
        if names and name not in names:
            break
        try:
            child = await group.get_child(name)
        except NotFoundError:
            break
        if not hasattr(child, "shape"):
            break
        datasets[name] = child.attrs
    return n5_datasets_multiscale(group.attrs, datasets)


async def _open(group, path):
    try:
        node = await group.get_child(path)
    except NotFoundError:
        return None
    return node if hasattr(node, "shape") else None


async def _parent_of(arr):
    if not arr.path:
        return None
    from .nodes import open_node

    try:
        return await open_node(arr.context, arr.path.rpartition("/")[0])
    except ZarrliteError:   # e.g. an N5 middle group without attributes.json
        return None


async def _labels_of(group) -> tuple[str, ...]:
    # OME names no image's labels group in the image's metadata: it is asked for even when the members
    # do not show it (a store that cannot list, plain HTTP, shows only the members metadata names)
    try:
        labels = await group.get_child("labels")
    except ZarrliteError:   # none, or unreadable: the image shows without its labels
        return ()
    prefix = f"{labels.path}/"
    return tuple(prefix + p for p in label_paths(labels.attrs))


def _level(arr, scale, translation, factor) -> ImageLevel:
    return ImageLevel(arr.path, tuple(arr.shape), tuple(arr.chunks), arr.shards, np.dtype(arr.dtype).str,
                      tuple(arr.codecs), arr.fill_value, tuple(scale), translation, tuple(factor),
                      arr.meta.chunk_grid.variable_bounds())


# -- the model ----------------------------------------------------------------------------------------
async def image_model_async(node, parent=None) -> ImageModel:
    """The image model of an Array or a multiscale Group.

    A level of a pyramid keeps the pyramid's axes, units and channels: pass its group as `parent`, or
    leave it out and the parent is opened. Raises ZarrliteError for a group that is not an image and
    for fewer than two dimensions."""
    ms = labels = None
    is_group = not hasattr(node, "shape")
    parent_ms = None
    if is_group:
        ms = await find_multiscale(node)
        if ms is None:
            raise ZarrliteError(f"{_where(node)} is a group without multiscale metadata: pick one of its arrays")
        opened = await asyncio.gather(*(_open(node, lv.path) for lv in ms.levels))
        pairs = [(lv, a) for lv, a in zip(ms.levels, opened) if a is not None]
        if not pairs:
            raise ZarrliteError(f"the multiscale group {_where(node)} has none of its level arrays")
        base = pairs[0][1]
        pairs = [(lv, a) for lv, a in pairs if a.ndim == base.ndim]
        if len(ms.axes) != base.ndim:
            raise ZarrliteError(f"the multiscale group {_where(node)} names {len(ms.axes)} axes for "
                                f"arrays of {base.ndim} dimensions")
        s0 = ms.levels[0].scale
        levels = [_level(a, lv.scale, lv.translation, [
            s / s0[d] if s0[d] and s else n / a.shape[d] for d, (n, s) in enumerate(zip(base.shape, lv.scale))])
            for lv, a in pairs]
        arrays = tuple(a for _, a in pairs)
        axes = [ImageAxis(a.name, a.type, a.unit, s0[d]) for d, a in enumerate(ms.axes)]
        meta_channels, names_given = ms.channels, True
        labels = await _labels_of(node)
    else:
        if parent is None:
            parent = await _parent_of(node)
        if parent is not None:
            try:
                parent_ms = await find_multiscale(parent)
            except ZarrliteError:
                parent_ms = None
        names = dimension_names(node)
        names_given = names is not None
        meta_channels = ()
        level_meta = None
        if parent_ms is not None and len(parent_ms.axes) == node.ndim:
            prefix = f"{parent.path}/" if parent.path else ""
            level_meta = next((lv for lv in parent_ms.levels if prefix + lv.path == node.path), None)
            scale = level_meta.scale if level_meta else (1.0,) * node.ndim
            axes = [ImageAxis(a.name, a.type, a.unit, scale[d]) for d, a in enumerate(parent_ms.axes)]
            meta_channels, names_given = parent_ms.channels, True
        else:
            axes = [ImageAxis(n, guess_type(n, node.shape[d]), None, 1.0) for d, n in enumerate(
                names[d] if names and names[d] is not None else _default_name(d, node.ndim)
                for d in range(node.ndim))]
        levels = [_level(node, [a.scale for a in axes], level_meta.translation if level_meta else None,
                         [1.0] * node.ndim)]
        arrays = (node,)
        labels = await _labels_of(parent) if level_meta is not None else ()
    ndim = len(levels[0].shape)
    if ndim < 2:
        raise ZarrliteError(f"{_where(node)} has {ndim} dimension(s): a plane needs 2")
    shape = levels[0].shape
    rgb = (not is_group and not any(a.type == "channel" for a in axes) and ndim >= 3
           and shape[-1] in (3, 4) and shape[-2] > 4)
    if rgb:   # a picture stored as (..., y, x, 3|4): the last dimension is its colour channels
        if not names_given:   # the default names were t, c, z, y, x
            lead = [("t", "z")[d + 5 - ndim] if d + 5 - ndim >= 0 else f"dim_{d}" for d in range(ndim - 3)]
            axes = [ImageAxis(n, guess_type(n, k), None, a.scale) for n, k, a in zip(lead + ["y", "x", "c"], shape, axes)]
        axes[-1] = ImageAxis(axes[-1].name, "channel", axes[-1].unit, axes[-1].scale)
    c_dim = next((d for d, a in enumerate(axes) if a.type == "channel"), -1)
    spatial = [d for d in range(ndim) if d != c_dim]
    x_dim = spatial[-1]
    y_dim = spatial[-2] if len(spatial) >= 2 else (c_dim if c_dim >= 0 else 0)
    n_channels = shape[c_dim] if c_dim >= 0 and c_dim != y_dim else 1
    channels = _channels(n_channels, meta_channels, rgb, levels[0].dtype, node.path.rpartition("/")[2] or "values")
    c_dim = c_dim if n_channels > 1 or (c_dim >= 0 and c_dim != y_dim) else -1
    marked = is_label_image(node.attrs) or (parent_ms is not None and is_label_image(parent.attrs))
    is_labels = (np.dtype(levels[0].dtype).kind in "iu" and len(channels) == 1
                 and (marked or bool(_LABELS_PATH.search(node.path))))
    if is_labels:
        channels[0] = ImageChannel(0, channels[0].label, "labels", channels[0].window, True,
                                   channels[0].source_color)
    coords = None if is_group else await coordinates_of(node, parent)
    if coords:   # a dimension labelled by CF or datetime64 times is a time axis (it starts at the first)
        axes = [ImageAxis(a.name, "time", a.unit, a.scale) if a.type is None and c and c["kind"] == "time" else a
                for a, c in zip(axes, coords["dims"])]
    default = [0 if axes[d].type == "time" or d == c_dim else (n - 1) // 2 for d, n in enumerate(shape)]
    if ms is not None and ms.version != "n5":
        for want, pick in ((ms.default_z, lambda a: a.name == "z"), (ms.default_t, lambda a: a.type == "time")):
            d = next((d for d, a in enumerate(axes) if pick(a)), None)
            if want is not None and d is not None:
                default[d] = min(want, shape[d] - 1)
    return ImageModel(node.path, node.path.rpartition("/")[2] or "/", "group" if is_group else "array",
                      node.format, tuple(levels), tuple(axes), y_dim, x_dim, c_dim, tuple(channels),
                      tuple(default), is_labels, tuple(labels or ()), _description(ms or parent_ms),
                      coords, is_rgb=rgb,
                      cf=await packing_async(arrays[0]), arrays=arrays)


def _channels(n: int, meta, rgb: bool, dtype: str, name: str) -> list[ImageChannel]:
    out = []
    for i in range(n):
        m = meta[i] if i < len(meta) else None
        source = f"#{m.color.lower()}" if m is not None and m.color else None
        if rgb:
            label, color, visible = RGB_LABELS[i], RGB_COLORS[i], i < 3
        else:
            label = f"channel {i}" if n > 1 else name
            color, visible = (CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] if n > 1 else "gray"), i < 4
        window = tuple(m.window) if m is not None and m.window else (
            (0.0, 255.0) if rgb and dtype.endswith("u1") else None)
        if m is not None:
            label, color, visible = m.label, source or color, m.active
        out.append(ImageChannel(i, label, color, window, visible, source))
    if out and not any(c.visible for c in out):
        first = out[0]
        out[0] = ImageChannel(first.index, first.label, first.color, first.window, True, first.source_color)
    return out


def _description(ms: Multiscale | None) -> str | None:
    if ms is None:
        return None
    kind = "N5 multiscale" if ms.version == "n5" else f"OME-NGFF {ms.version or ''} multiscale".replace("  ", " ")
    return kind + (f" — {ms.name}" if ms.name else "")


def image_model(node, parent=None) -> ImageModel:
    """Synchronous form of `image_model_async`."""
    return run_sync(image_model_async(node, parent), "await zarrlite.image_model_async(node)")


# -- the tree's view of a node ------------------------------------------------------------------------
async def node_summary(node) -> dict:
    """What a tree of nodes shows beside a name: `{multiscale, plate, levels, badge, convention}`
    (`convention` "ome" | "n5" | None; `badge` a short text or None)."""
    out = {"multiscale": False, "plate": False, "levels": None, "badge": None, "convention": None}
    if hasattr(node, "shape"):
        return out
    try:
        ms = await find_multiscale(node)
    except ZarrliteError:
        ms = None
    if ms is not None:
        n5 = ms.version == "n5"
        out.update(multiscale=True, levels=len(ms.levels), convention="n5" if n5 else "ome",
                   badge=f"N5 pyramid · {len(ms.levels)} levels" if n5
                   else f"OME {ms.version or ''} · {len(ms.levels)} levels".replace("  ", " "))
    elif is_plate(node.attrs):
        out.update(plate=True, badge="plate", convention="ome")
    return out

