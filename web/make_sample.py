"""Generate the viewer's bundled sample data (the "embedded default" of `zarrlite view`).

    python web/make_sample.py [OUTDIR]        # default: web/dist/sample

Writes, from images that ship inside the scikit-image wheel (no download):

- `cells.ome.zarr`: OME-NGFF 0.5 (Zarr v3, sharded, zstd), axes c, z, y, x. The immunohistochemistry
  slide of `skimage.data.immunohistochemistry()` unmixed into its two stains (Hematoxylin: nuclei; DAB:
  the antibody) by colour deconvolution, as optical density x 10^4 in uint16, and a 9-plane focus series
  made by blurring away from the focal plane (z = 4). Three pyramid levels (512², 256², 128²) with
  `omero` channel colours and windows.
- `retina.n5`: an N5 pyramid (s0..s3, gzip, 256² blocks, `scales` / `downsamplingFactors`) of the green
  channel of `skimage.data.retina()` (1411², uint8): the channel used for vessel analysis.
- `samples.json`: the list the viewer offers as examples.

Idempotent: skipped when OUTDIR/.stamp matches this script's hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
Z_PLANES, FOCUS = 9, 4
PIXEL_UM, Z_UM = 0.5, 2.0


def stains() -> np.ndarray:
    """(2, 512, 512) uint16: Hematoxylin and DAB optical density x 10^4."""
    from skimage.color import rgb2hed
    from skimage.data import immunohistochemistry

    hed = rgb2hed(immunohistochemistry())            # (y, x, 3): H, E, DAB optical densities
    od = np.stack([hed[..., 0], hed[..., 2]])
    od -= od.min(axis=(1, 2), keepdims=True)
    return np.clip(np.round(od * 1e4), 0, 65535).astype(np.uint16)


def focus_series(planes: np.ndarray) -> np.ndarray:
    """(c, y, x) -> (c, z, y, x): in focus at FOCUS, a Gaussian blur growing by 0.9 px per plane away."""
    from scipy.ndimage import gaussian_filter

    out = np.empty((planes.shape[0], Z_PLANES) + planes.shape[1:], np.uint16)
    for c, plane in enumerate(planes.astype(np.float32)):
        for z in range(Z_PLANES):
            sigma = 0.9 * abs(z - FOCUS)
            img = gaussian_filter(plane, sigma) if sigma else plane
            out[c, z] = np.clip(np.round(img * (1 - 0.03 * abs(z - FOCUS))), 0, 65535)
    return out


def downsample2(a: np.ndarray) -> np.ndarray:
    """Mean of 2x2 blocks over the last two axes (odd edges: the last row/column is dropped)."""
    h, w = a.shape[-2] // 2 * 2, a.shape[-1] // 2 * 2
    b = a[..., :h, :w].astype(np.float32)
    b = (b[..., 0::2, 0::2] + b[..., 1::2, 0::2] + b[..., 0::2, 1::2] + b[..., 1::2, 1::2]) / 4
    return np.round(b).astype(a.dtype)


def write_cells(out: Path) -> None:
    import zarr
    from zarr.codecs import ZstdCodec

    data = focus_series(stains())
    root = zarr.open_group(str(out), mode="w", zarr_format=3)
    datasets, level = [], data
    for k in range(3):
        f = 2 ** k
        root.create_array(str(k), data=level, chunks=(1, 1, 128, 128),
                          shards=(1, 1, min(256, level.shape[2]), min(256, level.shape[3])),
                          compressors=ZstdCodec(level=5), dimension_names=["c", "z", "y", "x"])
        datasets.append({"path": str(k), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, Z_UM, PIXEL_UM * f, PIXEL_UM * f]}]})
        level = downsample2(level)
    hi = [int(np.percentile(data[c, FOCUS], 99.8)) for c in range(data.shape[0])]
    root.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [{
            "name": "immunohistochemistry (focus series)",
            "axes": [{"name": "c", "type": "channel"},
                     {"name": "z", "type": "space", "unit": "micrometer"},
                     {"name": "y", "type": "space", "unit": "micrometer"},
                     {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": datasets,
            "type": "mean",
        }],
        "omero": {
            "name": "immunohistochemistry",
            "channels": [
                {"label": "Hematoxylin", "color": "2F9BFF", "active": True,
                 "window": {"min": 0, "max": 65535, "start": 0, "end": hi[0]}},
                {"label": "DAB", "color": "FFA31A", "active": True,
                 "window": {"min": 0, "max": 65535, "start": 0, "end": hi[1]}},
            ],
            "rdefs": {"defaultZ": FOCUS, "model": "color"},
        },
    }
    root.attrs["description"] = ("skimage.data.immunohistochemistry() unmixed by colour deconvolution "
                                 "(rgb2hed) into Hematoxylin and DAB optical density x 1e4, with a "
                                 f"synthetic focus series (in focus at z={FOCUS}); made by web/make_sample.py")


def write_retina(out: Path) -> None:
    import tensorstore as ts
    from skimage.data import retina

    level = np.ascontiguousarray(retina()[..., 1])   # (y, x) uint8
    out.mkdir(parents=True, exist_ok=True)
    scales = []
    for k in range(4):
        f = 2 ** k
        scales.append([f, f])
        arr = ts.open({
            "driver": "n5", "kvstore": {"driver": "file", "path": str(out / f"s{k}")},
            "metadata": {"dimensions": [level.shape[1], level.shape[0]], "blockSize": [256, 256],
                         "dataType": "uint8", "compression": {"type": "gzip", "level": 6}},
            "create": True, "delete_existing": True,
        }).result()
        arr.write(level.T).result()                   # N5 is x-first: C-order readers see (y, x)
        attrs_path = out / f"s{k}" / "attributes.json"
        attrs = json.loads(attrs_path.read_text())
        attrs["downsamplingFactors"] = [f, f]
        attrs_path.write_text(json.dumps(attrs))
        level = downsample2(level)
    (out / "attributes.json").write_text(json.dumps({
        "n5": "2.5.1", "multiScale": True, "scales": scales, "axes": ["x", "y"],
        "description": "green channel of skimage.data.retina() (fundus photograph); made by web/make_sample.py",
    }, indent=1))


SAMPLES = [
    {"name": "Immunohistochemistry, 2 stains x 9 z (OME-Zarr 0.5, sharded)", "source": "cells.ome.zarr"},
    {"name": "Retina fundus, green channel (N5 pyramid)", "source": "retina.n5"},
]


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE.parent / "dist" / "sample"
    digest = hashlib.sha256(HERE.read_bytes() + (HERE.parent / "make_samples_ome.py").read_bytes()
                            + (HERE.parent / "make_samples_climate.py").read_bytes()).hexdigest()
    stamp = out / ".stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return 0
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_cells(out / "cells.ome.zarr")
    write_retina(out / "retina.n5")
    from make_samples_ome import write_all as write_ome_samples   # labels and a plate (beside this script)

    from make_samples_climate import write_climate   # an xarray dataset with CF coordinates and packing

    (out / "samples.json").write_text(json.dumps(SAMPLES + write_ome_samples(out) + write_climate(out), indent=1))
    stamp.write_text(digest)
    print(f"[sample] written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
