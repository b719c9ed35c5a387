"""zarrlite.labels in CPython: the palette rule (checked with Python integers), listed colours and
properties, tiles of ids coloured and outlined (boundaries from scipy over the whole array), uint64 ids,
and how label images line up with the image they lie over. Label arrays are written by zarr-python and
tensorstore."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from scipy import ndimage as ndi

import zarrlite
from zarrlite import ZarrliteError, labels
from zarrlite.runtime import run_sync

M = 2654435761


def run(coro):
    return run_sync(coro, "")


def rule(v: int) -> tuple[int, int, int, int]:
    """The documented palette, in plain integers."""
    if v == 0:
        return (0, 0, 0, 0)
    h = ((v % 2**64) * M) % 2**32
    return tuple(64 + ((h >> (8 * k)) & 255) * 191 // 255 for k in range(3)) + (255,)


def test_palette_follows_the_documented_rule_for_every_width():
    ids = [0, 1, 2, 3, 255, 65536, 2**31 - 1, 2**32 + 1, 2**53 + 1, 2**63 + 12345, 2**64 - 1]
    got = labels.palette_rgba(np.array(ids, dtype=np.uint64))
    assert [tuple(int(c) for c in row) for row in got] == [rule(v) for v in ids]
    neg = labels.palette_rgba(np.array([-1, -7, 5], dtype=np.int32))
    assert [tuple(int(c) for c in row) for row in neg] == [rule(-1), rule(-7), rule(5)]
    assert len({rule(v) for v in range(1, 200)}) == 199          # neighbouring ids look different


def test_palette_refuses_floats():
    with pytest.raises(ZarrliteError, match="integers"):
        labels.palette_rgba(np.array([1.5]))


def image_label_attrs():
    return {"ome": {"version": "0.5", "image-label": {
        "colors": [{"label-value": 2, "rgba": [1, 2, 3, 255]}, {"label-value": 0, "rgba": [9, 9, 9, 40]},
                   {"label-value": 5, "rgba": [300, 0, 0, 1]}, {"rgba": [1, 1, 1, 1]}, "junk",
                   {"label-value": 7.0, "rgba": [7, 7, 7]}],
        "properties": [{"label-value": 2, "area": 10, "class": "cell"}, {"label-value": "x"}]}}}


def test_style_takes_valid_colours_and_properties():
    style = labels.label_style(image_label_attrs())
    assert style.colors == {2: (1, 2, 3, 255), 0: (9, 9, 9, 40), 7: (7, 7, 7, 255)}   # 300 is no byte
    assert style.properties == {2: {"area": 10, "class": "cell"}}
    assert labels.label_style({"multiscales": []}) == labels.LabelStyle({}, {})


def test_listed_colours_win_over_the_palette():
    ids = np.array([[0, 2, 3], [7, 2, 0]], dtype=np.uint16)
    got = labels.colour_ids(ids, labels.label_style(image_label_attrs()))
    listed = {2: (1, 2, 3, 255), 0: (9, 9, 9, 40), 7: (7, 7, 7, 255)}
    want = np.array([[listed.get(int(v), rule(int(v))) for v in row] for row in ids], np.uint8)
    np.testing.assert_array_equal(got, want)


@pytest.fixture
def blobs(tmp_path):
    """(3, 90, 110) uint32 ids written by zarr-python, chunks (1, 32, 32): plane 1 has rectangles and
    a disc, touching each other."""
    ids = np.zeros((3, 90, 110), np.uint32)
    ids[1, 10:40, 10:50] = 4
    ids[1, 40:80, 30:70] = 9
    yy, xx = np.mgrid[:90, :110]
    ids[1][(yy - 45) ** 2 + (xx - 85) ** 2 < 15 ** 2] = 2**31 + 3
    root = tmp_path / "ids.zarr"
    a = zarr.create_array(str(root), shape=ids.shape, dtype="<u4", chunks=(1, 32, 32), fill_value=0)
    a[...] = ids
    return root, ids


def expected_outline(plane):
    """Boundary pixels: a 4-neighbour holds another id (both sides), from scipy's filters."""
    cross = ndi.generate_binary_structure(2, 1)
    return ndi.maximum_filter(plane, footprint=cross, mode="nearest") != ndi.minimum_filter(plane, footprint=cross, mode="nearest")


