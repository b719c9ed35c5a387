"""Label images over an image: OME-NGFF `labels` / `image-label`, and segmentations of integer ids
(N5 / neuroglancer style, uint64 included) opened beside an image. What the viewer overlays: how a
label image's pixels line up with the image's, and the colours of a tile of ids, computed here with
numpy so that every id (all 64 bits) gets its exact colour; the page only draws the pixels.

The palette, one rule: an id listed in `image-label.colors` takes its `rgba`; 0 (the background) is
transparent unless listed; any other id v takes the bytes of h = (v * 2654435761) mod 2**32 (v taken
modulo 2**64, so negative ids as two's complement) — red the lowest byte, then green, then blue — each
lifted to 64 + b * 191 // 255, alpha 255. Stable: an id has the same colour in every tile, level and
session.

Alignment: label axes are matched to the image's by name (a label axis the image lacks must have size 1).
A label pixel spans `factor` level-0 image pixels per dimension: the ratio of physical pixel sizes when
both carry scales other than 1, else the ratio of the level-0 shapes (translations are not applied).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .errors import ZarrliteError
from .model import image_model_async
from .ome import is_label_image, multiscale_from_attrs, ome_block

PALETTE_MULTIPLIER = 2654435761


@dataclass(frozen=True)
class LabelStyle:
    colors: dict          # id -> (r, g, b, a), from `image-label.colors`
    properties: dict      # id -> {name: value}, from `image-label.properties`


@dataclass(frozen=True)
class ImageFrame:
    """What aligning labels needs of the image they lie over (from an ImageModel or its dict)."""
    names: tuple[str, ...]
    scales: tuple[float, ...]
    shape: tuple[int, ...]     # level 0
    y_dim: int
    x_dim: int

    @classmethod
    def of(cls, model) -> "ImageFrame":
        if isinstance(model, dict):
            axes = model["axes"]
            return cls(tuple(str(a["name"]) for a in axes), tuple(float(a["scale"]) for a in axes),
                       tuple(int(n) for n in model["levels"][0]["shape"]), int(model["yDim"]), int(model["xDim"]))
        return cls(tuple(a.name for a in model.axes), tuple(a.scale for a in model.axes),
                   tuple(model.levels[0].shape), model.y_dim, model.x_dim)


def _integral(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def label_style(attrs) -> LabelStyle:
    """The colours and properties an OME `image-label` gives its ids (malformed entries are skipped)."""
    block = ome_block(attrs).get("image-label")
    if not isinstance(block, dict):
        return LabelStyle({}, {})
    colors, properties = {}, {}
    for entry in block.get("colors") if isinstance(block.get("colors"), list) else []:
        if not isinstance(entry, dict):
            continue
        v, rgba = _integral(entry.get("label-value")), entry.get("rgba")
        if v is None or not isinstance(rgba, list) or len(rgba) not in (3, 4):
            continue
        if all(_integral(c) is not None and 0 <= _integral(c) <= 255 for c in rgba):
            colors[v] = tuple(_integral(c) for c in rgba) + (255,) * (4 - len(rgba))
    for entry in block.get("properties") if isinstance(block.get("properties"), list) else []:
        v = _integral(entry.get("label-value")) if isinstance(entry, dict) else None
        if v is not None:
            properties[v] = {str(k): p for k, p in entry.items() if k != "label-value"}
    return LabelStyle(colors, properties)


def palette_rgba(ids) -> np.ndarray:
    """(..., 4) uint8: the palette colour of every id (see the module's docstring); 0 is transparent."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iub":
        raise ZarrliteError(f"label ids must be integers, not {ids.dtype}")
    h = (ids.astype(np.uint64) * np.uint64(PALETTE_MULTIPLIER)) & np.uint64(0xFFFFFFFF)
    out = np.empty(ids.shape + (4,), np.uint8)
    for k in range(3):
        byte = (h >> np.uint64(8 * k)) & np.uint64(255)
        out[..., k] = np.uint64(64) + byte * np.uint64(191) // np.uint64(255)
    out[..., 3] = 255
    out[ids == 0] = 0
    return out


def colour_ids(ids, style: LabelStyle | None = None) -> np.ndarray:
    """(..., 4) uint8 RGBA of a tile of ids: listed colours first, the palette for the rest."""
    ids = np.asarray(ids)
    uniq, inverse = np.unique(ids, return_inverse=True)
    table = palette_rgba(uniq)
    info = np.iinfo(uniq.dtype) if uniq.dtype.kind in "iu" else None
    for v, rgba in (style.colors.items() if style else ()):
        if info is not None and not info.min <= v <= info.max:
            continue
        at = int(np.searchsorted(uniq, np.array(v, dtype=uniq.dtype)))
        if at < len(uniq) and int(uniq[at]) == v:
            table[at] = rgba
    return table[inverse.reshape(ids.shape)]


def boundaries(ids) -> np.ndarray:
    """Bool mask of the pixels of a 2-D tile of ids with a 4-neighbour of another id (both sides)."""
    ids = np.asarray(ids)
    out = np.zeros(ids.shape, bool)
    dy = ids[1:] != ids[:-1]
    out[1:] |= dy
    out[:-1] |= dy
    dx = ids[:, 1:] != ids[:, :-1]
    out[:, 1:] |= dx
    out[:, :-1] |= dx
    return out


async def label_tile(arr, selection: list, y_dim: int, x_dim: int, style: LabelStyle | None = None,
                     outline: bool = False) -> np.ndarray:
    """(h, w, 4) uint8 RGBA, rows first, of the ids of `arr` at `selection`: one entry per dimension,
    [start, stop] for `y_dim` and `x_dim`, an index for the others. `outline`: only the boundary pixels
    (judged with a one-pixel margin read around the tile, so tile edges are exact)."""
    if len(selection) != arr.ndim:
        raise ZarrliteError(f"label tile: {len(selection)} entries for {arr.ndim} dimensions")
    pad = 1 if outline else 0
    spans = {}
    for d in (y_dim, x_dim):
        lo, hi = (int(v) for v in selection[d])
        spans[d] = (lo, hi, max(lo - pad, 0), min(hi + pad, arr.shape[d]))
    index = tuple(slice(spans[d][2], spans[d][3]) if d in spans else int(v) for d, v in enumerate(selection))
    ids = np.asarray(await arr.get(index))
    if y_dim > x_dim:
        ids = ids.T
    rgba = colour_ids(ids, style)
    if outline:
        rgba[~boundaries(ids)] = 0
    (y0, y1, ya, _), (x0, x1, xa, _) = spans[y_dim], spans[x_dim]
    return np.ascontiguousarray(rgba[y0 - ya:y1 - ya, x0 - xa:x1 - xa])


async def label_value(arr, index: list, style: LabelStyle | None = None) -> dict:
    """{"id": the id at `index` (an int, exact), "properties": its `image-label` properties or None}."""
    value = int(np.asarray(await arr.get(tuple(int(i) for i in index))))
    return {"id": value, "properties": (style.properties.get(value) if style else None)}


async def overlay_of(image, label_node) -> dict:
    """How the label image (or segmentation) `label_node` lies over `image` (an ImageModel or its dict):
    `{path, name, kind, dims, levels: [{path, shape, chunks, factor}], dtype, listedColors, properties}`;
    `dims[i]` is the image dimension of label dimension i (-1: none), a level's `factor` the level-0
    image pixels per label pixel along each label dimension. Raises ZarrliteError when they do not fit."""
    frame = ImageFrame.of(image)
    labels = await image_model_async(label_node)
    where = f"'{label_node.path}'"
    if np.dtype(labels.dtype).kind not in "iu":
        raise ZarrliteError(f"{where} holds {np.dtype(labels.dtype)} values, not integer label ids")
    shape0 = labels.levels[0].shape
    dims = []
    for i, axis in enumerate(labels.axes):
        d = frame.names.index(axis.name) if axis.name in frame.names else -1
        if d < 0 and shape0[i] != 1:
            raise ZarrliteError(f"{where} has an axis {axis.name!r} that the image (axes "
                                f"{', '.join(frame.names)}) does not have")
        dims.append(d)
    if frame.y_dim not in dims or frame.x_dim not in dims:
        raise ZarrliteError(f"{where} (axes {', '.join(a.name for a in labels.axes)}) lacks the image's "
                            f"displayed axes {frame.names[frame.y_dim]!r}, {frame.names[frame.x_dim]!r}")
    physical = any(s != 1 for s in frame.scales) and any(a.scale != 1 for a in labels.axes)
    base = [1.0 if d < 0 else (labels.axes[i].scale / frame.scales[d] if physical and frame.scales[d]
                               else frame.shape[d] / shape0[i]) for i, d in enumerate(dims)]
    style = label_style(label_node.attrs)
    return {"path": label_node.path, "name": label_node.path.rpartition("/")[2] or "/",
            "kind": "image-label" if is_label_image(label_node.attrs) else "segmentation",
            "dims": dims, "dtype": labels.dtype,
            "levels": [{"path": lv.path, "shape": list(lv.shape), "chunks": list(lv.chunks),
                        "factor": [b * f for b, f in zip(base, lv.factor)]} for lv in labels.levels],
            "listedColors": len(style.colors),
            "properties": sorted({k for props in style.properties.values() for k in props})}


async def overlays_of(image, open_node) -> list[dict]:
    """`overlay_of` for every label image `image` lists (its `labels`); one that cannot be used is
    `{path, name, error}` and the others still come."""
    paths = image["labels"] if isinstance(image, dict) else image.labels
    out = []
    for path in paths:
        try:
            out.append(await overlay_of(image, await open_node(path)))
        except ZarrliteError as e:
            out.append({"path": path, "name": path.rpartition("/")[2], "error": str(e)})
    return out


def segmentation_candidates(nodes: dict, exclude: list[str]) -> list[str]:
    """Paths of the opened `nodes` (path -> Array | Group) that can lie over an image as labels:
    multiscale groups of integer levels and integer arrays outside such a group, but for the paths in
    `exclude` (the image and its levels); 32- and 64-bit ids (segmentations) first."""
    def integer(node):
        return hasattr(node, "shape") and np.dtype(node.dtype).kind in "iu"

    def inside(path, group):
        return group == "" or path.startswith(group + "/")

    groups = {}
    for path, node in nodes.items():
        if hasattr(node, "shape"):
            continue
        try:
            ms = multiscale_from_attrs(node.attrs)
        except ZarrliteError:
            ms = None
        first = ms.levels[0].path if ms is not None else ("s0" if node.format == "n5" else None)
        level = nodes.get(f"{path}/{first}" if path else str(first)) if first else None
        if level is not None and integer(level):
            groups[path] = level
    arrays = {p: n for p, n in nodes.items() if integer(n) and not any(inside(p, g) for g in groups if g)}
    found = {**groups, **arrays}
    skip = {p.strip("/") for p in exclude}
    return sorted((p for p in found if p not in skip), key=lambda p: (np.dtype(found[p].dtype).itemsize < 4, p))


def viewer_calls(node, session) -> dict:
    """The label calls of the viewer page (zarrlite.viewer_api), given `node(path)` (async: the node at a
    path of the open source) and `session()` (the worker's Session: the nodes opened so far)."""
    from .webworker import json_text

    async def label_overlays(image: dict) -> str:
        return json_text(await overlays_of(image, node))

    async def label_overlay(image: dict, path: str) -> str:
        return json_text(await overlay_of(image, await node(path)))

    async def label_tile_rgba(overlay: str, level: str, selection: list, y_dim: int, x_dim: int, outline=False):
        style = label_style((await node(overlay)).attrs)
        rgba = await label_tile(await node(level), selection, int(y_dim), int(x_dim), style, bool(outline))
        return rgba, json.dumps({"dtype": rgba.dtype.str})

    async def label_at(overlay: str, level: str, index: list) -> str:
        return json_text(await label_value(await node(level), index, label_style((await node(overlay)).attrs)))

    async def label_candidates(exclude: list) -> str:
        return json_text(segmentation_candidates(session().nodes, exclude))

    return {"label_overlays": label_overlays, "label_overlay": label_overlay, "label_tile": label_tile_rgba,
            "label_at": label_at, "label_candidates": label_candidates}
