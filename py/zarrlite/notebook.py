"""Rich display in Jupyter (CPython) and JupyterLite (Pyodide): HTML summaries of arrays and groups with a
thumbnail, and `show()`, a plane as an inline image with the viewer's window/level and colormaps.

    arr                                    # last expression of a cell: summary table + thumbnail
    zarrlite.show(arr, "0,:,:", window=(0, 4000), colormap="viridis")
    await zarrlite.show(arr)               # the same, where synchronous reads are impossible (JupyterLite)

Images are PNGs made here with numpy and zlib alone (no Pillow: the offline Pyodide has none).
Reading a thumbnail is I/O: where the runtime cannot block (Pyodide without JSPI), the summary leaves the
thumbnail out and says which `await` form shows it.
"""

from __future__ import annotations

import base64
import html
import math
import struct
import zlib

import numpy as np

from .errors import SyncUnavailableError, ZarrliteError
from .indexing import count_chunks, normalize_selection, parse_selection
from .render import render, resolve_window
from .runtime import IN_PYODIDE, run_sync

THUMBNAIL_SIZE = 128          # longest side of a summary's thumbnail, in pixels
SHOW_SIZE = 1024              # longest side of a shown plane (strided: every k-th pixel)
# Most decoded bytes a thumbnail may read; bigger planes get no thumbnail rather than a slow repr.
THUMBNAIL_BUDGET = (16 << 20) if IN_PYODIDE else (64 << 20)
MAX_ATTRS_CHARS = 2000
MAX_MEMBERS = 200


# -- PNG ---------------------------------------------------------------------------------------------
_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> gray, gray+alpha, RGB, RGBA


def png_bytes(image: np.ndarray, level: int = 6) -> bytes:
    """Encode an 8-bit image, (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA, as PNG bytes.

    An RGBA image whose alpha is all 255 is written as RGB. Rows are unfiltered (filter type 0)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ZarrliteError(f"png: 8-bit (uint8) pixels are needed, got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _PNG_COLOR_TYPE or 0 in img.shape[:2]:
        raise ZarrliteError(f"png: an image of shape (H, W), (H, W, 3) or (H, W, 4) is needed, got {image.shape}")
    if img.shape[2] == 4 and bool((img[:, :, 3] == 255).all()):
        img = img[:, :, :3]
    height, width, channels = img.shape
    rows = np.zeros((height, 1 + width * channels), np.uint8)   # a leading 0 per row: filter "none"
    rows[:, 1:] = img.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _png_chunk(b"IEND", b"")])


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def img_tag(png: bytes, title: str = "", max_css: int | None = None) -> str:
    style = "image-rendering:pixelated;border:1px solid #ccc"
    if max_css:
        style += f";max-width:{max_css}px;max-height:{max_css}px"
    return (f'<img class="zarrlite-image" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
            f'title="{html.escape(title)}" style="{style}"/>')


# -- which plane -------------------------------------------------------------------------------------
def default_selection(shape, keep_axis: int | None = None) -> tuple:
    """The middle plane of the leading dimensions, all of the last two (and of `keep_axis`, if given)."""
    if len(shape) < 2:
        raise ZarrliteError(f"an image needs at least 2 dimensions, the array has shape {tuple(shape)}")
    lead = len(shape) - 2
    return tuple(slice(None) if i == keep_axis else n // 2 for i, n in enumerate(shape[:lead])) + \
        (slice(None), slice(None))


def _strided(selection: tuple, shape, max_size: int | None) -> tuple:
    """`selection` with steps on its last two full-range slices so neither side exceeds `max_size`."""
    if not max_size:
        return selection
    sel = list(selection) + [slice(None)] * (len(shape) - len(selection))
    for axis in (len(shape) - 2, len(shape) - 1):
        s = sel[axis]
        if isinstance(s, slice) and s.step in (None, 1):
            length = len(range(*s.indices(shape[axis])))
            step = max(1, math.ceil(length / max_size))
            sel[axis] = slice(s.start, s.stop, step)
    return tuple(sel)


def _decoded_bytes(arr, selection) -> int:
    """Decoded bytes of the chunks a selection touches (what reading it costs)."""
    dims = normalize_selection(selection, arr.shape)
    return count_chunks(dims, arr.chunks) * math.prod(arr.chunks) * arr.dtype.itemsize


def _as_selection(selection):
    return parse_selection(selection) if isinstance(selection, str) else selection


async def _pick_array(node, max_size: int):
    """The array to draw for `node`: itself, or for a multiscale group the coarsest level whose plane is
    at least `max_size` pixels (else the finest). None for a group without a multiscale image."""
    if hasattr(node, "shape"):
        return node
    ms = node.multiscale
    if ms is None or not ms.levels:
        return None
    for level in reversed(ms.levels):          # coarsest first
        arr = await node.get_child(level.path)
        if len(arr.shape) >= 2 and max(arr.shape[-2:]) >= max_size:
            return arr
    return await node.get_child(ms.levels[0].path)


def omero_composite(ms, shape):
    """(channel axis, composite channels) from a multiscale's OMERO channels (colour, window, active),
    or (None, None) when there are none or they do not match the array's channel axis."""
    if ms is None or not ms.channels:
        return None, None
    axis = next((i for i, a in enumerate(ms.axes) if a.type == "channel"), None)
    if axis is None or axis >= len(shape) - 2 or shape[axis] != len(ms.channels):
        return None, None
    return axis, [{"index": i, "color": "#" + c.color, "window": c.window or "auto", "visible": c.active}
                  for i, c in enumerate(ms.channels)]


