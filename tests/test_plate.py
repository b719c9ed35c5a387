"""zarrlite.plate in CPython: the well grid a plate names (0.4+ indices and older path-only wells),
a well's fields, and a well's thumbnail from the lowest level of a field, read with only the requests it
needs (a store that counts them). Plates are written by zarr-python (web/make_samples_ome.write_plate)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import zarrlite
from zarrlite import plate
from zarrlite.errors import MetadataError, ZarrliteError
from zarrlite.runtime import run_sync
from zarrlite.stores.local import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from make_samples_ome import write_plate  # noqa: E402  (zarr-python writes the plate)

ROWS, COLS = ["A", "B", "C"], ["1", "2", "3", "4"]


def run(coro):
    return run_sync(coro, "")


def field_data(r, c, f, shape=(96, 80)):
    rng = np.random.default_rng(100 * r + 10 * c + f)
    return rng.integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="module", params=[2, 3], ids=["v2-0.4", "v3-0.5"])
def small_plate(tmp_path_factory, request):
    fields = {(r, c): [field_data(r, c, f) for f in range(2)] for r in range(3) for c in range(4) if (r, c) != (2, 3)}
    root = tmp_path_factory.mktemp("plate") / "p.zarr"
    write_plate(root, fields, ROWS, COLS, zarr_format=request.param, n_levels=3, chunks=(32, 32))
    return root, fields


def test_layout_names_rows_columns_and_wells(small_plate):
    root, fields = small_plate
    p = plate.plate_layout(zarrlite.open(str(root)).attrs)
    assert p.rows == tuple(ROWS) and p.columns == tuple(COLS) and p.field_count == 2
    assert {(w.row, w.column): w.path for w in p.wells} == {rc: f"{ROWS[rc[0]]}/{COLS[rc[1]]}" for rc in fields}


def test_layout_of_old_plates_from_paths_and_bad_ones():
    old = {"plate": {"rows": [{"name": "A"}], "columns": [{"name": "01"}, {"name": "02"}],
                     "wells": [{"path": "A/02"}]}}
    assert plate.plate_layout(old).wells == (plate.Well("A/02", 0, 1),)
    for bad in ({"plate": {"rows": [], "columns": [{"name": "1"}]}},
                {"plate": {"rows": [{"name": "A"}], "columns": [{"name": "1"}], "wells": [{"path": "A/1", "rowIndex": 3}]}},
                {"plate": {"rows": [{"name": "A"}], "columns": [{"name": "1"}], "wells": [{"path": "Z/9"}]}},
                {"plate": {"rows": [{"nope": 1}], "columns": [{"name": "1"}]}}, {}):
        with pytest.raises(MetadataError):
            plate.plate_layout(bad)


def test_well_fields(small_plate):
    root, _ = small_plate
    well = zarrlite.open(str(root), "B/3")
    assert plate.well_fields(well.attrs) == [{"path": "0", "acquisition": 0}, {"path": "1", "acquisition": 0}]
    with pytest.raises(MetadataError):
        plate.well_fields({"well": {"images": [{"acquisition": 0}]}})


class CountingStore(LocalStore):
    def __init__(self, root):
        super().__init__(root)
        self.keys = []

    async def get(self, key):
        self.keys.append(key)
        return await super().get(key)

    async def get_range(self, key, start, length):
        self.keys.append(key)
        return await super().get_range(key, start, length)

    def get_sync(self, key, folders=None):
        self.keys.append(key)
        return super().get_sync(key, folders)


@pytest.mark.parametrize("field", [0, 1])
def test_thumbnail_is_the_lowest_level_of_the_field_and_reads_only_that(small_plate, field):
    root, fields = small_plate
    store = CountingStore(str(root))
    group = run(zarrlite.open_async(store))
    v3 = (root / "zarr.json").exists()
    store.keys.clear()
    rgba, meta = run(plate.well_thumbnail(group.get_child, "B/2", size=16, field=field))
    lowest = fields[(1, 1)][field][::4, ::4]               # level 2: every 4th pixel (24 x 20)
    want = lowest[::2, ::2]                                # strided to at most 16 pixels
    assert meta["level"] == f"B/2/{field}/2" and meta["levelShape"] == [24, 20] and meta["step"] == 2
    assert meta["fields"] == ["B/2/0", "B/2/1"]
    assert rgba.shape == want.shape + (4,)
    lo, hi = np.percentile(lowest[::2, ::2], [0.1, 99.9])  # no omero window: the automatic one
    expected = np.clip(np.round((want.astype(np.float64) - lo) / (hi - lo) * 255), 0, 255)
    assert np.abs(rgba[..., 0].astype(int) - expected).max() <= 1
    assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 3] == 255).all()
    # the well's and the field's metadata, the level's, one chunk: nothing else of the plate
    chunks = [k for k in store.keys if not k.rsplit("/", 1)[-1].startswith((".z", "zarr.json"))]
    assert chunks == [f"B/2/{field}/2/" + ("c/0/0" if v3 else "0.0")]
    # (v2: a group costs .zarray, .zattrs, then .zgroup; an array .zarray and .zattrs)
    per_group, per_array = (1, 1) if v3 else (3, 2)
    assert len(store.keys) == 2 * per_group + per_array + 1, store.keys


def test_thumbnail_of_a_missing_field_says_so(small_plate):
    root, _ = small_plate
    group = zarrlite.open(str(root))
    with pytest.raises(ZarrliteError, match="no field 5"):
        run(plate.well_thumbnail(group.get_child, "A/1", field=5))
