"""The viewer's OME samples of label images and plates (written by web/make_sample.py), from images that
ship inside the scikit-image wheel (`skimage/data/coins.png`, `cell.png`: no download):

- `coins.ome.zarr`: OME-NGFF 0.5 (Zarr v3): `skimage.data.coins()` (303 x 384 uint8, axes y, x, two
  levels) with a `labels` group of two label images, computed here with scikit-image: `coins`, the
  coins segmented by a watershed on the Sobel gradient (uint32 ids 1..n, background 0; the first three
  ids have `image-label.colors`, the rest take the palette; every id has `properties`: area and mean
  intensity), and `size`, each coin's size class (1 small, 2 large, colours given).
- `plate.ome.zarr`: an OME-NGFF 0.4 plate (Zarr v2), rows A-B x columns 1-3, two fields per well, each
  field a 128 x 128 crop of `skimage.data.cell()` in three levels.
- `phantom.ome.zarr`: a 3-D volume (OME-NGFF 0.5, Zarr v3, axes z, y, x): the Shepp-Logan phantom of
  `skimage.data.shepp_logan_phantom()` (`phantom.png`) turned about its vertical axis, 64 x 160 x 160
  uint8, voxels 2 x 1 x 1 micrometer, chunks 4 thick in z (the XZ and YZ views read many chunks), two levels.

`write_plate` is also what the tests use to make larger plates (e.g. 96 wells).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def levels_of(data: np.ndarray, n: int) -> list[np.ndarray]:
    """`data` and n-1 levels below it, each taking every other pixel of the last two axes (nearest, as
    label images must be downsampled: ids are never averaged)."""
    out = [data]
    for _ in range(n - 1):
        out.append(np.ascontiguousarray(out[-1][..., ::2, ::2]))
    return out


def _multiscale(axes, n_levels: int, pixel: float, version: str | None, name: str) -> dict:
    ms = {"name": name, "axes": axes, "datasets": [
        {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [
            1.0] * (len(axes) - 2) + [pixel * 2 ** k, pixel * 2 ** k]}]} for k in range(n_levels)]}
    if version:
        ms["version"] = version
    return ms


def write_image(group, data: np.ndarray, *, n_levels: int, chunks, zarr_format: int, name: str,
                extra: dict | None = None, pixel: float = 1.0, channel_names=None) -> None:
    """An OME multiscale image (axes [c,] y, x) into a zarr-python group; 0.5 attributes under "ome"
    for Zarr v3, 0.4 ones at the top for v2. `extra`: more OME keys (omero, image-label)."""
    axes = ([{"name": "c", "type": "channel"}] if data.ndim == 3 else []) + [
        {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}]
    for k, level in enumerate(levels_of(data, n_levels)):
        group.create_array(str(k), data=level, chunks=tuple(min(c, s) for c, s in zip(chunks, level.shape)),
                           **({"dimension_names": [a["name"] for a in axes]} if zarr_format == 3 else {}))
    version = "0.5" if zarr_format == 3 else "0.4"
    ome = {"multiscales": [_multiscale(axes, n_levels, pixel, None if zarr_format == 3 else version, name)],
           **(extra or {})}
    if channel_names:
        ome["omero"] = {"channels": [{"label": c, "color": "FFFFFF", "active": True,
                                      "window": {"min": 0, "max": 255, "start": 0, "end": 255}} for c in channel_names]}
    _set_ome(group, ome, zarr_format)


def _set_ome(group, ome: dict, zarr_format: int) -> None:
    if zarr_format == 3:
        group.attrs["ome"] = {"version": "0.5", **ome}
    else:
        group.attrs.update(ome)


def write_plate(root: Path, fields: dict, rows: list[str], columns: list[str], *, zarr_format: int = 2,
                n_levels: int = 3, chunks=(64, 64), name: str = "plate") -> None:
    """An OME plate at `root`: `fields[(row, column)]` is the list of 2-D (or c, y, x) arrays of that
    well's fields (wells not in `fields` are left out of the plate)."""
    import zarr

    plate = zarr.open_group(str(root), mode="w", zarr_format=zarr_format)
    wells = []
    for (r, c), images in sorted(fields.items()):
        well = plate.require_group(rows[r]).require_group(columns[c])
        for i, data in enumerate(images):
            write_image(well.create_group(str(i)), data, n_levels=n_levels, chunks=chunks,
                        zarr_format=zarr_format, name=f"{rows[r]}{columns[c]} field {i}", channel_names=None)
        _set_ome(well, {"well": {"images": [{"path": str(i), "acquisition": 0} for i in range(len(images))],
                                 **({} if zarr_format == 3 else {"version": "0.4"})}}, zarr_format)
        wells.append({"path": f"{rows[r]}/{columns[c]}", "rowIndex": r, "columnIndex": c})
    block = {"name": name, "rows": [{"name": n} for n in rows], "columns": [{"name": n} for n in columns],
             "wells": wells, "field_count": max(len(v) for v in fields.values()),
             "acquisitions": [{"id": 0, "name": "sample acquisition"}]}
    if zarr_format == 2:
        block["version"] = "0.4"
    _set_ome(plate, {"plate": block}, zarr_format)