# -- show --------------------------------------------------------------------------------------------
class Shown:
    """A rendered plane that displays inline (HTML with a PNG). Returned by `show()`; awaitable, so
    `await zarrlite.show(...)` reads with the async API where a synchronous read is impossible."""

    def __init__(self, source, selection=None, *, window="auto", colormap="gray", invert=False,
                 channels=None, channel_axis=0, max_size: int | None = SHOW_SIZE):
        self.source = source
        self.selection = _as_selection(selection)
        self.options = dict(window=window, colormap=colormap, invert=invert, channels=channels,
                            channel_axis=channel_axis)
        self.max_size = max_size
        self.png: bytes | None = None
        self.rgba: np.ndarray | None = None
        self.window = None            # the (lo, hi) used, once rendered (single-plane rendering)
        self.shape = None             # shape of the data read
        self.label = ""
        self._channel_axis = channel_axis   # of the data read (differs from the array's: see target)
        self._target = None

    async def load(self) -> "Shown":
        if self.png is None:
            data = await self._read()
            self.shape = data.shape
            opts = self.options
            if not opts["channels"]:
                data = np.squeeze(data) if data.ndim > 2 else data
                self.window = resolve_window(data, opts["window"])
            self.rgba = render(data, window=self.window or opts["window"], colormap=opts["colormap"],
                               invert=opts["invert"], channels=opts["channels"], channel_axis=self._channel_axis)
            self.png = png_bytes(self.rgba)
        return self

    def __await__(self):
        return self.load().__await__()

    async def target(self):
        """(array, selection) this will read: a multiscale group's level is picked, and with no selection
        the middle plane is taken (keeping the channel axis for a composite; OMERO channels of a group
        become the composite when no selection or channels were given)."""
        if self._target is not None:
            return self._target
        src = self.source
        arr = await _pick_array(src, self.max_size or SHOW_SIZE)
        if arr is None:
            raise ZarrliteError(f"show: {src!r} is a group without a multiscale image: pick an array in it")
        sel, opts = self.selection, self.options
        if sel is None and not opts["channels"] and not hasattr(src, "shape"):
            axis, channels = omero_composite(src.multiscale, arr.shape)
            if channels:
                opts.update(channels=channels, channel_axis=axis)
        if sel is None:
            keep = opts["channel_axis"] if opts["channels"] else None
            sel = default_selection(arr.shape, keep)
            self._channel_axis = 0        # the channel axis is the only leading axis left
        self._target = arr, _strided(sel if isinstance(sel, tuple) else (sel,), arr.shape, self.max_size)
        return self._target

    async def _read(self) -> np.ndarray:
        src = self.source
        if isinstance(src, np.ndarray):
            sel = self.selection if self.selection is not None else ...
            self.label = f"ndarray {src.shape} {src.dtype}"
            return np.asarray(src[sel])
        arr, sel = await self.target()
        self.label = f"/{arr.path} [{_format_selection(sel)}] of {arr.shape} {arr.dtype}"
        return await arr.get(sel)

    def _load_sync(self) -> bool:
        if self.png is None:
            run_sync(self.load(), "await zarrlite.show(...)")
        return True

    def _caption(self) -> str:
        opts = self.options
        parts = [self.label]
        if self.window is not None:
            parts.append(f"window {self.window[0]:.6g}..{self.window[1]:.6g}")
        if opts["channels"]:
            parts.append(f"{len(opts['channels'])} channels")
        else:
            parts.append(str(opts["colormap"]) + (" inverted" if opts["invert"] else ""))
        return " · ".join(p for p in parts if p)

    def _repr_png_(self):
        try:
            self._load_sync()
        except SyncUnavailableError:
            return None
        return self.png

    def _repr_html_(self):
        try:
            self._load_sync()
        except SyncUnavailableError:
            return _async_hint("await zarrlite.show(...)")
        caption = html.escape(self._caption())
        return (f'<figure class="zarrlite-show" style="margin:0">{img_tag(self.png, self._caption())}'
                f'<figcaption style="font:12px monospace;color:#555">{caption}</figcaption></figure>')

    def __repr__(self):
        return f"<zarrlite.show {self._caption() or self.source!r}>"


