"""Window/level, colormaps and channel composites: numeric planes in, RGBA uint8 out. Pure numpy, the
same in CPython and in the browser worker (which hands the result to a canvas without a copy).

    rgba = render_plane(plane, window="auto", colormap="viridis")
    rgba = composite(planes, [{"color": "#ff0000", "window": "auto"}, {"color": "#00ff00"}])
"""

from __future__ import annotations

import base64
from functools import lru_cache

import numpy as np

from .errors import ZarrliteError

AUTO_PERCENTILES = (0.1, 99.9)
COLORMAPS = ("gray", "viridis", "magma", "inferno")

# 256 RGB entries each, from matplotlib's perceptually uniform maps (CC0, van der Walt & Smith).
_LUT_DATA = {
    "viridis": (
        "RAFURAJWRQRXRQVZRgdaRghcRgpdRgteRw1gRw5hRxBjRxFkRxNlSBRnSBZoSBdpSBhqSBpsSBttSBxuSB1vSB9wSCBxSCFz"
        "SCN0SCR1SCV2SCZ3SCh4SCl5Ryp6Ryx6Ry17Ry58Ry99RjB+RjJ+RjN/RjSARTWBRTeBRTiCRDmDRDqDRDuEQz2EQz6FQj+F"
        "QkCGQkGGQUKHQUSHQEWIQEaIP0eIP0iJPkmJPkqJPkyKPU2KPU6KPE+KPFCLO1GLO1KLOlOLOlSMOVWMOVaMOFiMOFmMN1qM"
        "N1uNNlyNNl2NNV6NNV+NNGCNNGGNM2KNM2ONMmSOMmWOMWaOMWeOMWiOMGmOMGqOL2uOL2yOLm2OLm6OLm+OLXCOLXGOLHGO"
        "LHKOLHOOK3SOK3WOKnaOKneOKniOKXmOKXqOKXuOKHyOKH2OJ36OJ3+OJ4COJoGOJoKOJoKOJYOOJYSOJYWOJIaOJIeOI4iO"
        "I4mOI4qNIouNIoyNIo2NIY6NIY+NIZCNIZGMIJKMIJKMIJOMH5SMH5WLH5aLH5eLH5iLH5mKH5qKHpuKHpyJHp2JH56JH5+I"
        "H6CIH6GIH6GHH6KHIKOGIKSGIaWFIaaFIqeFIqiEI6mDJKqDJauCJayCJq2BJ62BKK6AKa9/KrB/LLF+LbJ9LrN8L7R8MbV7"
        "MrZ6NLZ5Nbd5N7h4OLl3Orp2O7t1Pbx0P7xzQL1yQr5xRL9wRsBvSMFuSsFtTMJsTsNrUMRqUsVpVMVoVsZnWMdlWshkXMhj"
        "XsliYMpgY8tfZcteZ8xcac1bbM1abs5YcM9Xc9BWddBUd9FTetFRfNJQf9NOgdNNhNRLhtVJidVIi9ZGjtZFkNdDk9dBldhA"
        "mNg+m9k8ndk7oNo5oto3pds2qNs0qtwyrdwwsN0vst0ttd4ruN4put4ovd8mwN8lwt8jxeAhyOAgyuEfzeEd0OEc0uIb1eIa"
        "2OIZ2uMZ3eMY3+MY4uQY5eQZ5+QZ6uUa7OUb7+Uc8eUd9OYe9uYg+OYh++cj/ecl"
    ),
    "magma": (
        "AAAEAQAFAQEGAQEIAgEJAgILAgINAwMPAwMSBAQUBQQWBgUYBgUaBwYcCAceCQcgCggiCwkkDAkmDQopDgsrEAstEQwvEg0x"
        "Ew00FA42FQ44Fg87GA89GRA/GhBCHBBEHRFHHhFJIBFLIRFOIhFQJBJTJRJVJxJYKRFaKhFcLBFfLRFhLxFjMRFlMxBnNBBp"
        "NhBrOBBsOQ9uOw9wPQ9xPw9yQA90Qg91RA92RRB3RxB4SRB4ShB5TBF6ThF7TxJ7URJ8UhN8VBN9VhR9VxV+WRV+WhZ+XBZ/"
        "XRd/Xxh/YBiAYhmAZBqAZRqAZxuAaByBahyBax2BbR2Bbh6BcB+Bch+BcyCBdSGBdiGBeCKBeSKCeyOCfCOCfiSCgCWCgSWB"
        "gyaBhCaBhieBiCeBiSiBiymBjCmBjiqBkCqBkSuBkyuAlCyAliyAmC2AmS2Amy5/nC5/ni9/oC9/oTB+ozB+pTF+pjF9qDJ9"
        "qjN9qzN8rTR8rjR7sDV7sjV7szZ6tTZ6tzd5uDd5ujh4vDl4vTl3vzp3wDp2wjt1xDx1xTx0xz1zyD5zyj5yzD9xzUBxz0Bw"
        "0EFv0kJv00Nu1URt1kVs2EVs2UZr20dq3Ehp3klo30po4Exn4k1m405l5E9k5VBk51Jj6FNi6VRi6lZh61dg7Fhg7Vpf7lte"
        "711e8F9e8WBd8mJd8mRc82Vc9Gdc9Glc9Wtc9mxc9m5c93Bc93Jc+HRc+HZc+Xhd+Xld+Xtd+n1e+n9e+oFf+4Nf+4Vg+4dh"
        "/Ilh/Ipi/Ixj/I5k/JBl/ZJm/ZRn/ZZo/Zhp/Zpq/Ztr/p1s/p9t/qFu/qNv/qVx/qdy/qlz/qp0/qx2/q53/rB4/rJ6/rR7"
        "/rZ8/rd+/rl//ruB/r2C/r+E/sGF/sKH/sSI/saK/siM/sqN/syP/s2Q/s+S/tGU/tOV/tWX/teZ/tia/dqc/dye/d6g/eCh"
        "/eKj/eOl/eWn/eep/emq/eus/Oyu/O6w/PCy/PK0/PS2/Pa4/Pe5/Pm7/Pu9/P2/"
    ),
    "inferno": (
        "AAAEAQAFAQEGAQEIAgEKAgIMAgIOAwIQBAMSBAMUBQQXBgQZBwUbCAUdCQYfCgciCwckDAgmDQgpDgkrEAktEQowEgoyFAs0"
        "FQs3Fgs5GAw8GQw+GwxBHAxDHgxFHwxIIQxKIwxMJAxPJgxRKAtTKQtVKwtXLQtZLwpbMQpcMgpeNApfNglhOAliOQljOwlk"
        "PQllPglmQApnQgpoRApoRQppRwtqSQtqSgxrTAxrTQ1sTw1sUQ5sUg5tVA9tVQ9tVxBuWRBuWhFuXBJuXRJuXxNuYRNuYhRu"
        "ZBVuZRVuZxZuaRZuahdubBhubRhubxlucRluchpudBpudRtudxxteBxteh1tfB1tfR5tfx5sgB9sgiBshCBrhSFrhyFriCJq"
        "iiJqjCNpjSNpjyRpkCVokiVokyZnlSZnlydmmCdmmihlmylknSlknypjoCpjoitioyxhpSxgpi1gqC5fqS5eqy9erTBdrjBc"
        "sDFbsTJaszJatDNZtjRYtzVXuTVWujZVvDdUvThTvzlSwDpRwTpQwztPxDxOxj1Nxz5MyD9LykBKy0FJzEJIzkNHz0RG0EVF"
        "0kZE00dD1EhC1UpB10s/2Ew+2U092k4821A73VE63lI431M34FU24VY14lc041kz5Fox5Vww5l0v514u6GAt6WEr6mMq62Qp"
        "62Yo7Gcm7Wkl7mok72wj724h8G8g8XEf8XMd8nQc83Yb83gZ9HkY9XsX9X0V9n4U9oAT94IS94QQ+IUP+IcO+IkM+YsL+YwK"
        "+Y4J+pAI+pIH+pQH+5YG+5cG+5kG+5sG+50H/J8H/KEI/KMJ/KUK/KYM/KgN/KoP/KwR/K4S/LAU/LIW/LQY+7Ya+7gd+7of"
        "+7wh+74j+sAm+sIo+sQq+sYt+ccv+cky+cs1+M03+M8699E999NA9tVD9tdG9dlJ9dtM9N1P9N9T9OFW8+Na8+Vd8uZh8uhl"
        "8upp8ext8e1x8e918fF58vJ98vSC8/WG8/aK9PiO9fmS9vqW+Pua+fyd+v2h/P+k"
    ),
}


