"""Seed corpus: small real arrays written by zarr-python 3, tensorstore and the Java-style N5 writer
(tests/writers.py), one per format x codec, loaded into {key: bytes} mappings for MemoryStore.
Each seed is small (a few chunks, some of them edge chunks) so a mutated read stays fast."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numcodecs
import numpy as np

from writers import make_data, manual_n5, n5_group, smooth_data, ts_n5, ts_zarr3, zarr_python

SHAPE, CHUNKS = (6, 7), (4, 3)    # a 2x3 grid with edge chunks on both axes


@dataclass
class Seed:
    name: str
    mapping: dict[str, bytes]
    path: str                     # the node to open
    truth: np.ndarray | None      # what reading `path` whole must give (None for groups)

    @property
    def json_keys(self):
        return [k for k in self.mapping if k.rsplit("/", 1)[-1] in JSON_NAMES]

    @property
    def chunk_keys(self):
        return [k for k in self.mapping if k.rsplit("/", 1)[-1] not in JSON_NAMES]


JSON_NAMES = {".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json", "attributes.json"}


def _load(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _v2(tmp, name, dtype, **kw):
    root = tmp / name
    truth = zarr_python(root, make_data(SHAPE, dtype, seed=len(name)), zarr_format=2, chunks=CHUNKS, **kw)
    return Seed(f"zarr2-{name}", _load(root), "", truth)


def _v3(tmp, name, dtype, **kw):
    root = tmp / name
    truth = zarr_python(root, make_data(SHAPE, dtype, seed=len(name)), zarr_format=3, chunks=CHUNKS, **kw)
    return Seed(f"zarr3-{name}", _load(root), "", truth)


def build() -> dict[str, list[Seed]]:
    """{family: [Seed]} for the families zarr2, zarr3, sharding, n5, groups."""
    import zarr

    with tempfile.TemporaryDirectory(prefix="zarrlite-fuzz-") as d:
        tmp = Path(d)
        zarr2 = [
            _v2(tmp, "raw", "<u2", compressors=None),
            _v2(tmp, "zlib", "<i4", compressors=numcodecs.Zlib(level=1)),
            _v2(tmp, "gzip", "<f4", compressors=numcodecs.GZip(level=1)),
            _v2(tmp, "bz2", "<u1", compressors=numcodecs.BZ2(level=1)),
            _v2(tmp, "lzma", "<i2", compressors=numcodecs.LZMA(preset=1)),
            _v2(tmp, "blosc-lz4", "<f8", compressors=numcodecs.Blosc(cname="lz4", shuffle=1)),
            _v2(tmp, "blosc-zstd-bit", ">u4", compressors=numcodecs.Blosc(cname="zstd", shuffle=2)),
            _v2(tmp, "zstd", "<i8", compressors=numcodecs.Zstd(level=1)),
            _v2(tmp, "lz4", "<c8", compressors=numcodecs.LZ4()),
            _v2(tmp, "delta-F", "<i4", compressors=numcodecs.Zlib(level=1),
                filters=[numcodecs.Delta(dtype="<i4")], order="F"),
            _v2(tmp, "slash-bool", "|b1", compressors=None, chunk_key_encoding={"name": "v2", "separator": "/"}),
        ]
        root = tmp / "v2-scaleoffset"
        zarr_python(root, smooth_data(SHAPE, "<f8"), zarr_format=2, chunks=CHUNKS, compressors=None,
                    filters=[numcodecs.FixedScaleOffset(offset=100, scale=10, dtype="<f8", astype="<i2")])
        zarr2.append(Seed("zarr2-fixedscaleoffset", _load(root), "", None))

        zarr3 = [
            _v3(tmp, "bytes", "uint16", compressors=None),
            _v3(tmp, "gzip-big", "float32", compressors=[zarr.codecs.GzipCodec(level=1)],
                serializer=zarr.codecs.BytesCodec(endian="big")),
            _v3(tmp, "zstd-crc", "int64", compressors=[zarr.codecs.ZstdCodec(level=1), zarr.codecs.Crc32cCodec()]),
            _v3(tmp, "blosc", "float64", compressors=[zarr.codecs.BloscCodec(cname="lz4", shuffle="shuffle")]),
            _v3(tmp, "transpose", "int16", compressors=None, filters=[zarr.codecs.TransposeCodec(order=(1, 0))]),
            _v3(tmp, "fill-nan", "float32", compressors=None, fill_value=float("nan")),
        ]
        root = tmp / "ts3"
        truth = ts_zarr3(root, make_data(SHAPE, "uint32", seed=3), chunks=CHUNKS, data_type="uint32",
                         codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                                 {"name": "zstd", "configuration": {"level": 1}}])
        zarr3.append(Seed("zarr3-tensorstore-zstd", _load(root), "", truth))

        sharding = []
        for name, location, inner in (("end-zstd", "end", [{"name": "zstd", "configuration": {"level": 1}}]),
                                      ("start-raw", "start", []), ("end-gzip", "end", [{"name": "gzip", "configuration": {"level": 1}}])):
            root = tmp / f"shard-{name}"
            codec = zarr.codecs.ShardingCodec.from_dict({"name": "sharding_indexed", "configuration": {
                "chunk_shape": [2, 3], "index_location": location,
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, *inner],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}})
            truth = zarr_python(root, make_data(SHAPE, "int32", seed=9), zarr_format=3, chunks=(4, 6),
                                serializer=codec, compressors=None)
            sharding.append(Seed(f"sharding-{name}", _load(root), "", truth))

        n5 = []
        for kind in ({"type": "raw"}, {"type": "gzip"}, {"type": "gzip", "useZlib": True}, {"type": "bzip2"},
                     {"type": "xz"}, {"type": "lz4"}, {"type": "zstd"},
                     {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}):
            name = "-".join(str(v) for v in kind.values())
            root = tmp / f"n5-{name}"
            truth = manual_n5(root, make_data(SHAPE, "uint16", seed=4), chunks_c=CHUNKS, data_type="uint16",
                              compression=kind)
            n5.append(Seed(f"n5-{name}", _load(root), "", truth))
        root = tmp / "n5-varlength"
        truth = manual_n5(root, make_data(SHAPE, "float64", seed=5), chunks_c=CHUNKS, data_type="float64",
                          compression={"type": "gzip"}, mode=1)
        n5.append(Seed("n5-varlength", _load(root), "", truth))
        root = tmp / "n5-tensorstore"
        truth = ts_n5(root, make_data(SHAPE, "int16", seed=6), block_size=(3, 4), data_type="int16",
                      compression={"type": "gzip"})
        n5.append(Seed("n5-tensorstore", _load(root), "", truth))

        groups = []
        root = tmp / "g2"
        g = zarr.open_group(str(root), mode="w", zarr_format=2)
        g.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": "y", "type": "space"},
                                                              {"name": "x", "type": "space"}],
                                   "datasets": [{"path": "0", "coordinateTransformations": [
                                       {"type": "scale", "scale": [1.0, 1.0]}]}]}]
        a = g.create_array("0", shape=SHAPE, chunks=CHUNKS, dtype="<u2", compressors=numcodecs.Zlib(level=1))
        a[...] = make_data(SHAPE, "<u2")
        g.create_group("sub").create_array("b", shape=(3,), chunks=(2,), dtype="<f4")[...] = [1, 2, 3]
        zarr.consolidate_metadata(str(root), zarr_format=2)
        groups.append(Seed("group-zarr2-consolidated", _load(root), "", None))
        root = tmp / "g3"
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        g.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": [{"name": "y"}, {"name": "x"}],
                                                             "datasets": [{"path": "s0"}]}]}
        g.create_array("s0", shape=SHAPE, chunks=CHUNKS, dtype="uint8")[...] = make_data(SHAPE, "uint8")
        zarr.consolidate_metadata(str(root), zarr_format=3)
        groups.append(Seed("group-zarr3-consolidated", _load(root), "", None))
        root = tmp / "gn5"
        n5_group(root, {"scales": [[1, 1], [2, 2]], "pixelResolution": {"dimensions": [0.5, 0.5], "unit": "um"}},
                 version="4.0.0")
        manual_n5(root / "s0", make_data(SHAPE, "uint8"), chunks_c=CHUNKS, data_type="uint8",
                  compression={"type": "gzip"})
        groups.append(Seed("group-n5", _load(root), "", None))
    return {"zarr2": zarr2, "zarr3": zarr3, "sharding": sharding, "n5": n5, "groups": groups}


class Corpus(dict):
    """The seeds by family, with a short repr (hypothesis prints a failing case's arguments)."""

    def __repr__(self):
        return f"Corpus({', '.join(f'{k}: {len(v)} seeds' for k, v in self.items())})"


_CACHE: dict | None = None


def seeds() -> dict[str, list[Seed]]:
    global _CACHE
    if _CACHE is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr-python warns that v3 consolidated metadata is unofficial
            _CACHE = build()
    return _CACHE