def show(source, selection=None, window="auto", colormap="gray", invert=False, channels=None,
         channel_axis=0, max_size: int | None = SHOW_SIZE) -> Shown:
    """Show a 2-D plane of an array inline, with the viewer's contrast and colormap options.

    `source`: an Array, a multiscale Group (a level about `max_size` pixels is picked), or an ndarray.
    `selection`: numpy basic selection or text (`"0,:,:"`); default: the middle of the leading
    dimensions and all of the last two. `window`: `"auto"` (0.1-99.9 percentiles), `"full"` or
    `(lo, hi)`. `colormap`: gray, viridis, magma, inferno, or a colour. `channels`: a composite, as
    `zarrlite.render.composite` (the selection keeps `channel_axis`). Planes wider than `max_size` are
    read with a step (None: full resolution). In JupyterLite without synchronous reads use
    `await zarrlite.show(...)`."""
    return Shown(source, selection, window=window, colormap=colormap, invert=invert, channels=channels,
                 channel_axis=channel_axis, max_size=max_size)


# -- summaries ---------------------------------------------------------------------------------------
_CSS = ("font:13px/1.4 -apple-system,BlinkMacSystemFont,'Segoe UI',sans-serif;border-collapse:collapse;"
        "margin:2px 0;text-align:left")
_TH = "text-align:left;padding:1px 10px 1px 0;color:#555;font-weight:600;vertical-align:top"
_TD = "text-align:left;padding:1px 10px 1px 0;font-family:monospace;vertical-align:top"
_CELL = "text-align:left;vertical-align:top;padding:0"


def _rows(pairs) -> str:
    return "".join(f'<tr><th style="{_TH}">{html.escape(k)}</th><td style="{_TD}">{v}</td></tr>'
                   for k, v in pairs)


def _code(value) -> str:
    return html.escape(str(value))