@pytest.mark.parametrize("outline", [False, True])
def test_tile_colours_every_pixel_and_outlines_across_tile_edges(blobs, outline):
    root, ids = blobs
    arr = run(zarrlite.open_async(str(root)))
    y0, y1, x0, x1 = 32, 64, 32, 96       # edges cut through the shapes
    got = run(labels.label_tile(arr, [1, [y0, y1], [x0, x1]], 1, 2, None, outline))
    plane = ids[1]
    want = np.array([[rule(int(v)) for v in row] for row in plane[y0:y1, x0:x1]], np.uint8)
    if outline:
        want[~expected_outline(plane)[y0:y1, x0:x1]] = 0
        assert 0 < (got[..., 3] > 0).sum() < (plane[y0:y1, x0:x1] > 0).sum()
    np.testing.assert_array_equal(got, want)


def test_tile_of_transposed_display_is_rows_first(blobs):
    root, ids = blobs
    arr = run(zarrlite.open_async(str(root)))
    got = run(labels.label_tile(arr, [1, [5, 60], [20, 45]], 2, 1))   # rows: x, columns: y
    want = np.array([[rule(int(v)) for v in row] for row in ids[1, 5:60, 20:45].T], np.uint8)
    np.testing.assert_array_equal(got, want)


def test_uint64_ids_keep_all_their_bits(tmp_path):
    ids = np.array([[2**63 + 1, 2**63 + 2], [2**64 - 1, 2**53 + 1]], dtype=np.uint64)
    root = tmp_path / "u8.zarr"
    zarr.create_array(str(root), shape=ids.shape, dtype="<u8", chunks=(2, 2))[...] = ids
    arr = run(zarrlite.open_async(str(root)))
    got = run(labels.label_tile(arr, [[0, 2], [0, 2]], 0, 1))
    assert [tuple(int(c) for c in px) for px in got.reshape(-1, 4)] == [rule(int(v)) for v in ids.ravel()]
    style = labels.LabelStyle({}, {2**64 - 1: {"name": "max"}})
    assert run(labels.label_value(arr, [1, 0], style)) == {"id": 2**64 - 1, "properties": {"name": "max"}}
    assert run(labels.label_value(arr, [1, 1], style)) == {"id": 2**53 + 1, "properties": None}


