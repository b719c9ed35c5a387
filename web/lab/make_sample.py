"""Write the JupyterLite example's data: an OME-NGFF 0.5 (Zarr v3) image, 3 channels x 256 x 256 uint16
with a 2x downsampled level, gzip-compressed chunks (the standard library decodes them in Pyodide).
Written by hand with numpy, json and gzip only, byte for byte the same on every run.

    python web/lab/make_sample.py OUT_DIR        # writes OUT_DIR/sample.zarr

`levels()` is the ground truth the browser test compares the notebook's numbers with.
"""

from __future__ import annotations

import gzip
import json
import os
import sys

import numpy as np

SHAPE = (3, 256, 256)
CHUNKS = (1, 128, 128)


def levels() -> list[np.ndarray]:
    """Level 0 (3, 256, 256) and level 1 (3, 128, 128, every other pixel): rings, stripes, a ramp."""
    y, x = np.mgrid[:SHAPE[1], :SHAPE[2]].astype(np.int64)
    rings = (((x - 128) ** 2 + (y - 100) ** 2) // 24) % 256 * 12
    stripes = ((x + 2 * y) // 16 % 2) * 1500 + (x * 7) % 600
    ramp = x * 10 + y * 5
    base = np.stack([rings, stripes, ramp]).astype(np.uint16) + np.array([100, 200, 300], np.uint16)[:, None, None]
    return [base, base[:, ::2, ::2].copy()]


def _write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def _write_array(root, data: np.ndarray, chunks):
    _write_json(os.path.join(root, "zarr.json"), {
        "zarr_format": 3, "node_type": "array", "shape": list(data.shape), "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "dimension_names": ["c", "y", "x"], "attributes": {},
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "gzip", "configuration": {"level": 6}}]})
    grid = [range(0, n, c) for n, c in zip(data.shape, chunks)]
    for c0 in grid[0]:
        for y0 in grid[1]:
            for x0 in grid[2]:
                block = np.zeros(chunks, "<u2")   # edge chunks are written whole, padded with the fill
                part = data[c0:c0 + chunks[0], y0:y0 + chunks[1], x0:x0 + chunks[2]]
                block[tuple(slice(0, n) for n in part.shape)] = part
                key = os.path.join(root, "c", str(c0 // chunks[0]), str(y0 // chunks[1]), str(x0 // chunks[2]))
                os.makedirs(os.path.dirname(key), exist_ok=True)
                with open(key, "wb") as f:
                    f.write(gzip.compress(block.tobytes(), 6, mtime=0))


def write(out_dir: str) -> str:
    root = os.path.join(out_dir, "sample.zarr")
    channels = [("rings", "FF00FF", 100, 3160), ("stripes", "00FF00", 200, 2300), ("ramp", "FFFFFF", 300, 4100)]
    _write_json(os.path.join(root, "zarr.json"), {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5",
        "multiscales": [{
            "name": "zarrlite sample",
            "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"},
                     {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": [{"path": str(i), "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 0.5 * 2**i, 0.5 * 2**i]}]} for i in range(2)]}],
        "omero": {"channels": [{"label": name, "color": color, "active": True,
                                "window": {"start": lo, "end": hi, "min": 0, "max": 65535}}
                               for name, color, lo, hi in channels]}}}})
    for i, data in enumerate(levels()):
        _write_array(os.path.join(root, str(i)), data, CHUNKS)
    return root


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else "."))