def _attrs_html(attrs) -> str:
    import json

    if not attrs:
        return "<i>none</i>"
    try:
        text = json.dumps(attrs, indent=1, default=str)
    except (TypeError, ValueError):
        text = repr(attrs)
    if len(text) > MAX_ATTRS_CHARS:
        text = text[:MAX_ATTRS_CHARS] + "\n…"
    return (f'<details><summary>{len(attrs)} key{"s" if len(attrs) != 1 else ""}: '
            f'{html.escape(", ".join(map(str, list(attrs)[:8])))}{", …" if len(attrs) > 8 else ""}</summary>'
            f'<pre style="margin:0;max-height:20em;overflow:auto">{html.escape(text)}</pre></details>')


def _async_hint(form: str) -> str:
    return (f'<div style="font:12px monospace;color:#777">(this runtime cannot read synchronously: '
            f'<code>{html.escape(form)}</code> shows it)</div>')


def _format_selection(sel) -> str:
    def one(s):
        if isinstance(s, slice):
            text = f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
            return text + (f":{s.step}" if s.step not in (None, 1) else "")
        return "..." if s is Ellipsis else str(s)
    return ",".join(one(s) for s in sel)


def array_rows(arr) -> list[tuple[str, str]]:
    rows = [("format", _code(arr.format)), ("shape", _code(arr.shape)), ("dtype", _code(arr.dtype)),
            ("chunks", _code(arr.chunks))]
    if getattr(arr, "shards", None):
        rows.append(("shards", _code(arr.shards)))
    if getattr(arr, "dimension_names", None):
        rows.append(("dimensions", _code(", ".join(str(d) for d in arr.dimension_names))))
    rows += [("codecs", _code(", ".join(arr.codecs) or "none")), ("fill value", _code(arr.fill_value)),
             ("size", _code(f"{arr.nbytes:,} bytes"))]
    return rows


async def thumbnail_async(node, size: int = THUMBNAIL_SIZE, budget: int = THUMBNAIL_BUDGET):
    """(png, caption) of a small view of an array or a multiscale group, or (None, reason)."""
    shown = Shown(node, max_size=size)
    arr = await _pick_array(node, size)
    if arr is None:
        return None, ""
    if len(arr.shape) < 2 or min(arr.shape[-2:]) == 0:
        return None, "no thumbnail for fewer than 2 dimensions" if len(arr.shape) < 2 else ""
    if arr.dtype.kind not in "biufc":
        return None, f"no thumbnail for dtype {arr.dtype}"
    arr, sel = await shown.target()
    cost = _decoded_bytes(arr, sel)
    if cost > budget:
        return None, (f"no thumbnail: the plane spans {cost:,} decoded bytes of chunks "
                      f"(more than {budget:,}); use zarrlite.show(...) with a selection")
    await shown.load()
    return shown.png, shown._caption()


def _with_thumbnail(node, table: str, kind: str) -> str:
    try:
        png, caption = run_sync(thumbnail_async(node), "await zarrlite.notebook.summary(node)")
    except SyncUnavailableError:
        png, caption = None, None
    except ZarrliteError as e:
        png, caption = None, f"no thumbnail: {e}"
    if png is not None:
        side = f'<td style="{_CELL};padding-left:12px">{img_tag(png, caption, THUMBNAIL_SIZE * 2)}</td>'
    elif caption is None:
        side = f'<td style="{_CELL};padding-left:12px">{_async_hint("await zarrlite.show(node)")}</td>'
    elif caption:
        side = f'<td style="{_CELL};padding-left:12px;font:12px monospace;color:#777">' \
               f'{html.escape(caption)}</td>'
    else:
        side = ""
    return f'<div class="zarrlite-{kind}"><table style="{_CSS}"><tr><td style="{_CELL}">' \
           f'{table}</td>{side}</tr></table></div>'


def array_html(arr) -> str:
    """The HTML summary of an Array (for `Array._repr_html_`): metadata table and a thumbnail."""
    title = f"<b>zarrlite.Array</b> <code>/{html.escape(arr.path)}</code>"
    table = f'{title}<table style="{_CSS}">{_rows(array_rows(arr) + [("attrs", _attrs_html(arr.attrs))])}</table>'
    return _with_thumbnail(arr, table, "array")