def ome_image(root, shape, *, label_shape=None, label_scale=2.0, label_axes=("y", "x")):
    """An OME-NGFF 0.5 image (axes c, y, x) with a label image `cells` at half resolution."""
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    g.create_array("0", data=np.zeros(shape, np.uint16), chunks=(1, 64, 64))
    axes = [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    g.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 0.5, 0.5]}]}]}]}
    lab = g.create_group("labels")
    lab.attrs["ome"] = {"version": "0.5", "labels": ["cells"]}
    cells = lab.create_group("cells")
    lshape = label_shape or (shape[1] // 2, shape[2] // 2)
    cells.create_array("0", data=np.ones(lshape, np.uint32), chunks=(32, 32))
    cells.create_array("1", data=np.ones(tuple(n // 2 for n in lshape), np.uint32), chunks=(32, 32))
    cells.attrs["ome"] = {"version": "0.5", "image-label": {"colors": [{"label-value": 1, "rgba": [1, 2, 3, 4]}]},
                          "multiscales": [{"axes": [{"name": n, "type": "space"} for n in label_axes], "datasets": [
                              {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [
                                  0.5 * label_scale * 2 ** k] * 2}]} for k in range(2)]}]}
    return g


def test_overlay_lines_labels_up_by_physical_pixel_size(tmp_path):
    ome_image(tmp_path / "img.zarr", (2, 128, 192))
    root = run(zarrlite.open_async(str(tmp_path / "img.zarr")))
    model = zarrlite.image_model(root)
    assert model.labels == ("labels/cells",)
    [ov] = run(labels.overlays_of(model, root.get_child))
    assert ov["dims"] == [1, 2] and ov["kind"] == "image-label" and ov["listedColors"] == 1
    assert [lv["factor"] for lv in ov["levels"]] == [[2.0, 2.0], [4.0, 4.0]]
    assert [lv["shape"] for lv in ov["levels"]] == [[64, 96], [32, 48]]
    as_dict = run(labels.overlay_of(model.as_dict(), run(root.get_child("labels/cells"))))
    assert as_dict == ov                                   # the page sends the model back as JSON


def test_overlay_of_labels_with_an_axis_the_image_lacks_says_so(tmp_path):
    ome_image(tmp_path / "img.zarr", (2, 128, 192), label_axes=("y", "t"))
    root = run(zarrlite.open_async(str(tmp_path / "img.zarr")))
    [ov] = run(labels.overlays_of(zarrlite.image_model(root), root.get_child))
    assert "axis 't'" in ov["error"] and ov["path"] == "labels/cells"


def test_n5_segmentation_beside_an_image_lines_up_by_shape(tmp_path):
    import tensorstore as ts

    seg = (np.arange(64 * 96, dtype=np.uint64).reshape(64, 96) + 2**40)
    ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "d.n5" / "seg")},
             "metadata": {"dimensions": [96, 64], "blockSize": [32, 32], "dataType": "uint64",
                          "compression": {"type": "raw"}}, "create": True}).result().write(seg.T).result()
    ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "d.n5" / "raw")},
             "metadata": {"dimensions": [192, 128], "blockSize": [64, 64], "dataType": "uint8",
                          "compression": {"type": "raw"}}, "create": True}).result().write(
        np.zeros((192, 128), np.uint8)).result()
    (tmp_path / "d.n5" / "attributes.json").write_text('{"n5": "2.5.1"}')
    root = run(zarrlite.open_async(str(tmp_path / "d.n5")))
    raw, seg_arr = run(root.get_child("raw")), run(root.get_child("seg"))
    ov = run(labels.overlay_of(zarrlite.image_model(raw), seg_arr))
    assert ov["kind"] == "segmentation" and ov["dtype"] == "<u8" and ov["levels"][0]["factor"] == [2.0, 2.0]
    nodes = {"": root, "raw": raw, "seg": seg_arr}
    assert labels.segmentation_candidates(nodes, ["raw"]) == ["seg"]
    assert labels.segmentation_candidates(nodes, []) == ["seg", "raw"]          # 64-bit ids first
    got = run(labels.label_tile(seg_arr, [[10, 20], [30, 50]], 0, 1))
    want = np.array([[rule(int(v)) for v in row] for row in seg[10:20, 30:50]], np.uint8)
    np.testing.assert_array_equal(got, want)


def test_overlay_refuses_float_values(tmp_path):
    root = tmp_path / "f.zarr"
    zarr.create_array(str(root), shape=(8, 8), dtype="<f4", chunks=(8, 8))
    zarr.create_array(str(tmp_path / "img.zarr"), shape=(8, 8), dtype="<u1", chunks=(8, 8))
    image = zarrlite.image_model(zarrlite.open(str(tmp_path / "img.zarr")))
    with pytest.raises(ZarrliteError, match="not integer label ids"):
        run(labels.overlay_of(image, zarrlite.open(str(root))))


def test_labels_are_found_over_plain_http_which_cannot_list(tmp_path, http_server):
    """An image's metadata does not name its labels group: over HTTP it is asked for, not listed."""
    ome_image(tmp_path / "img.zarr", (2, 128, 192))
    url = http_server.mount("labels-img", tmp_path / "img.zarr")
    root = run(zarrlite.open_async(url))
    model = zarrlite.image_model(root)
    assert model.labels == ("labels/cells",)
    [ov] = run(labels.overlays_of(model, root.get_child))
    assert ov["levels"][0]["path"] == "labels/cells/0"
