"""Multiscale pyramids from group attributes: OME-NGFF multiscales (0.1-0.5) and the N5 conventions
(`scales` on the group, `downsamplingFactors` / `pixelResolution` on `s0`, `s1`, ...). Pure: no I/O.
Everything is given in C order (N5's x-first lists are reversed, as the arrays' shapes are)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import MetadataError


@dataclass(frozen=True)
class Axis:
    name: str
    type: str | None = None      # "space", "time", "channel" or None
    unit: str | None = None


@dataclass(frozen=True)
class Level:
    path: str
    scale: tuple[float, ...]
    translation: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Channel:
    label: str
    color: str = "FFFFFF"        # RRGGBB
    window: tuple[float, float] | None = None
    active: bool = True


@dataclass(frozen=True)
class Multiscale:
    axes: tuple[Axis, ...]
    levels: tuple[Level, ...]     # finest first
    name: str | None = None
    version: str | None = None
    channels: tuple[Channel, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return asdict(self)


_DEFAULT_AXES = ("t", "c", "z", "y", "x")
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def multiscale_from_attrs(attrs: dict) -> Multiscale | None:
    """The first multiscale image described by a group's attributes, or None if there is none."""
    if not isinstance(attrs, dict):
        return None
    ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else attrs
    if isinstance(ome.get("multiscales"), list) and ome["multiscales"]:
        return _ngff(ome, ome.get("version"))
    if isinstance(attrs.get("scales"), list) or attrs.get("multiScale"):
        return _n5_group(attrs)
    return None


def _ngff(ome: dict, version) -> Multiscale:
    ms = ome["multiscales"][0]
    if not isinstance(ms, dict):
        raise MetadataError("OME multiscales[0] must be an object")
    version = version or ms.get("version")
    datasets = ms.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise MetadataError("OME multiscales[0].datasets must be a non-empty list")
    axes = _ngff_axes(ms.get("axes"), datasets)
    outer = _transforms(ms.get("coordinateTransformations"), len(axes))
    levels = []
    for ds in datasets:
        if not isinstance(ds, dict) or not isinstance(ds.get("path"), str):
            raise MetadataError(f"OME dataset {ds!r} has no path")
        scale, translation = _transforms(ds.get("coordinateTransformations"), len(axes))
        if outer[0] is not None and scale is not None:
            scale = tuple(a * b for a, b in zip(scale, outer[0]))
        levels.append(Level(ds["path"], scale or (1.0,) * len(axes), translation))
    return Multiscale(tuple(axes), tuple(levels), ms.get("name"), str(version) if version else None,
                      _omero_channels(ome.get("omero")))


def _ngff_axes(axes, datasets) -> list[Axis]:
    if axes is None:  # 0.1 / 0.2: always 5-D tczyx
        return [Axis(n, _AXIS_TYPES[n]) for n in _DEFAULT_AXES]
    if not isinstance(axes, list):
        raise MetadataError("OME axes must be a list")
    out = []
    for a in axes:
        if isinstance(a, str):  # 0.3
            out.append(Axis(a, _AXIS_TYPES.get(a)))
        elif isinstance(a, dict) and isinstance(a.get("name"), str):
            out.append(Axis(a["name"], a.get("type") or _AXIS_TYPES.get(a["name"]), a.get("unit")))
        else:
            raise MetadataError(f"OME axis {a!r} has no name")
    return out


def _transforms(transforms, ndim):
    scale = translation = None
    for t in transforms or []:
        if not isinstance(t, dict):
            continue
        kind = t.get("type")
        values = t.get(kind) if isinstance(kind, str) else None
        if isinstance(values, list) and len(values) == ndim and all(isinstance(v, (int, float)) for v in values):
            if t["type"] == "scale":
                scale = tuple(float(v) for v in values)
            elif t["type"] == "translation":
                translation = tuple(float(v) for v in values)
    return scale, translation


def _omero_channels(omero) -> tuple[Channel, ...]:
    if not isinstance(omero, dict) or not isinstance(omero.get("channels"), list):
        return ()
    out = []
    for i, ch in enumerate(omero["channels"]):
        if not isinstance(ch, dict):
            continue
        win = ch.get("window") if isinstance(ch.get("window"), dict) else {}
        window = (win.get("start"), win.get("end"))
        color = ch.get("color") if isinstance(ch.get("color"), str) else "FFFFFF"
        out.append(Channel(str(ch.get("label", f"channel {i}")), color.lstrip("#").upper()[:6],
                           window if all(isinstance(v, (int, float)) for v in window) else None,
                           bool(ch.get("active", True))))
    return tuple(out)


def _n5_group(attrs: dict) -> Multiscale | None:
    """N5 pyramids: `scales` (x-first factors per level) on the group; levels are s0, s1, ..."""
    scales = attrs.get("scales")
    if not isinstance(scales, list) or not scales or not all(isinstance(s, list) for s in scales):
        return None
    ndim = len(scales[0])
    res = attrs.get("pixelResolution")
    unit = None
    base = (1.0,) * ndim
    if isinstance(res, dict) and isinstance(res.get("dimensions"), list) and len(res["dimensions"]) == ndim:
        base, unit = _numbers(res["dimensions"], "N5 pixelResolution.dimensions"), res.get("unit")
    elif isinstance(attrs.get("resolution"), list) and len(attrs["resolution"]) == ndim:
        base = _numbers(attrs["resolution"], "N5 resolution")
    names = attrs.get("axes") if isinstance(attrs.get("axes"), list) and len(attrs["axes"]) == ndim \
        else ["x", "y", "z", "c", "t"][:ndim]
    axes = tuple(Axis(str(n), _AXIS_TYPES.get(str(n)), unit if _AXIS_TYPES.get(str(n)) == "space" else None)
                 for n in reversed(names))
    levels = tuple(Level(f"s{i}", tuple(b * f for b, f in zip(reversed(base),
                                                               reversed(_numbers(factors, "N5 scales")))))
                   for i, factors in enumerate(scales))
    return Multiscale(axes, levels, attrs.get("name"), "n5")


def _numbers(values, what: str) -> tuple[float, ...]:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise MetadataError(f"{what} must be a list of numbers, got {values!r}")
    return tuple(float(v) for v in values)
