"""The image model (zarrlite.image_model): OME-Zarr 0.4 and 0.5 written by zarr-python 3, N5 pyramids
written by tensorstore in both N5 layouts, plain arrays with dimension names, RGB pictures. Every expected
value is written out from the metadata the test wrote, not computed by the model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorstore as ts
import zarr

import zarrlite
from zarrlite import image_model
from zarrlite.model import node_summary
from zarrlite.runtime import run_sync

OMERO = {"channels": [
    {"label": "nuclei", "color": "0000FF", "window": {"start": 10, "end": 900, "min": 0, "max": 4095}},
    {"label": "membrane", "color": "00FF00", "active": False, "window": {"start": 0, "end": 255}}],
    "rdefs": {"defaultZ": 3, "defaultT": 1}}


def _multiscales(version):
    return [{"version": version, "name": "cells",
             "axes": [{"name": "t", "type": "time", "unit": "second"}, {"name": "c", "type": "channel"},
                      {"name": "z", "type": "space", "unit": "micrometer"},
                      {"name": "y", "type": "space", "unit": "micrometer"},
                      {"name": "x", "type": "space", "unit": "micrometer"}],
             "datasets": [{"path": str(i), "coordinateTransformations": [
                 {"type": "scale", "scale": [1.0, 1.0, 2.0, 0.5 * 2**i, 0.5 * 2**i]},
                 {"type": "translation", "translation": [0.0, 0.0, 0.0, 0.25 * i, 0.25 * i]}]} for i in range(2)]}]


def _label_multiscales(version):
    return [{"version": version, "axes": [{"name": "z", "type": "space"}, {"name": "y", "type": "space"},
                                          {"name": "x", "type": "space"}],
             "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]}]}]}]


@pytest.fixture(params=["0.4", "0.5"])
def ome(request, tmp_path):
    """An OME-Zarr image (t, c, z, y, x) = (2, 2, 5, 64, 48) with two levels, omero channels, and a
    label image `labels/cells`; 0.4 as Zarr v2 attributes, 0.5 under "ome" in Zarr v3."""
    version = request.param
    fmt = 2 if version == "0.4" else 3
    root = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w", zarr_format=fmt)

    def put(group, attrs):
        group.attrs.put(attrs if version == "0.4" else {"ome": {"version": "0.5", **attrs}})

    put(root, {"multiscales": _multiscales(version), "omero": OMERO})
    root.create_array("0", shape=(2, 2, 5, 64, 48), chunks=(1, 1, 1, 32, 32), dtype="u2", fill_value=7)
    root.create_array("1", shape=(2, 2, 5, 32, 24), chunks=(1, 1, 1, 32, 32), dtype="u2", fill_value=7)
    labels = root.create_group("labels")
    put(labels, {"labels": ["cells"]})
    cells = labels.create_group("cells")
    put(cells, {"multiscales": _label_multiscales(version), "image-label": {"colors": []}})
    cells.create_array("0", shape=(5, 64, 48), chunks=(1, 32, 32), dtype="u4")
    return tmp_path / "img.ome.zarr", version


def test_ome_image(ome):
    path, version = ome
    img = image_model(zarrlite.open(str(path)))
    assert (img.kind, img.path, img.name) == ("group", "", "/")
    assert img.description == f"OME-NGFF {version} multiscale — cells"
    assert [lv.path for lv in img.levels] == ["0", "1"]
    assert [lv.shape for lv in img.levels] == [(2, 2, 5, 64, 48), (2, 2, 5, 32, 24)]
    assert img.levels[1].chunks == (1, 1, 1, 32, 32) and img.levels[1].shards is None
    assert img.levels[0].dtype == "<u2" and img.levels[0].fill_value == 7
    assert img.levels[1].scale == (1.0, 1.0, 2.0, 1.0, 1.0)
    assert img.levels[1].translation == (0.0, 0.0, 0.0, 0.25, 0.25)
    assert img.levels[1].factor == (1.0, 1.0, 1.0, 2.0, 2.0)
    assert [(a.name, a.type, a.unit, a.scale) for a in img.axes] == [
        ("t", "time", "second", 1.0), ("c", "channel", None, 1.0), ("z", "space", "micrometer", 2.0),
        ("y", "space", "micrometer", 0.5), ("x", "space", "micrometer", 0.5)]
    assert (img.y_dim, img.x_dim, img.c_dim) == (3, 4, 1)
    assert [(c.index, c.label, c.color, c.window, c.visible) for c in img.channels] == [
        (0, "nuclei", "#0000ff", (10, 900), True), (1, "membrane", "#00ff00", (0, 255), False)]
    assert img.default_index == (1, 0, 3, 31, 23)        # defaultT 1, channel 0, defaultZ 3, middles
    assert img.labels == ("labels/cells",) and not img.is_labels and img.coordinates is None


def test_ome_label_image_and_a_level_keeps_its_pyramid(ome):
    path, _ = ome
    lab = image_model(zarrlite.open(str(path), "labels/cells"))
    assert lab.is_labels and lab.channels[0].color == "labels" and lab.levels[0].dtype == "<u4"
    level = image_model(zarrlite.open(str(path), "1"))   # an array of the pyramid: its axes and channels
    assert [a.name for a in level.axes] == ["t", "c", "z", "y", "x"]
    assert [a.scale for a in level.axes] == [1.0, 1.0, 2.0, 1.0, 1.0]
    assert [c.label for c in level.channels] == ["nuclei", "membrane"] and level.c_dim == 1
    assert level.levels[0].factor == (1.0,) * 5 and level.labels == ("labels/cells",)


def test_ome_summary(ome):
    path, version = ome
    root = zarrlite.open(str(path))
    s = run_sync(node_summary(root), "")
    assert s == {"multiscale": True, "plate": False, "levels": 2, "badge": f"OME {version} · 2 levels",
                 "convention": "ome"}
    assert run_sync(node_summary(root["labels"]), "")["multiscale"] is False


def test_json_for_the_viewer_is_exact(ome):
    path, _ = ome
    d = image_model(zarrlite.open(str(path))).as_dict()
    assert set(d) >= {"levels", "axes", "yDim", "xDim", "cDim", "channels", "defaultIndex", "isLabels",
                      "labels", "coordinates", "ndim", "dtype"}
    assert d["levels"][0]["fillValue"] == 7 and d["channels"][1]["sourceColor"] == "#00ff00"


# -- N5 --------------------------------------------------------------------------------------------
def _n5_pyramid(root, factors, level_attrs):
    """Levels s0.. of a (z, y, x) = (8, 16, 32) uint8 volume written by tensorstore (x-first metadata);
    `level_attrs(i)` adds attributes to each level's attributes.json."""
    data = np.arange(8 * 16 * 32, dtype="u1").reshape(8, 16, 32)
    for i, f in enumerate(factors):
        level = data[::f[2], ::f[1], ::f[0]]
        arr = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(root / f"s{i}")},
                       "metadata": {"dimensions": list(reversed(level.shape)), "blockSize": [8, 8, 4],
                                    "dataType": "uint8", "compression": {"type": "raw"}}, "create": True}).result()
        arr[...] = level.transpose().copy()
        attrs_path = root / f"s{i}" / "attributes.json"
        attrs_path.write_text(json.dumps({**json.loads(attrs_path.read_text()), **level_attrs(i)}))
    return data


