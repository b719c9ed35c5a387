"""zarrlite.projection and zarrlite.volume in CPython: maximum and mean projections along each axis of
a volume written by zarr-python equal numpy's over the same region of the level used; the level is the
finest whose work fits the budget; progress counts chunk slabs; the cost of each orthogonal view follows
the chunk grid (counted here by hand); which dimension is z."""

from __future__ import annotations

import math

import numpy as np
import pytest
import zarr

import zarrlite
from zarrlite import ZarrliteError, projection, volume
from zarrlite.model import image_model
from zarrlite.runtime import run_sync

SHAPE, CHUNKS = (20, 48, 40), (3, 16, 16)


def run(coro):
    return run_sync(coro, "")


@pytest.fixture(scope="module")
def vol(tmp_path_factory):
    """An OME 0.5 (c, z, y, x) pyramid of two levels, z voxels 2.5 times the lateral pixels."""
    root = tmp_path_factory.mktemp("vol") / "vol.ome.zarr"
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4000, (2,) + SHAPE, dtype=np.uint16)
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    levels = [data, np.ascontiguousarray(data[:, :, ::2, ::2])]
    for k, level in enumerate(levels):
        g.create_array(str(k), data=level, chunks=(1,) + CHUNKS)
    axes = [{"name": "c", "type": "channel"}] + [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    g.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": [
        {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [1, 2.5, 1.0 * 2 ** k, 1.0 * 2 ** k]}]}
        for k in range(2)]}]}
    return {"root": root, "levels": levels, "model": image_model(zarrlite.open(str(root)))}


@pytest.mark.parametrize("kind", ["max", "mean"])
@pytest.mark.parametrize("axis", [1, 2, 3])
def test_projection_equals_numpy_over_the_region(vol, kind, axis):
    m = vol["model"]
    kept = [d for d in (1, 2, 3) if d != axis]
    region = {kept[0]: (2, 17), kept[1]: (5, 33)}
    seen = []
    out = run(projection.project(m, axis, [1, 0, 0, 0], region, kind, report=lambda d, t: seen.append((d, t))))
    assert out.level == 0
    a = vol["levels"][0][1]                               # channel 1
    sl = [slice(None)] * 3
    for d, (lo, hi) in region.items():
        sl[d - 1] = slice(lo, hi)
    part = a[tuple(sl)]
    want = part.max(axis=axis - 1) if kind == "max" else part.mean(axis=axis - 1, dtype=np.float64)
    assert out.data.shape == want.shape
    if kind == "max":
        assert out.data.dtype == np.uint16
        np.testing.assert_array_equal(out.data, want)
    else:
        np.testing.assert_allclose(out.data, want, rtol=1e-12)
    slabs = math.ceil(SHAPE[axis - 1] / CHUNKS[axis - 1])
    assert seen == [(k, slabs) for k in range(1, slabs + 1)] and out.slabs == slabs


def test_a_small_budget_projects_at_a_coarser_level(vol):
    m = vol["model"]
    region = {2: (0, 48), 3: (0, 40)}
    fits0 = projection.work_bytes(m, 0, 1, region)
    out = run(projection.project(m, 1, [0, 0, 0, 0], region, "max", budget=fits0 - 1))
    assert out.level == 1 and out.region == {2: [0, 24], 3: [0, 20]}
    np.testing.assert_array_equal(out.data, vol["levels"][1][0].max(axis=0))
    # the work of level 0 by hand: one slab (3 planes) of uint16, the uint16 maximum, the float64 sum
    assert fits0 == 48 * 40 * (3 * 2 + 2 + 8)


def test_projection_refuses_bad_axes_and_kinds(vol):
    with pytest.raises(ZarrliteError, match="kind"):
        run(projection.project(vol["model"], 1, [0] * 4, {2: (0, 4), 3: (0, 4)}, "median"))
    with pytest.raises(ZarrliteError, match="different"):
        run(projection.project(vol["model"], 2, [0] * 4, {2: (0, 4), 3: (0, 4)}))


def test_volume_plan_counts_chunks_per_view(vol):
    plan = volume.volume_plan(vol["model"])
    assert plan["z"] == 1
    assert plan["views"]["xy"]["dims"] == [2, 3] and plan["views"]["xz"]["dims"] == [1, 3]
    assert plan["views"]["yz"]["dims"] == [1, 2]
    chunk_bytes = 3 * 16 * 16 * 2                         # (1, 3, 16, 16) uint16
    xz = plan["views"]["xz"]["levels"][0]
    assert xz["chunks"] == 7 * 3 and xz["decodedBytes"] == 21 * chunk_bytes and xz["planeBytes"] == 20 * 40 * 2
    xy1 = plan["views"]["xy"]["levels"][1]
    assert xy1["chunks"] == 2 * 2 and xy1["planeBytes"] == 24 * 20 * 2
    assert plan["aspect"] == {"xy": 1.0, "xz": 2.5, "yz": 2.5}
    assert any(n.startswith("XZ") and "3 thick along z" in n for n in plan["notes"])


def test_which_dimension_is_z(tmp_path):
    flat = zarr.create_array(str(tmp_path / "flat.zarr"), shape=(30, 40), chunks=(10, 10), dtype="u1")
    assert volume.volume_plan(image_model(zarrlite.open(str(tmp_path / "flat.zarr")))) is None
    del flat
    zarr.create_array(str(tmp_path / "tzyx.zarr"), shape=(3, 5, 30, 40), chunks=(1, 1, 10, 10), dtype="u1",
                      dimension_names=["t", "z", "y", "x"])
    assert volume.z_dim(image_model(zarrlite.open(str(tmp_path / "tzyx.zarr")))) == 1
    zarr.create_array(str(tmp_path / "thin.zarr"), shape=(1, 30, 40), chunks=(1, 10, 10), dtype="u1",
                      dimension_names=["z", "y", "x"])
    assert volume.z_dim(image_model(zarrlite.open(str(tmp_path / "thin.zarr")))) == -1   # one plane: no volume
