"""Multiscale metadata: OME-NGFF 0.1-0.5 documents as the spec writes them, and N5 pyramids written by
tensorstore with the N5 multiscale attributes; everything reported in C order."""

import json

import numpy as np
import pytest
import tensorstore as ts
import zarr

import zarrlite
from zarrlite.ome import multiscale_from_attrs


def _ngff_04():
    return {"multiscales": [{
        "version": "0.4", "name": "cells",
        "axes": [{"name": "c", "type": "channel"}, {"name": "z", "type": "space", "unit": "micrometer"},
                 {"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": str(i), "coordinateTransformations": [
            {"type": "scale", "scale": [1, 0.5, 0.25 * 2**i, 0.25 * 2**i]}]} for i in range(3)],
        "coordinateTransformations": [{"type": "scale", "scale": [1, 2, 1, 1]}],
    }], "omero": {"channels": [
        {"label": "nuclei", "color": "0000FF", "window": {"start": 10, "end": 900, "min": 0, "max": 4095}},
        {"label": "membrane", "color": "00FF00", "active": False, "window": {"start": 0, "end": 255}}]}}


def test_ngff_04_levels_axes_channels():
    ms = multiscale_from_attrs(_ngff_04())
    assert [a.name for a in ms.axes] == ["c", "z", "y", "x"]
    assert ms.axes[1].unit == "micrometer" and ms.axes[0].type == "channel"
    assert [lv.path for lv in ms.levels] == ["0", "1", "2"]
    assert ms.levels[2].scale == (1.0, 1.0, 1.0, 1.0)  # dataset scale times the multiscale's own scale
    assert [(c.label, c.color, c.window, c.active) for c in ms.channels] == [
        ("nuclei", "0000FF", (10, 900), True), ("membrane", "00FF00", (0, 255), False)]


def test_ngff_05_under_ome_key_and_03_string_axes():
    v05 = {"ome": {"version": "0.5", **_ngff_04()}}
    assert multiscale_from_attrs(v05).version == "0.5"
    v03 = {"multiscales": [{"version": "0.3", "axes": ["z", "y", "x"], "datasets": [{"path": "0"}]}]}
    ms = multiscale_from_attrs(v03)
    assert [a.type for a in ms.axes] == ["space"] * 3 and ms.levels[0].scale == (1.0, 1.0, 1.0)
    v01 = {"multiscales": [{"version": "0.1", "datasets": [{"path": "0"}, {"path": "1"}]}]}
    assert [a.name for a in multiscale_from_attrs(v01).axes] == ["t", "c", "z", "y", "x"]


def test_not_multiscale_and_malformed():
    assert multiscale_from_attrs({"foo": 1}) is None
    with pytest.raises(zarrlite.MetadataError):
        multiscale_from_attrs({"multiscales": [{"datasets": []}]})
    with pytest.raises(zarrlite.MetadataError):
        multiscale_from_attrs({"multiscales": [{"axes": [{"type": "space"}], "datasets": [{"path": "0"}]}]})


def test_ome_zarr_group_written_by_zarr_python(tmp_path):
    root = zarr.open_group(tmp_path / "img.ome.zarr", mode="w", zarr_format=3)
    root.attrs.put({"ome": {"version": "0.5", **_ngff_04()}})
    for i in range(3):
        a = root.create_array(str(i), shape=(2, 4, 64 >> i, 64 >> i), chunks=(1, 1, 32, 32), dtype="u2")
        a[:] = np.full(a.shape, i, dtype="u2")
    group = zarrlite.open(str(tmp_path / "img.ome.zarr"))
    ms = group.multiscale
    levels = [group[lv.path] for lv in ms.levels]
    assert [lv.shape for lv in levels] == [(2, 4, 64, 64), (2, 4, 32, 32), (2, 4, 16, 16)]
    assert int(levels[2][0, 0, 0, 0]) == 2