FACTORS = [[1, 1, 1], [2, 2, 1], [4, 4, 2]]


def test_n5_factors_on_the_group(tmp_path):
    root = tmp_path / "g.n5"
    _n5_pyramid(root, FACTORS, lambda i: {})
    (root / "attributes.json").write_text(json.dumps(
        {"n5": "2.5.1", "scales": FACTORS, "pixelResolution": {"dimensions": [0.1, 0.1, 0.4], "unit": "um"}}))
    img = image_model(zarrlite.open(str(root)))
    assert [lv.path for lv in img.levels] == ["s0", "s1", "s2"]
    assert [lv.factor for lv in img.levels] == [(1, 1, 1), (1, 2, 2), (2, 4, 4)]
    assert [(a.name, a.unit) for a in img.axes] == [("z", "um"), ("y", "um"), ("x", "um")]
    assert img.levels[2].scale == pytest.approx((0.8, 0.4, 0.4)) and img.description == "N5 multiscale"


@pytest.mark.parametrize("s0_factors", [True, False])
def test_n5_factors_on_each_dataset(tmp_path, s0_factors):
    """n5-viewer / N5 Spark: `downsamplingFactors` and `pixelResolution` on s0, s1, ...; the group
    holds nothing but the N5 version (s0 may leave its factors out: they are 1)."""
    root = tmp_path / "d.n5"
    data = _n5_pyramid(root, FACTORS, lambda i: {
        **({"downsamplingFactors": FACTORS[i]} if i or s0_factors else {}),
        "pixelResolution": {"dimensions": [0.1, 0.1, 0.4], "unit": "um"}})
    (root / "attributes.json").write_text(json.dumps({"n5": "2.5.1"}))
    group = zarrlite.open(str(root))
    img = image_model(group)
    assert [lv.path for lv in img.levels] == ["s0", "s1", "s2"]
    assert [lv.shape for lv in img.levels] == [(8, 16, 32), (8, 8, 16), (4, 4, 8)]
    assert [lv.factor for lv in img.levels] == [(1, 1, 1), (1, 2, 2), (2, 4, 4)]
    assert [(a.name, a.type, a.unit) for a in img.axes] == [("z", "space", "um"), ("y", "space", "um"),
                                                           ("x", "space", "um")]
    assert [a.scale for a in img.axes] == pytest.approx([0.4, 0.1, 0.1])
    assert img.levels[2].scale == pytest.approx((0.8, 0.4, 0.4))
    assert img.default_index == (3, 7, 15)
    np.testing.assert_array_equal(img.arrays[2][...], data[::2, ::4, ::4])
    assert run_sync(node_summary(group), "")["badge"] == "N5 pyramid · 3 levels"
    level = image_model(group["s1"])   # a level keeps the pyramid's axes and its own scale
    assert [a.unit for a in level.axes] == ["um"] * 3
    assert [a.scale for a in level.axes] == pytest.approx([0.4, 0.2, 0.2])