def segment_coins(image: np.ndarray) -> np.ndarray:
    """uint32 ids of the coins (0: background): watershed of the Sobel gradient from dark and bright
    markers, holes filled, then labelled (the scikit-image gallery's region-based segmentation)."""
    from scipy import ndimage as ndi
    from skimage.filters import sobel
    from skimage.measure import label
    from skimage.segmentation import watershed

    markers = np.zeros_like(image, np.uint8)
    markers[image < 30] = 1
    markers[image > 150] = 2
    regions = watershed(sobel(image), markers) == 2
    regions = ndi.binary_fill_holes(regions)
    ids = label(regions).astype(np.uint32)
    sizes = np.bincount(ids.ravel())
    small = np.isin(ids, np.flatnonzero(sizes < 60))
    ids[small] = 0
    return label(ids > 0).astype(np.uint32)


def write_coins(out: Path) -> None:
    import zarr
    from skimage.data import coins

    image = coins()
    ids = segment_coins(image)
    root = zarr.open_group(str(out), mode="w", zarr_format=3)
    write_image(root, image, n_levels=2, chunks=(128, 128), zarr_format=3, name="coins", pixel=1.0)
    root.attrs["ome"] = {**root.attrs["ome"], "omero": {"channels": [
        {"label": "coins", "color": "FFFFFF", "active": True, "window": {"min": 0, "max": 255, "start": 0, "end": 255}}]}}
    labels = root.create_group("labels")
    labels.attrs["ome"] = {"version": "0.5", "labels": ["coins", "size"]}
    n = int(ids.max())
    area = np.bincount(ids.ravel(), minlength=n + 1)
    mean = np.bincount(ids.ravel(), weights=image.ravel(), minlength=n + 1) / np.maximum(area, 1)
    listed = [[230, 25, 75, 255], [60, 180, 75, 255], [255, 225, 25, 255]]
    coins_label = {"version": "0.5", "source": {"image": "../../"},
                   "colors": [{"label-value": v + 1, "rgba": rgba} for v, rgba in enumerate(listed)],
                   "properties": [{"label-value": v, "area (px)": int(area[v]), "mean intensity": round(float(mean[v]), 1)}
                                  for v in range(1, n + 1)]}
    write_image(labels.create_group("coins"), ids, n_levels=2, chunks=(128, 128), zarr_format=3, name="coins",
                extra={"image-label": coins_label})
    size = np.where(ids > 0, np.where(area[ids] >= np.median(area[1:]), 2, 1), 0).astype(np.uint8)
    size_label = {"version": "0.5", "source": {"image": "../../"},
                  "colors": [{"label-value": 1, "rgba": [66, 135, 245, 255]}, {"label-value": 2, "rgba": [245, 130, 48, 255]}],
                  "properties": [{"label-value": 1, "class": "small"}, {"label-value": 2, "class": "large"}]}
    write_image(labels.create_group("size"), size, n_levels=2, chunks=(128, 128), zarr_format=3, name="size",
                extra={"image-label": size_label})
    root.attrs["description"] = ("skimage.data.coins() with the coins segmented at build time (watershed on "
                                 "the Sobel gradient); made by web/make_samples_ome.py")


