"""An interactive view of an array in a notebook (ipywidgets): a slider per axis not displayed, a contrast
window, a colormap, and channel toggles for a composite. What to show comes from the image model
(zarrlite.model: axes, level, channels, first plane), the pixels from zarrlite.render: the rules of
`show()` and the viewer, not a copy of them.

    zarrlite.explore(arr)                   # CPython Jupyter
    await zarrlite.explore(arr)             # JupyterLite: reads are async there; the controls appear once
                                            # the model is read, each change re-renders in the background
"""

from __future__ import annotations

import asyncio
import html

import numpy as np

from .errors import ZarrliteError
from .inline import SHOW_SIZE, format_selection, pick_level, strided
from .model import image_model_async
from .png import png_bytes
from .render import COLORMAPS, render, resolve_window
from .runtime import IN_PYODIDE, run_sync

MIN_WIDTH = 256                             # pixels on screen of the narrowest image shown
WINDOW_MODES = ("auto", "full", "manual")   # auto: 0.1-99.9 percentiles of each plane; full: its min..max


def _widgets():
    try:
        import ipywidgets
    except ImportError as e:
        raise ZarrliteError("zarrlite.explore needs ipywidgets: `pip install ipywidgets` (in JupyterLite: "
                            "`%pip install ipywidgets`)") from e
    return ipywidgets


def _value_range(dtype: np.dtype, plane: np.ndarray) -> tuple[float, float]:
    """The range the contrast slider spans: every value of 8/16-bit integers, else the plane's min..max."""
    if dtype.kind in "iu" and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    if dtype.kind == "b":
        return 0.0, 1.0
    lo, hi = resolve_window(plane, "full")
    return lo, hi if hi > lo else lo + 1.0