def test_n5_pyramid_written_by_tensorstore(tmp_path):
    data = np.arange(8 * 16 * 32, dtype="u1").reshape(8, 16, 32)  # z, y, x in C order
    factors = [[1, 1, 1], [2, 2, 1], [4, 4, 2]]                  # x-first, as N5 writes them
    for i, f in enumerate(factors):
        level = data[::f[2], ::f[1], ::f[0]]
        arr = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "p.n5" / f"s{i}")},
                       "metadata": {"dimensions": list(reversed(level.shape)), "blockSize": [8, 8, 4],
                                    "dataType": "uint8", "compression": {"type": "raw"}},
                       "create": True}).result()
        arr[...] = level.transpose().copy()
        attrs_path = tmp_path / "p.n5" / f"s{i}" / "attributes.json"
        attrs = json.loads(attrs_path.read_text())
        attrs_path.write_text(json.dumps({**attrs, "downsamplingFactors": f}))
    (tmp_path / "p.n5" / "attributes.json").write_text(json.dumps(
        {"n5": "2.5.1", "scales": factors, "pixelResolution": {"dimensions": [0.1, 0.1, 0.4], "unit": "um"}}))
    group = zarrlite.open(str(tmp_path / "p.n5"))
    ms = group.multiscale
    assert [a.name for a in ms.axes] == ["z", "y", "x"] and ms.axes[2].unit == "um"
    assert ms.levels[2].scale == pytest.approx((0.8, 0.4, 0.4))
    assert sorted(group) == ["s0", "s1", "s2"]
    np.testing.assert_array_equal(group["s2"][...], data[::2, ::4, ::4])


def test_n5_factors_on_the_datasets_pure():
    from zarrlite.ome import n5_datasets_multiscale

    datasets = {"s0": {"pixelResolution": [4.0, 4.0, 40.0]},
                "s1": {"downsamplingFactors": [2, 2, 1]}, "s2": {"downsamplingFactors": [4, 4, 2]},
                "s4": {"downsamplingFactors": [16, 16, 8]}}         # s3 missing: the levels stop at s2
    ms = n5_datasets_multiscale({"n5": "2.5.1", "axes": ["x", "y", "z"]}, datasets)
    assert [lv.path for lv in ms.levels] == ["s0", "s1", "s2"] and ms.version == "n5"
    assert [a.name for a in ms.axes] == ["z", "y", "x"]
    assert [lv.scale for lv in ms.levels] == [(40.0, 4.0, 4.0), (40.0, 8.0, 8.0), (80.0, 16.0, 16.0)]
    assert n5_datasets_multiscale({}, {"s0": {}, "s1": {}}) is None          # no factors anywhere
    assert n5_datasets_multiscale({"scales": [[1, 1]]}, datasets) is None    # the group's own factors win
    with pytest.raises(zarrlite.MetadataError):
        n5_datasets_multiscale({}, {"s0": {}, "s1": {"downsamplingFactors": [2, 2]},
                                    "s2": {"downsamplingFactors": [4, 4, 1]}})


def test_group_factor_lists_members_labels_plates_rdefs():
    from zarrlite.ome import is_label_image, is_plate, label_paths, member_names

    bdv = {"downsamplingFactors": [[1, 1, 1], [2, 2, 2]], "dataType": "uint8"}   # BigDataViewer's setup group
    assert [lv.path for lv in multiscale_from_attrs(bdv).levels] == ["s0", "s1"]
    assert member_names(bdv) == ["s0", "s1"]
    assert member_names(_ngff_04()) == ["0", "1", "2"]
    assert member_names({"ome": {"version": "0.5", "labels": ["cells"]}}) == ["labels"]
    assert label_paths({"ome": {"labels": ["cells", 3, "nuclei"]}}) == ["cells", "nuclei"]
    assert label_paths({"labels": ["a"]}) == ["a"] and label_paths({}) == []
    assert is_label_image({"image-label": {"version": "0.4"}}) and is_label_image({"ome": {"image-label": {}}})
    assert not is_label_image({"multiscales": []})
    assert is_plate({"ome": {"plate": {"rows": []}}}) and not is_plate({"plate": "A"})
    rdefs = {**_ngff_04(), "omero": {**_ngff_04()["omero"], "rdefs": {"defaultZ": 2, "defaultT": True}}}
    ms = multiscale_from_attrs(rdefs)
    assert (ms.default_z, ms.default_t) == (2, None)