# -- plain arrays ----------------------------------------------------------------------------------
def test_v3_dimension_names(tmp_path):
    zarr.create_array(str(tmp_path / "a.zarr"), shape=(3, 4, 20, 30), chunks=(1, 1, 10, 10), dtype="f4",
                      fill_value=math.nan, dimension_names=["time", "band", "lat", "lon"])
    img = image_model(zarrlite.open(str(tmp_path / "a.zarr")))
    assert [(a.name, a.type, a.unit, a.scale) for a in img.axes] == [
        ("time", "time", None, 1.0), ("band", "channel", None, 1.0), ("lat", None, None, 1.0),
        ("lon", None, None, 1.0)]
    assert (img.y_dim, img.x_dim, img.c_dim) == (2, 3, 1)
    assert [(c.label, c.color, c.visible) for c in img.channels] == [
        ("channel 0", "#00ff00", True), ("channel 1", "#ff00ff", True), ("channel 2", "#00ffff", True),
        ("channel 3", "#ff0000", True)]
    assert img.default_index == (0, 0, 9, 14) and math.isnan(img.levels[0].fill_value)
    assert img.description is None and img.labels == ()


def test_v2_array_dimensions_attribute(tmp_path):
    a = zarr.create_array(str(tmp_path / "t.zarr"), shape=(12, 40, 60), chunks=(1, 20, 30), dtype="<i2",
                          zarr_format=2)
    a.attrs["_ARRAY_DIMENSIONS"] = ["month", "latitude", "longitude"]
    img = image_model(zarrlite.open(str(tmp_path / "t.zarr")))
    assert [a.name for a in img.axes] == ["month", "latitude", "longitude"]
    assert (img.y_dim, img.x_dim, img.c_dim) == (1, 2, -1)
    assert [(c.label, c.color) for c in img.channels] == [("values", "gray")]
    assert img.default_index == (5, 19, 29)


def test_default_names_and_labels_by_path(tmp_path):
    g = zarr.open_group(str(tmp_path / "s.zarr"), mode="w", zarr_format=3)
    g.create_array("raw", shape=(6, 3, 10, 40, 50), chunks=(1, 1, 1, 40, 50), dtype="u1")
    g.create_array("segmentation", shape=(10, 40, 50), chunks=(1, 40, 50), dtype="u8")
    raw = image_model(zarrlite.open(str(tmp_path / "s.zarr"), "raw"))
    assert [(a.name, a.type) for a in raw.axes] == [("t", "time"), ("c", "channel"), ("z", "space"),
                                                    ("y", None), ("x", None)]
    assert raw.default_index == (0, 0, 4, 19, 24) and len(raw.channels) == 3 and not raw.is_labels
    seg = image_model(zarrlite.open(str(tmp_path / "s.zarr"), "segmentation"))
    assert seg.is_labels and [(c.label, c.color) for c in seg.channels] == [("segmentation", "labels")]
    assert not raw.is_rgb and not seg.is_rgb


@pytest.mark.parametrize("shape, dtype, names", [
    ((30, 40, 3), "u1", ["y", "x", "c"]),
    ((40, 30, 40, 4), "u2", ["z", "y", "x", "c"]),   # (a first dimension of <= 32 would be channels)
])
def test_rgb_pictures(tmp_path, shape, dtype, names):
    zarr.create_array(str(tmp_path / "p.zarr"), shape=shape, chunks=shape, dtype=dtype)
    img = image_model(zarrlite.open(str(tmp_path / "p.zarr")))
    assert [a.name for a in img.axes] == names and img.axes[-1].type == "channel" and img.is_rgb
    assert (img.y_dim, img.x_dim, img.c_dim) == (len(shape) - 3, len(shape) - 2, len(shape) - 1)
    want = [("red", "#ff0000", True), ("green", "#00ff00", True), ("blue", "#0000ff", True),
            ("alpha", "#ffffff", False)][:shape[-1]]
    assert [(c.label, c.color, c.visible) for c in img.channels] == want
    assert all(c.window == ((0, 255) if dtype == "u1" else None) for c in img.channels)


def test_not_an_image(tmp_path):
    g = zarr.open_group(str(tmp_path / "n.zarr"), mode="w", zarr_format=3)
    g.create_array("line", shape=(10,), chunks=(5,), dtype="f4")
    with pytest.raises(zarrlite.ZarrliteError, match="without multiscale metadata"):
        image_model(zarrlite.open(str(tmp_path / "n.zarr")))
    with pytest.raises(zarrlite.ZarrliteError, match="a plane needs 2"):
        image_model(zarrlite.open(str(tmp_path / "n.zarr"), "line"))