@lru_cache(maxsize=None)
def lut(colormap: str) -> np.ndarray:
    """The (256, 3) uint8 lookup table of a colormap name, or of a colour ("#rrggbb", "red", [r, g, b])
    ramping from black."""
    if colormap in ("gray", "grey"):
        return np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    if colormap in _LUT_DATA:
        return np.frombuffer(base64.b64decode("".join(_LUT_DATA[colormap])), np.uint8).reshape(256, 3)
    rgb = parse_color(colormap)
    ramp = np.arange(256, dtype=np.float64)[:, None] / 255.0
    return np.round(ramp * np.array(rgb, dtype=np.float64)[None, :]).astype(np.uint8)


def colormap_tables() -> dict[str, np.ndarray]:
    """The (256, 3) uint8 tables of the named colormaps other than gray (a ramp)."""
    return {name: lut(name) for name in _LUT_DATA}


_NAMED = {"red": "#ff0000", "green": "#00ff00", "blue": "#0000ff", "cyan": "#00ffff",
          "magenta": "#ff00ff", "yellow": "#ffff00", "white": "#ffffff"}


def parse_color(color) -> tuple[int, int, int]:
    """"#rrggbb", "rrggbb" (OME omero style), a few names, or an (r, g, b) sequence -> (r, g, b)."""
    if isinstance(color, (list, tuple)) and len(color) == 3:
        return tuple(int(c) for c in color)
    if isinstance(color, str):
        text = _NAMED.get(color.lower(), color).lstrip("#")
        if len(text) == 6:
            try:
                return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
            except ValueError:
                pass
    raise ZarrliteError(f"unknown colormap or colour {color!r}: use one of {', '.join(COLORMAPS)}, "
                        "'#rrggbb' or [r, g, b]")