async def _members_rows(group) -> list[tuple[str, str]]:
    names = await group.members()
    rows = []
    for name in names[:MAX_MEMBERS]:
        try:
            child = await group.get_child(name)
        except ZarrliteError as e:
            rows.append((name, f'<span style="color:#b00">{html.escape(str(e))}</span>'))
            continue
        if hasattr(child, "shape"):
            text = f"{child.shape} {child.dtype} chunks={child.chunks} [{', '.join(child.codecs)}]"
            rows.append((name, _code(text)))
        else:
            rows.append((name + "/", "<i>group</i>"))
    if len(names) > MAX_MEMBERS:
        rows.append(("…", _code(f"{len(names) - MAX_MEMBERS} more")))
    return rows


def group_html(group) -> str:
    """The HTML summary of a Group (for `Group._repr_html_`): attrs, members, multiscale thumbnail."""
    try:
        members = run_sync(_members_rows(group), "await group.members()")
    except SyncUnavailableError:
        members = [("members", _async_hint("await zarrlite.notebook.summary(group)"))]
    except ZarrliteError as e:
        members = [("members", f'<span style="color:#b00">{html.escape(str(e))}</span>')]
    return _group_table(group, members, thumbnail=True)


def _group_table(group, members, thumbnail: bool) -> str:
    rows = [("format", _code(group.format))]
    ms = group.multiscale
    if ms is not None:
        axes = ", ".join(a.name for a in ms.axes)
        rows.append(("multiscale", _code(f"{len(ms.levels)} levels ({axes})" + (f" {ms.name}" if ms.name else ""))))
    rows.append(("attrs", _attrs_html(group.attrs)))
    title = f"<b>zarrlite.Group</b> <code>/{html.escape(group.path)}</code>"
    table = (f'{title}<table style="{_CSS}">{_rows(rows)}</table>'
             f'<table style="{_CSS};margin-left:12px">{_rows(members) if members else ""}</table>')
    if thumbnail and ms is not None:
        return _with_thumbnail(group, table, "group")
    return f'<div class="zarrlite-group">{table}</div>'


class Summary:
    """An HTML summary built with the async API (`await zarrlite.notebook.summary(node)`)."""

    def __init__(self, html_text: str):
        self.html = html_text

    def _repr_html_(self):
        return self.html


async def summary(node) -> Summary:
    """The rich summary of an Array or Group, read asynchronously (works in every runtime)."""
    png, caption = await thumbnail_async(node)
    if hasattr(node, "shape"):
        table = (f"<b>zarrlite.Array</b> <code>/{html.escape(node.path)}</code><table style=\"{_CSS}\">"
                 f"{_rows(array_rows(node) + [('attrs', _attrs_html(node.attrs))])}</table>")
    else:
        table = _group_table(node, await _members_rows(node), thumbnail=False)
    side = f'<td style="{_CELL};padding-left:12px">{img_tag(png, caption, THUMBNAIL_SIZE * 2)}</td>' \
        if png is not None else ""
    return Summary(f'<div class="zarrlite-summary"><table style="{_CSS}"><tr><td style="{_CELL}">'
                   f'{table}</td>{side}</tr></table></div>')


# -- where am I --------------------------------------------------------------------------------------
def site_url(path: str = "") -> str:
    """The absolute URL of `path` relative to the JupyterLite site root (where `lab/` and `files/` are),
    e.g. `site_url("files/data/sample.zarr")`. In CPython the path is returned unchanged."""
    if not IN_PYODIDE:
        return path
    import js  # Pyodide only
    from urllib.parse import urljoin

    here = str(js.location.href)
    # The kernel runs in a worker under <root>/extensions/@jupyterlite/pyodide-kernel-extension/static/
    root = here.split("/extensions/", 1)[0] + "/" if "/extensions/" in here else urljoin(here, ".")
    return urljoin(root, path)
