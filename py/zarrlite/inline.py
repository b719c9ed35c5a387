"""Planes shown inline in a notebook: `show()` reads a plane (the image model picks the level, the
plane and the channels) and renders it with the viewer's window/level and colormaps as a PNG.

    zarrlite.show(arr, "0,:,:", window=(0, 4000), colormap="viridis")
    await zarrlite.show(arr)               # where synchronous reads are impossible (JupyterLite)
"""

from __future__ import annotations

import html
import math

import numpy as np

from .errors import SyncUnavailableError, ZarrliteError
from .indexing import parse_selection
from .model import image_model_async
from .png import img_tag, png_bytes
from .render import render, resolve_window
from .runtime import run_sync

SHOW_SIZE = 1024              # longest side of a shown plane (strided: every k-th pixel)


def default_selection(shape, keep_axis: int | None = None) -> tuple:
    """The middle plane of the leading dimensions, all of the last two (and of `keep_axis`, if given)."""
    if len(shape) < 2:
        raise ZarrliteError(f"an image needs at least 2 dimensions, the array has shape {tuple(shape)}")
    lead = len(shape) - 2
    return tuple(slice(None) if i == keep_axis else n // 2 for i, n in enumerate(shape[:lead])) + \
        (slice(None), slice(None))


def strided(selection: tuple, shape, max_size: int | None, axes=(-2, -1)) -> tuple:
    """`selection` with steps on the full-range slices of `axes` (the displayed rows and columns) so
    neither side exceeds `max_size`."""
    if not max_size:
        return selection
    sel = list(selection) + [slice(None)] * (len(shape) - len(selection))
    for axis in (a % len(shape) for a in axes):
        s = sel[axis]
        if isinstance(s, slice) and s.step in (None, 1):
            length = len(range(*s.indices(shape[axis])))
            step = max(1, math.ceil(length / max_size))
            sel[axis] = slice(s.start, s.stop, step)
    return tuple(sel)


def as_selection(selection):
    """A selection given as text (`"0,:,10:20"`) parsed, any other left as it is."""
    return parse_selection(selection) if isinstance(selection, str) else selection


def async_hint(form: str) -> str:
    """HTML saying that `form` shows what this runtime could not read synchronously."""
    return (f'<div style="font:12px monospace;color:#777">(this runtime cannot read synchronously: '
            f'<code>{html.escape(form)}</code> shows it)</div>')


def format_selection(sel) -> str:
    """A selection as text, as `parse_selection` reads it."""
    def one(s):
        if isinstance(s, slice):
            text = f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
            return text + (f":{s.step}" if s.step not in (None, 1) else "")
        return "..." if s is Ellipsis else str(s)
    return ",".join(one(s) for s in sel)


# -- show --------------------------------------------------------------------------------------------
class Shown:
    """A rendered plane that displays inline (HTML with a PNG). Returned by `show()`; awaitable, so
    `await zarrlite.show(...)` reads with the async API where a synchronous read is impossible."""

    def __init__(self, source, selection=None, *, window="auto", colormap="gray", invert=False,
                 channels=None, channel_axis=0, max_size: int | None = SHOW_SIZE):
        self.source = source
        self.selection = as_selection(selection)
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
        """(array, selection) this will read. With no selection the image model chooses: the coarsest
        level at least `max_size` pixels wide (else the finest), its default plane, and for a pyramid or
        a colour picture its channels as a composite; given `channels` keep `channel_axis` and the
        middle of the other leading dimensions."""
        if self._target is not None:
            return self._target
        src, sel, opts = self.source, self.selection, self.options
        if sel is not None and hasattr(src, "shape"):
            self._target = src, strided(sel if isinstance(sel, tuple) else (sel,), src.shape, self.max_size)
            return self._target
        model = await image_model_async(src)
        level = pick_level(model, self.max_size or SHOW_SIZE)
        arr, factors = model.arrays[level], model.levels[level].factor
        if sel is None and opts["channels"]:
            sel = default_selection(arr.shape, opts["channel_axis"])
            self._channel_axis = 0        # the channel axis is the only leading axis left
        elif sel is None:
            # a pyramid's channels, or a colour picture's; another array's channel axis shows its middle
            composite = (model.c_dim >= 0 and len(model.channels) > 1 and not model.is_labels
                         and (model.kind == "group" or model.is_rgb))
            keep = {model.y_dim, model.x_dim} | ({model.c_dim} if composite else set())
            index = [(n - 1) // 2 if d == model.c_dim else i for d, (i, n) in enumerate(
                zip(model.default_index, model.levels[0].shape))]
            sel = tuple(slice(None) if d in keep else min(n - 1, int(i // (factors[d] or 1)))
                        for d, (i, n) in enumerate(zip(index, arr.shape)))
            if composite:
                opts.update(channels=[{"index": c.index, "color": c.color, "window": c.window or "auto",
                                       "visible": c.visible} for c in model.channels])
                self._channel_axis = sorted(keep).index(model.c_dim)
        axes = (model.y_dim, model.x_dim)
        self._target = arr, strided(sel if isinstance(sel, tuple) else (sel,), arr.shape, self.max_size, axes)
        return self._target

    async def _read(self) -> np.ndarray:
        src = self.source
        if isinstance(src, np.ndarray):
            sel = self.selection if self.selection is not None else ...
            self.label = f"ndarray {src.shape} {src.dtype}"
            return np.asarray(src[sel])
        arr, sel = await self.target()
        self.label = f"/{arr.path} [{format_selection(sel)}] of {arr.shape} {arr.dtype}"
        return await arr.get(sel)

    def _load_sync(self) -> bool:
        if self.png is None:
            run_sync(self.load(), "await zarrlite.show(...)")
        return True

    def caption(self) -> str:
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
            return async_hint("await zarrlite.show(...)")
        caption = html.escape(self.caption())
        return (f'<figure class="zarrlite-show" style="margin:0">{img_tag(self.png, self.caption())}'
                f'<figcaption style="font:12px monospace;color:#555">{caption}</figcaption></figure>')

    def __repr__(self):
        return f"<zarrlite.show {self.caption() or self.source!r}>"


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


def pick_level(model, max_size: int) -> int:
    """The coarsest level whose displayed plane is at least `max_size` pixels on its longer side, else 0."""
    for k in range(len(model.levels) - 1, -1, -1):
        shape = model.levels[k].shape
        if max(shape[model.y_dim], shape[model.x_dim]) >= max_size:
            return k
    return 0
