"""Multiscale pyramids from attributes: OME-NGFF multiscales (0.1-0.5), OME labels and plates, and the
N5 conventions (n5-viewer / BigDataViewer / neuroglancer): `scales` or `downsamplingFactors` (one list per
level) on the group, or `downsamplingFactors` / `pixelResolution` on each `s0`, `s1`, ... dataset.
Pure: attributes in, descriptions out, no I/O. Everything is given in C order (N5's x-first lists are
reversed, as the arrays' shapes are)."""

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
    default_z: int | None = None   # OME omero.rdefs: the plane to show first
    default_t: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


_DEFAULT_AXES = ("t", "c", "z", "y", "x")
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def _ome(attrs) -> dict:
    """The OME block: under "ome" (0.5) or the attributes themselves (0.1-0.4)."""
    if not isinstance(attrs, dict):
        return {}
    return attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs


def multiscale_from_attrs(attrs: dict) -> Multiscale | None:
    """The first multiscale image described by a group's attributes, or None if there is none.
    (N5 pyramids described only on their `sN` datasets need those: see `n5_datasets_multiscale`.)"""
    if not isinstance(attrs, dict):
        return None
    ome = _ome(attrs)
    if isinstance(ome.get("multiscales"), list) and ome["multiscales"]:
        return _ngff(ome, ome.get("version"))
    if _n5_factor_lists(attrs) is not None:
        return _n5_group(attrs)
    return None


def member_names(attrs) -> list[str]:
    """Member names a group's own metadata names (for stores that cannot list): the top folders of the
    OME multiscales datasets, "labels" when the image has labels, and N5 scale levels s0, s1, ..."""
    names = []
    ome = _ome(attrs)
    for ms in ome.get("multiscales", []) if isinstance(ome.get("multiscales"), list) else []:
        for ds in ms.get("datasets", []) if isinstance(ms, dict) else []:
            if isinstance(ds, dict) and isinstance(ds.get("path"), str):
                names.append(ds["path"].split("/")[0])
    factors = _n5_factor_lists(attrs) if isinstance(attrs, dict) else None
    names.extend(f"s{i}" for i in range(len(factors or ())))
    if isinstance(ome.get("labels"), list):
        names.append("labels")
    return list(dict.fromkeys(names))


def ome_block(attrs) -> dict:
    """The OME metadata of a node: under "ome" (0.5) or the attributes themselves (0.1-0.4); {} if none."""
    return _ome(attrs)


def label_paths(attrs) -> list[str]:
    """The label images an OME `labels` group lists (paths relative to it)."""
    labels = _ome(attrs).get("labels")
    return [p for p in labels if isinstance(p, str)] if isinstance(labels, list) else []


def is_label_image(attrs) -> bool:
    """Whether the attributes mark an OME label image (`image-label`)."""
    return isinstance(_ome(attrs).get("image-label"), dict)


def is_plate(attrs) -> bool:
    """Whether the attributes describe an OME high-content-screening plate."""
    return isinstance(_ome(attrs).get("plate"), dict)


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
    omero = ome.get("omero") if isinstance(ome.get("omero"), dict) else {}
    rdefs = omero.get("rdefs") if isinstance(omero.get("rdefs"), dict) else {}
    return Multiscale(tuple(axes), tuple(levels), ms.get("name"), str(version) if version else None,
                      _omero_channels(omero), _index(rdefs.get("defaultZ")), _index(rdefs.get("defaultT")))


def _index(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


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


def _n5_factor_lists(attrs: dict):
    """A group's per-level factor lists: `scales` (n5-viewer) or `downsamplingFactors` (BigDataViewer),
    each a list of per-dimension lists; None when absent."""
    for key in ("scales", "downsamplingFactors"):
        value = attrs.get(key)
        if isinstance(value, list) and value and all(isinstance(f, list) for f in value):
            return value
    return None


def _n5_resolution(attrs: dict, ndim: int):
    """(base pixel size per dimension x-first, unit) from `pixelResolution` ({dimensions, unit} or a
    list) or `resolution`; (None, None) when absent or of another length."""
    res = attrs.get("pixelResolution")
    if isinstance(res, dict) and isinstance(res.get("dimensions"), list) and len(res["dimensions"]) == ndim:
        unit = res.get("unit") if isinstance(res.get("unit"), str) else None
        return _numbers(res["dimensions"], "N5 pixelResolution.dimensions"), unit
    for key in ("pixelResolution", "resolution"):
        if isinstance(attrs.get(key), list) and len(attrs[key]) == ndim:
            return _numbers(attrs[key], f"N5 {key}"), None
    return None, None


def _n5_group(attrs: dict) -> Multiscale | None:
    """N5 pyramids with the factors on the group; levels are s0, s1, ..."""
    factors = _n5_factor_lists(attrs)
    if factors is None:
        return None
    return _n5_pyramid(attrs, [(f"s{i}", f) for i, f in enumerate(factors)], attrs)


def n5_datasets_multiscale(attrs: dict, datasets: dict) -> Multiscale | None:
    """The N5 pyramid whose levels `s0`, `s1`, ... each carry their own `downsamplingFactors` (and
    `pixelResolution`, the size of an s0 pixel), as n5-viewer and N5 Spark write it. `datasets` maps
    member names to their attributes; the levels run from s0 while the names follow on. None when no
    level carries factors (or the group describes its factors itself)."""
    if not isinstance(attrs, dict) or _n5_factor_lists(attrs) is not None or "s0" not in datasets:
        return None
    names = []
    while f"s{len(names)}" in datasets:
        names.append(f"s{len(names)}")
    found = [datasets[n].get("downsamplingFactors") for n in names]
    if not any(isinstance(f, list) for f in found):
        return None
    ndim = len(next(f for f in found if isinstance(f, list)))
    levels = [(n, f if isinstance(f, list) else [1] * ndim) for n, f in zip(names, found)]
    if any(len(f) != ndim for _, f in levels):
        raise MetadataError(f"N5 downsamplingFactors of {names} differ in length: {[f for _, f in levels]}")
    resolution_from = attrs if _n5_resolution(attrs, ndim)[0] is not None else datasets["s0"]
    return _n5_pyramid({**datasets["s0"], **attrs}, levels, resolution_from)


def _n5_pyramid(attrs: dict, levels: list, resolution_attrs: dict) -> Multiscale:
    ndim = len(levels[0][1])
    base, unit = _n5_resolution(resolution_attrs, ndim)
    base = base or (1.0,) * ndim
    names = attrs.get("axes") if isinstance(attrs.get("axes"), list) and len(attrs["axes"]) == ndim \
        else ["x", "y", "z", "c", "t"][:ndim]
    axes = tuple(Axis(str(n), _AXIS_TYPES.get(str(n)), unit if _AXIS_TYPES.get(str(n)) == "space" else None)
                 for n in reversed(names))
    out = []
    for path, factors in levels:
        if len(factors) != ndim:
            raise MetadataError(f"N5 factors {factors!r} of '{path}' do not have {ndim} entries")
        scale = tuple(b * f for b, f in zip(reversed(base), reversed(_numbers(factors, "N5 factors"))))
        out.append(Level(path, scale))
    return Multiscale(axes, tuple(out), attrs.get("name") if isinstance(attrs.get("name"), str) else None, "n5")


def _numbers(values, what: str) -> tuple[float, ...]:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise MetadataError(f"{what} must be a list of numbers, got {values!r}")
    return tuple(float(v) for v in values)