class Explorer:
    """The widgets of one view, and what they show: `index` (the plane, in level-0 pixels), `selection`
    and `rgba` (what was read and rendered last), `used_windows` (the window of each channel used).
    Awaitable: `await explorer` returns once the controls are built and the last change is rendered."""

    def __init__(self, source, *, window="auto", colormap="gray", invert=False, max_size: int | None = SHOW_SIZE):
        w = _widgets()
        self.source = source
        self.max_size = max_size
        self.model = None
        self.index: list[int] = []
        self.rgba: np.ndarray | None = None
        self.windows: list[tuple[float, float] | None] = []
        self.used_windows: dict[int, tuple[float, float]] = {}
        self._ranged = False
        self.selection = None
        self.error: str | None = None
        self._initial = dict(window=window, colormap=colormap, invert=invert)
        self._quiet = False              # set while the code (not a person) moves a control
        self._dirty = False
        self._task = None
        self._setup_error: Exception | None = None
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.caption = w.HTML('<span style="font:12px monospace;color:#777">reading the image model…</span>')
        self.widget = w.VBox([self.caption])
        self._start(self._setup())

    # -- running: synchronously in CPython, as tasks on Pyodide's event loop ---------------------------
    def _start(self, coro):
        if IN_PYODIDE:   # a widget callback cannot wait for a read there: run it on the event loop
            self._task = asyncio.ensure_future(coro)
        else:
            run_sync(coro, "await zarrlite.explore(...)")

    def __await__(self):
        return self._settled().__await__()

    async def _settled(self):
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])
        if self._setup_error is not None:   # e.g. not an image: `await explore(...)` raises it
            raise self._setup_error
        return self

    async def _setup(self):
        try:
            await self._build()
        except Exception as e:  # noqa: BLE001 - shown in the view too: a task's error would be lost
            self._fail(e)
            self._setup_error = e
            if not IN_PYODIDE:   # run_sync hands it to the caller; in Pyodide `await explore(...)` does
                raise
            return
        self._dirty = True
        await self._drain()

    def _fail(self, e: Exception):
        self.error = f"{type(e).__name__}: {e}"
        self.caption.value = f'<span style="font:12px monospace;color:#b00">{html.escape(self.error)}</span>'

    def _changed(self, _change=None):
        if self._quiet or self.model is None:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._start(self._drain())

    async def _drain(self):
        # one render at a time; changes made meanwhile coalesce into the next one
        while self._dirty:
            self._dirty = False
            try:
                await self._render()
            except Exception as e:  # noqa: BLE001 - shown in the view, the controls stay usable
                self._fail(e)

    # -- controls ----------------------------------------------------------------------------------------
    async def _build(self):
        w = _widgets()
        model = self.model = await image_model_async(self.source)
        self.level = pick_level(model, self.max_size or SHOW_SIZE)
        shape0 = model.levels[0].shape
        self.index = list(model.default_index)
        self.sliders = {}
        for d, axis in enumerate(model.axes):
            if d in (model.y_dim, model.x_dim) or shape0[d] < 2:
                continue
            s = w.IntSlider(value=self.index[d], min=0, max=shape0[d] - 1, description=axis.name,
                            continuous_update=True, layout=w.Layout(width="420px"))
            s.observe(self._on_slider(d), "value")
            self.sliders[d] = s
        init = self._initial
        manual = isinstance(init["window"], (tuple, list))
        self.window_mode = w.Dropdown(options=WINDOW_MODES, value="manual" if manual else init["window"],
                                      description="window", layout=w.Layout(width="200px"))
        self.window = w.FloatRangeSlider(description="contrast", readout_format=".6g",
                                         continuous_update=False, layout=w.Layout(width="520px"))
        self.colormap = w.Dropdown(options=COLORMAPS, value=init["colormap"], description="colormap",
                                   layout=w.Layout(width="200px"))
        self.invert = w.Checkbox(value=bool(init["invert"]), description="invert", indent=False)
        multi = model.c_dim >= 0 and len(model.channels) > 1
        self.composite = w.Checkbox(value=multi and not model.is_labels, description="composite",
                                    indent=False, disabled=not multi)
        self.channel_toggles = [w.Checkbox(value=c.visible, description=c.label, indent=False,
                                           layout=w.Layout(width="auto")) for c in model.channels] if multi else []
        self.active_channel = w.Dropdown(options=[(c.label, i) for i, c in enumerate(model.channels)],
                                         description="adjust", layout=w.Layout(width="220px"))
        # the window set per channel (manual mode); None: chosen as the mode says
        self.windows = [tuple(map(float, init["window"])) if manual else None] * max(1, len(model.channels))
        for control in (self.colormap, self.invert, *self.channel_toggles):
            control.observe(self._changed, "value")
        self.composite.observe(self._on_composite, "value")
        self.window_mode.observe(self._on_window_mode, "value")
        self.window.observe(self._on_window, "value")
        self.active_channel.observe(self._show_active_window, "value")
        rows = [w.VBox(list(self.sliders.values())),
                w.HBox([self.window_mode, self.window]),
                w.HBox([self.colormap, self.invert])]
        if multi:
            rows.append(w.HBox([self.composite, self.active_channel, *self.channel_toggles]))
        self.widget.children = rows + [self.image, self.caption]
        if multi:
            self._quiet = True   # the controls' states only: the first render follows
            try:
                self._on_composite()
            finally:
                self._quiet = False

    def _on_slider(self, d: int):
        def changed(change):
            self.index[d] = int(change["new"])
            self._changed()
        return changed

    def _on_window_mode(self, change):
        if change["new"] != "manual":
            self.windows = [None] * len(self.windows)   # chosen from each plane again
        self._changed()

    def _on_window(self, change):
        if self._quiet:
            return
        self.windows[self._adjusted()] = (float(change["new"][0]), float(change["new"][1]))
        self._set_quietly(self.window_mode, "manual")
        self._changed()

    def _on_composite(self, _change=None):
        composite = self._is_composite()
        if self.model.c_dim in self.sliders:   # a composite shows every channel: no channel to pick
            self.sliders[self.model.c_dim].disabled = composite
            self.sliders[self.model.c_dim].layout.display = "none" if composite else ""
        for control in (self.active_channel, *self.channel_toggles):
            control.disabled = not composite
        self._changed()

    def _adjusted(self) -> int:
        """The channel whose window the contrast slider shows and sets: the one chosen to adjust in a
        composite, else the one shown."""
        if self._is_composite():
            return self.active_channel.value
        return self.index[self.model.c_dim] if self.model.c_dim >= 0 else 0

    def _show_active_window(self, _change=None):
        window = self.used_windows.get(self._adjusted())
        if window is not None:
            self._set_quietly(self.window, window)

    def _set_quietly(self, control, value):
        self._quiet = True
        try:
            control.value = value
        finally:
            self._quiet = False

    def _is_composite(self) -> bool:
        return bool(self.composite.value) and not self.composite.disabled

    # -- rendering ---------------------------------------------------------------------------------------
    def target(self):
        """(array, selection) of the current plane: the model's level, the sliders' index (its channels
        kept when composite), strided to at most `max_size` pixels a side."""
        model, composite = self.model, self._is_composite()
        arr, factor = model.arrays[self.level], model.levels[self.level].factor
        keep = {model.y_dim, model.x_dim} | ({model.c_dim} if composite else set())
        sel = tuple(slice(None) if d in keep else min(n - 1, int(i // (factor[d] or 1)))
                    for d, (i, n) in enumerate(zip(self.index, arr.shape)))
        return arr, strided(sel, arr.shape, self.max_size, (model.y_dim, model.x_dim))

    def _window_of(self, channel: int, plane) -> tuple[float, float]:
        """manual: the one set; full: the plane's min..max; auto: the metadata's (omero), else the
        0.1-99.9 percentiles of the plane."""
        mode = self.window_mode.value
        if mode == "manual" and self.windows[channel] is not None:
            return self.windows[channel]
        if mode == "full":
            return resolve_window(plane, "full")
        meta = self.model.channels[channel].window if channel < len(self.model.channels) else None
        return tuple(map(float, meta)) if meta is not None else resolve_window(plane, "auto")

    async def _render(self):
        model, composite = self.model, self._is_composite()
        arr, sel = self.target()
        data = np.asarray(await arr.get(sel))
        kept = sorted({model.y_dim, model.x_dim} | ({model.c_dim} if composite else set()))
        order = ([kept.index(model.c_dim)] if composite else []) + [kept.index(model.y_dim), kept.index(model.x_dim)]
        data = np.transpose(data, order)      # (c,) y, x whatever the array's order of dimensions
        if composite:
            used = {i: self._window_of(i, data[i]) for i in range(len(model.channels))}
            rgba = render(data, channels=[{"index": i, "color": c.color, "window": used[i], "visible": t.value}
                                          for i, (c, t) in enumerate(zip(model.channels, self.channel_toggles))])
        else:
            shown = self._adjusted()
            used = {shown: self._window_of(shown, data)}
            rgba = render(data, window=used[shown], colormap=self.colormap.value, invert=self.invert.value)
        self.used_windows = used
        self.selection, self.rgba = sel, rgba
        self.image.value = png_bytes(rgba)
        self.image.width = str(max(rgba.shape[1], MIN_WIDTH))   # 1:1, small planes enlarged
        self._fit_range(data)
        self._show_active_window()
        self.error = None
        self.caption.value = ('<span style="font:12px monospace;color:#555">'
                              f'{html.escape(self.describe())}</span>')

    def _fit_range(self, data):
        """The contrast slider spans the values (of the dtype, or those seen) and every window used."""
        lo, hi = _value_range(np.dtype(self.model.dtype), data)
        lo = min([lo, *(u[0] for u in self.used_windows.values())] + ([self.window.min] if self._ranged else []))
        hi = max([hi, *(u[1] for u in self.used_windows.values())] + ([self.window.max] if self._ranged else []))
        if (lo, hi) == (self.window.min, self.window.max):
            return
        self._quiet = True
        try:   # a range slider refuses min > max at every step: move the end that keeps them ordered first
            if hi >= self.window.max:
                self.window.max, self.window.min = hi, lo
            else:
                self.window.min, self.window.max = lo, hi
            self.window.step = 1.0 if np.dtype(self.model.dtype).kind in "iub" else (hi - lo) / 1000
        finally:
            self._quiet = False
        self._ranged = True

    def describe(self) -> str:
        arr, sel = self.target()
        used = self.used_windows.get(self._adjusted())
        text = f"/{arr.path} [{format_selection(sel)}] of {arr.shape} {arr.dtype}"
        return text + (f" · window {used[0]:.6g}..{used[1]:.6g}" if used else "")

    # -- display -----------------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self):
        return f"<zarrlite.explore {self.model.path if self.model else self.source!r}>"


def explore(source, *, window="auto", colormap="gray", invert=False, max_size: int | None = SHOW_SIZE) -> Explorer:
    """An interactive view of an Array or a multiscale Group: sliders for the axes not displayed, the
    contrast window (`"auto"`: 0.1-99.9 percentiles of each plane, `"full"`: its min..max, or `(lo, hi)`),
    a colormap, and for channels a composite with a toggle each. The last expression of a cell shows it;
    in JupyterLite `await zarrlite.explore(arr)` (the reads are async there)."""
    return Explorer(source, window=window, colormap=colormap, invert=invert, max_size=max_size)