def _finite(values: np.ndarray) -> np.ndarray:
    values = values.ravel()
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    return values


def auto_window(plane: np.ndarray, percentiles=AUTO_PERCENTILES, max_samples: int = 1 << 20):
    """(lo, hi) at the given percentiles of the finite values (a strided sample of big planes)."""
    values = _finite(np.asarray(plane))
    if values.size > max_samples:
        values = values[:: values.size // max_samples + 1]
    if values.size == 0:
        return 0.0, 1.0
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    if values.dtype.kind in "iu" and values.dtype.itemsize <= 2:
        lo, hi = percentiles_by_count(values, percentiles)
    else:
        lo, hi = np.percentile(values, percentiles)
    return float(lo), float(hi)


def percentiles_by_count(values: np.ndarray, percentiles) -> np.ndarray:
    """np.percentile (linear interpolation) of 8/16-bit integers from a count of each value: O(n) with
    no sort or partition (~4x faster than np.percentile on a million uint16 values)."""
    q = np.asarray(percentiles, dtype=np.float64) / 100
    if values.size == 0 or np.any((q < 0) | (q > 1)):
        raise ValueError("percentiles must be in [0, 100], of at least one value")
    values = values.astype(values.dtype.newbyteorder("="), copy=False)
    unsigned = np.dtype(f"u{values.dtype.itemsize}")
    flip = 1 << (8 * values.dtype.itemsize - 1) if values.dtype.kind == "i" else 0
    keys = values.view(unsigned) ^ unsigned.type(flip)  # signed order becomes unsigned order
    cumulative = np.cumsum(np.bincount(keys, minlength=1 << (8 * values.dtype.itemsize)))
    position = (values.size - 1) * q
    below = np.floor(position)
    above = np.minimum(below + 1, values.size - 1)
    # the value at sorted index i is the first key whose cumulative count exceeds i
    at = (np.searchsorted(cumulative, np.stack([below, above]).astype(np.int64), side="right") ^ flip)
    lo, hi = at.astype(unsigned).view(values.dtype).astype(np.float64)
    t = position - below
    # numpy's own linear interpolation (from the nearer end), so the results are equal bit for bit
    return np.where(t >= 0.5, hi - (hi - lo) * (1 - t), lo + (hi - lo) * t)


def resolve_window(plane, window):
    if window is None or window == "auto":
        return auto_window(plane)
    if window == "full":
        values = _finite(np.asarray(plane))
        return (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    lo, hi = window
    return float(lo), float(hi)


def normalize(plane: np.ndarray, window="auto", invert: bool = False) -> np.ndarray:
    """Indices 0..255 (uint8) of `plane` under the window: lo -> 0, hi -> 255, clipped; NaN -> 0."""
    plane = np.asarray(plane)
    if plane.ndim != 2:
        raise ZarrliteError(f"render: a 2-D plane is needed, the selection has shape {plane.shape}")
    if plane.dtype.kind == "c":
        plane = np.abs(plane)
    lo, hi = resolve_window(plane, window)
    scale = 255.0 / (hi - lo) if hi != lo else 0.0
    x = plane.astype(np.float32) if plane.dtype.itemsize <= 2 or plane.dtype.kind == "b" \
        else plane.astype(np.float64)
    x = (x - lo) * scale
    if hi == lo:
        x = np.where(plane > lo, 255.0, 0.0)
    np.clip(x, 0, 255, out=x)
    x = np.nan_to_num(x, nan=0.0)
    idx = (x + 0.5).astype(np.uint8)
    if invert:
        np.subtract(255, idx, out=idx)
    return idx


def render_plane(plane: np.ndarray, window="auto", colormap="gray", invert: bool = False) -> np.ndarray:
    """A 2-D plane -> (H, W, 4) RGBA uint8, alpha 255."""
    plane = np.asarray(plane)
    if plane.ndim == 2 and plane.dtype.kind in "iu" and plane.dtype.itemsize <= 2 and plane.dtype.isnative \
            and plane.size > (1 << (8 * plane.dtype.itemsize)):
        return _render_by_table(plane, window, colormap, invert)
    idx = normalize(plane, window, invert)
    out = np.empty(idx.shape + (4,), np.uint8)
    out[..., :3] = lut(_key(colormap))[idx]
    out[..., 3] = 255
    return out


def _render_by_table(plane: np.ndarray, window, colormap, invert: bool) -> np.ndarray:
    """render_plane for 8/16-bit integers: every possible value goes through `normalize` once (the same
    arithmetic, so the same pixels), then one gather of 32-bit RGBA per pixel. ~5x faster on a
    2048x2048 uint16 plane in Pyodide than converting each pixel to float."""
    unsigned = np.dtype(f"u{plane.dtype.itemsize}")
    values = np.arange(1 << (8 * plane.dtype.itemsize), dtype=unsigned).view(plane.dtype)
    idx = normalize(values[None, :], resolve_window(plane, window), invert)[0]
    table = np.empty((values.size, 4), np.uint8)
    table[:, :3] = lut(_key(colormap))[idx]
    table[:, 3] = 255
    rgba = table.view(np.uint32)[:, 0][plane.view(unsigned)]
    return rgba.view(np.uint8).reshape(plane.shape + (4,))


def composite(planes, channels, axis: int = 0) -> np.ndarray:
    """Additive composite of several channels of `planes` (channels along `axis`) -> RGBA uint8.

    `channels`: dicts with `index` (default: position), `color` or `colormap` (default "gray"), `window`
    (default "auto"), `invert` and `visible` (default True)."""
    planes = np.moveaxis(np.asarray(planes), axis, 0)
    if planes.ndim != 3:
        raise ZarrliteError(f"composite: channels x 2-D planes are needed, got shape {planes.shape}")
    acc = np.zeros(planes.shape[1:] + (3,), np.uint16)
    for pos, ch in enumerate(channels):
        if not ch.get("visible", True):
            continue
        i = int(ch.get("index", pos))
        if not -planes.shape[0] <= i < planes.shape[0]:
            raise ZarrliteError(f"composite: channel {i} not in 0..{planes.shape[0] - 1}")
        idx = normalize(planes[i], ch.get("window", "auto"), bool(ch.get("invert", False)))
        acc += lut(_key(ch.get("color") or ch.get("colormap") or "gray"))[idx]
    out = np.empty(acc.shape[:2] + (4,), np.uint8)
    np.minimum(acc, 255, out=acc)
    out[..., :3] = acc
    out[..., 3] = 255
    return out


def render(data: np.ndarray, window="auto", colormap="gray", invert: bool = False, channels=None,
           channel_axis: int = 0) -> np.ndarray:
    """One entry point: a 2-D plane with a colormap, or channels composited when `channels` is given."""
    if channels:
        return composite(data, channels, channel_axis)
    return render_plane(data, window, colormap, invert)


def _key(colormap):
    # lru_cache needs hashables: colours given as lists become tuples
    return tuple(colormap) if isinstance(colormap, list) else colormap