def write_sample_plate(out: Path) -> None:
    from skimage.data import cell

    image = cell()
    fields = {}
    for r in range(2):
        for c in range(3):
            crops = []
            for f in range(2):
                k = (r * 3 + c) * 2 + f
                y, x = (k // 4) * 170, (k % 4) * 130
                crops.append(np.ascontiguousarray(image[y:y + 128, x:x + 128]))
            fields[(r, c)] = crops
    write_plate(out, fields, ["A", "B"], ["1", "2", "3"], zarr_format=2, n_levels=3, chunks=(64, 64),
                name="cell crops (sample plate)")


def write_volume(out: Path) -> None:
    """The phantom volume: row r of the 2-D phantom is the plane at height r, its columns the distance from
    the vertical axis (linear interpolation), so each plane is a set of rings."""
    import zarr
    from scipy.ndimage import map_coordinates
    from skimage.data import shepp_logan_phantom

    phantom = shepp_logan_phantom()                       # (400, 400) float in [0, 1]
    Z, N, Z_UM = 64, 160, 2.0
    z = (np.arange(Z) + 0.5) * Z_UM / (Z * Z_UM) * phantom.shape[0]
    yx = np.arange(N) + 0.5 - N / 2
    r = np.hypot(*np.meshgrid(yx, yx, indexing="ij")) / (N / 2) * (phantom.shape[1] / 2) + phantom.shape[1] / 2
    rows = np.broadcast_to(z[:, None, None], (Z, N, N))
    cols = np.broadcast_to(r[None], (Z, N, N))
    volume = map_coordinates(phantom, [rows - 0.5, cols - 0.5], order=1, mode="constant")
    volume = np.clip(np.round(volume * 255), 0, 255).astype(np.uint8)
    root = zarr.open_group(str(out), mode="w", zarr_format=3)
    levels = [volume, np.ascontiguousarray(volume[:, ::2, ::2])]
    for k, level in enumerate(levels):
        root.create_array(str(k), data=level, chunks=(4, 64, 64), dimension_names=["z", "y", "x"])
    axes = [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    root.attrs["ome"] = {"version": "0.5", "multiscales": [{"name": "phantom", "axes": axes, "datasets": [
        {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [Z_UM, 2.0 ** k, 2.0 ** k]}]}
        for k in range(len(levels))]}], "omero": {"channels": [
            {"label": "phantom", "color": "FFFFFF", "active": True, "window": {"min": 0, "max": 255, "start": 0, "end": 100}}]}}
    root.attrs["description"] = ("skimage.data.shepp_logan_phantom() turned about its vertical axis into a volume "
                                 "at build time; made by web/make_samples_ome.py")


SAMPLES = [
    {"name": "Coins with segmentation labels (OME-Zarr 0.5, labels)", "source": "coins.ome.zarr"},
    {"name": "Plate, 2 x 3 wells, 2 fields (OME-Zarr 0.4 HCS)", "source": "plate.ome.zarr"},
    {"name": "Phantom volume, 64 x 160 x 160 (OME-Zarr 0.5, 3-D views)", "source": "phantom.ome.zarr"},
]


def write_all(out: Path) -> list[dict]:
    """Write the samples under `out`; their entries for samples.json."""
    write_coins(out / "coins.ome.zarr")
    write_sample_plate(out / "plate.ome.zarr")
    write_volume(out / "phantom.ome.zarr")
    return SAMPLES
