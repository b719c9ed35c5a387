#!/usr/bin/env python
"""zarrlite vs zarr-python 3 vs tensorstore: read benchmarks on a ~512 MiB uint16 volume.

    .venv/bin/python bench/run.py [--size-mib 512] [--repeat 7] [--out bench/results]
                                  [--formats v3,v2] [--data bench/data] [--tools zarrlite,zarr,tensorstore]

See bench/README.md. The data set is written once with zarr-python into --data (reused while the
parameters match), then each tool reads the same files. Every result is checked for equality
across the tools (and the full read against the checksum of the generated data) before any
number is reported.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.metadata as md
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_VERSION = 1  # bump when the generator below changes

# --------------------------------------------------------------------------- data set

# Y/X are fixed at 2048 x 1024 (4 MiB per uint16 z-plane); Z scales with --size-mib
# (512 MiB -> Z = 128). Chunks are 16 x 256 x 256 uint16 = 2 MiB raw: in the 1-8 MiB range
# usually recommended for local/cloud Zarr, anisotropic like a light-sheet / confocal stack
# (thin in z, wide in xy), and small enough that a plane read touches 32 chunks but must decode
# 16x more than it keeps (the realistic cost of reading xy-planes from 3-D chunks).
YX = (2048, 1024)
CHUNK = (16, 256, 256)
BOX = (32, 64, 64)
N_BOXES = 100
SEED = 20240611

CODECS = ("blosc-lz4", "zstd")


def geometry(size_mib: int):
    plane_mib = YX[0] * YX[1] * 2 / 2**20
    z = max(1, round(size_mib / plane_mib))
    shape = (z, *YX)
    chunks = (min(CHUNK[0], z), *CHUNK[1:])
    return shape, chunks


def params_for(args, shape, chunks):
    return {
        "data_version": DATA_VERSION,
        "shape": list(shape),
        "chunks": list(chunks),
        "dtype": "uint16",
        "seed": SEED,
        "formats": sorted(args.formats),
        "codecs": list(CODECS),
        "zarr": md.version("zarr"),
    }


def generate_slab(z0: int, z1: int, shape) -> np.ndarray:
    """Smooth 'tissue-like' signal with shot-like noise, deterministic per slab.

    Generated slab by slab, so memory stays bounded. A low-frequency 3-D field decides
    "sample" vs "background": background is dim (~100) with little noise, the sample is
    ~300-2800 with low-frequency structure and noise ~ sqrt(signal) (like a fluorescence
    camera). Compresses ~2-3x: not trivial, not incompressible.
    """
    _, ny, nx = shape
    z = np.arange(z0, z1, dtype=np.float32)[:, None, None]
    y = np.arange(ny, dtype=np.float32)[None, :, None]
    x = np.arange(nx, dtype=np.float32)[None, None, :]
    tau = np.float32(2 * np.pi)
    sig = (
        np.float32(300)
        + 600 * (1 + np.sin(tau * x / 397 + 0.3) * np.cos(tau * y / 611 + 1.1))
        + 400 * (1 + np.sin(tau * (x + y) / 173 + tau * z / 53))
        + 250 * (1 + np.cos(tau * (x - 2 * y) / 89 - tau * z / 31))
    )
    mask = (np.sin(tau * x / 1500 + tau * z / 400) + np.cos(tau * y / 1900 + 0.7)) > -0.3
    rng = np.random.default_rng([SEED, z0])
    noise = rng.standard_normal(sig.shape, dtype=np.float32)
    sig = np.where(mask, sig + noise * np.sqrt(sig) * np.float32(0.25),
                   np.float32(100) + noise * np.float32(3))
    np.clip(sig, 0, 65535, out=sig)
    return sig.astype(np.uint16)


def array_paths(data: Path, formats):
    return {(fmt, codec): data / f"{fmt}_{codec}.zarr" for fmt in formats for codec in CODECS}


def ensure_data(args, shape, chunks):
    """Write the arrays with zarr-python unless an identical set is already there."""
    import numcodecs
    import zarr
    from zarr.codecs import BloscCodec, ZstdCodec

    data = Path(args.data)
    paths = array_paths(data, args.formats)
    marker = data / "params.json"
    want = params_for(args, shape, chunks)
    if marker.exists():
        have = json.loads(marker.read_text())
        if {k: have.get(k) for k in want} == want and all(p.exists() for p in paths.values()):
            print(f"[data] reusing {data} ({shape}, chunks {chunks})", flush=True)
            return have
    print(f"[data] writing {shape} uint16 ({np.prod(shape) * 2 / 2**20:.0f} MiB) "
          f"chunks {chunks} x {len(paths)} arrays into {data}", flush=True)
    data.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    for p in paths.values():
        if p.exists():
            shutil.rmtree(p)
    arrays = {}
    for (fmt, codec), p in paths.items():
        if fmt == "v3":
            comp = (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle") if codec == "blosc-lz4"
                    else ZstdCodec(level=3))
            arrays[fmt, codec] = zarr.create_array(store=str(p), shape=shape, chunks=chunks,
                                                   dtype="uint16", fill_value=0,
                                                   compressors=comp, zarr_format=3)
        else:
            comp = (numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
                    if codec == "blosc-lz4" else numcodecs.Zstd(level=3))
            arrays[fmt, codec] = zarr.create_array(store=str(p), shape=shape, chunks=chunks,
                                                   dtype="uint16", fill_value=0,
                                                   compressors=comp, zarr_format=2)
    h = hashlib.sha256()
    t0 = time.perf_counter()
    for z0 in range(0, shape[0], chunks[0]):
        z1 = min(z0 + chunks[0], shape[0])
        slab = generate_slab(z0, z1, shape)
        h.update(slab.tobytes())
        for a in arrays.values():
            a[z0:z1] = slab
        print(f"\r[data] z {z1}/{shape[0]}  {time.perf_counter() - t0:.0f}s", end="", flush=True)
    print(flush=True)
    sizes = {f"{fmt}/{codec}": dir_size(p) for (fmt, codec), p in paths.items()}
    have = dict(want, sha256=h.hexdigest(), stored_bytes=sizes)
    marker.write_text(json.dumps(have, indent=1))
    return have


# The N5 case: a dataset whose blocks were never written (129x256x256 uint16, 16^3 blocks, as a
# viewer's fresh annotation layer): every block is missing, so the read is all per-block cost.
N5_EMPTY = {"dimensions": [256, 256, 129], "blockSize": [16, 16, 16], "dataType": "uint16",
            "compression": {"type": "gzip", "level": -1}}


def ensure_n5_empty(data: Path) -> Path:
    """The blockless N5 dataset (attributes only); rewritten when it differs from N5_EMPTY."""
    path = data / "n5_empty.n5"
    attrs = path / "attributes.json"
    if not attrs.exists() or json.loads(attrs.read_text()) != N5_EMPTY:
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        attrs.write_text(json.dumps(N5_EMPTY))
    return path


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


# --------------------------------------------------------------------------- tools
# Each tool: open(path, fmt) -> handle (untimed), read(handle, sel) -> np.ndarray (timed).
# sel is a tuple of ints/slices. Handles are re-opened before every timed call, so no tool
# can profit from state kept in an array object between repetitions.


def tool_zarrlite():
    import zarrlite

    def open_(path, fmt):
        return zarrlite.open(str(path))

    def read(a, sel):
        return a[sel]

    return open_, read, {"version": _version("zarrlite"), "settings": "defaults"}


def tool_zarr():
    import zarr

    def open_(path, fmt):
        return zarr.open_array(str(path), mode="r")

    def read(a, sel):
        return a[sel]

    cfg = {k: zarr.config.get(k) for k in ("async.concurrency", "threading.max_workers",
                                             "codec_pipeline.path", "codec_pipeline.batch_size")}
    return open_, read, {"version": md.version("zarr"), "settings": f"default config {cfg}"}


def tool_tensorstore():
    import tensorstore as ts

    def open_(path, fmt):
        spec = {"driver": {"v3": "zarr3", "v2": "zarr", "n5": "n5"}[fmt],
                "kvstore": {"driver": "file", "path": str(path)}}
        a = ts.open(spec, read=True).result()
        # tensorstore's N5 arrays keep N5's (Fortran) axis order; the others read them reversed
        return a.T if fmt == "n5" else a

    def read(a, sel):
        return a[sel].read().result()

    return open_, read, {
        "version": md.version("tensorstore"),
        "settings": "default Context (data_copy_concurrency = #cores, "
                    "file_io_concurrency default, cache_pool 0 bytes = no chunk cache)"}


TOOLS = {"zarrlite": tool_zarrlite, "zarr": tool_zarr, "tensorstore": tool_tensorstore}
LABEL = {"zarrlite": "zarrlite", "zarr": "zarr-python", "tensorstore": "tensorstore"}


def _version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- cases


def make_cases(shape):
    full = (slice(None),) * 3
    plane = (shape[0] // 2, slice(None), slice(None))
    rng = np.random.default_rng(SEED)
    box = [min(b, s) for b, s in zip(BOX, shape)]
    boxes = []
    for _ in range(N_BOXES):
        o = [int(rng.integers(0, s - b + 1)) for s, b in zip(shape, box)]
        boxes.append(tuple(slice(a, a + b) for a, b in zip(o, box)))
    return [
        ("full", "full read a[:, :, :]", [full]),
        ("plane", f"plane a[{plane[0]}, :, :]", [plane]),
        ("boxes", f"{N_BOXES} random {box[0]}x{box[1]}x{box[2]} boxes (sequential)", boxes),
    ]


def n5_cases():
    shape = tuple(reversed(N5_EMPTY["dimensions"]))
    return shape, [("n5-empty", "full read of a blockless N5 dataset", [(slice(None),) * 3])]


FORMATS = {"zarr": ("v3", "v2")}  # zarr-python 3 reads no N5; the others read all three


def supporting(tools, fmt):
    return {name: t for name, t in tools.items() if fmt in FORMATS.get(name, (fmt,))}


def warm_up(tools, path, fmt, shape):
    """One untimed plane read per tool: imports, thread pools, page cache, codec init."""
    for name, (open_, read, _) in list(tools.items()):
        try:
            read(open_(path, fmt), (shape[0] // 2, slice(None), slice(None)))
        except Exception as e:
            print(f"[warn] {name} warm-up failed: {type(e).__name__}: {e}", flush=True)


def run_case(tools, path, fmt, sels, repeat):
    """Best-of-`repeat` wall time per tool; tool order rotates between repetitions."""
    times = {name: [] for name in tools}
    cpu = {name: [] for name in tools}
    first = {}
    names = list(tools)
    for r in range(repeat):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            open_, read, _ = tools[name]
            handle = open_(path, fmt)
            gc.collect()
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = [read(handle, s) for s in sels]
            dt = time.perf_counter() - t0
            c1 = time.process_time()
            times[name].append(dt)
            cpu[name].append(c1 - c0)
            if r == 0:
                first[name] = out
            del out, handle
    return times, cpu, first


def verify(first, sels, shape, sha=None, check_sha=False, all_zero=False):
    """All tools must return equal arrays (dtype, shape, values). Returns error strings."""
    errors = []
    names = list(first)
    # reference: zarr-python (the writer) if present; a disagreeing tool is the one blamed
    ref_name = next((n for n in ("zarr", "tensorstore") if n in first), names[0])
    for i, s in enumerate(sels):
        ref = first[ref_name][i]
        exp_shape = tuple(len(range(*x.indices(n))) for x, n in zip(s, shape)
                          if isinstance(x, slice))
        for name in names:
            a = first[name][i]
            if not isinstance(a, np.ndarray):
                errors.append(f"{name}: returned {type(a).__name__}, not numpy.ndarray")
                continue
            if a.dtype != np.uint16 or a.shape != exp_shape:
                errors.append(f"{name}: sel {i}: dtype/shape {a.dtype}{a.shape}, "
                              f"expected uint16{exp_shape}")
            elif name != ref_name and not np.array_equal(a, ref):
                errors.append(f"{name} != {ref_name} on sel {i}")
            elif all_zero and a.any():  # no block written: the fill value 0 everywhere
                errors.append(f"{name}: sel {i}: not all the fill value 0")
    if check_sha and sha:
        for name in names:
            got = hashlib.sha256(np.ascontiguousarray(first[name][0]).tobytes()).hexdigest()
            if got != sha:
                errors.append(f"{name}: full read differs from the generated data (sha256)")
    return errors


# --------------------------------------------------------------------------- machine load


def cpu_snapshot():
    """(machine busy CPU seconds, this process's CPU seconds, wall time) — Linux only."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    except (OSError, ValueError):
        busy = None
    t = os.times()
    return busy, t.user + t.system, time.perf_counter()


def foreign_load(a, b):
    """Fraction of the machine's CPUs used by OTHER processes between two snapshots."""
    if a[0] is None or b[0] is None:
        return None
    wall = b[2] - a[2]
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / (wall * (os.cpu_count() or 1)))


# --------------------------------------------------------------------------- report


def fmt_s(v, wrong=False):
    return "WRONG" if wrong else "—" if v is None else f"{v:.3f}"


def fmt_ratio(a, b, wrong=False):
    return "—" if wrong or a is None or b is None else f"{a / b:.2f}×"


def render(rows, title_lines, key="best_s", unit="s"):
    head = ["case", "codec", f"zarrlite {unit}", f"zarr-python {unit}", f"tensorstore {unit}",
            "zarrlite/zarr-python", "zarrlite/tensorstore"]
    body = []
    for r in rows:
        zl, zp, tso = (r[key].get(k) for k in ("zarrlite", "zarr", "tensorstore"))
        bad = {k: k in r["wrong"] for k in ("zarrlite", "zarr", "tensorstore")}
        body.append([r["case"], r["codec"], fmt_s(zl, bad["zarrlite"]), fmt_s(zp, bad["zarr"]),
                     fmt_s(tso, bad["tensorstore"]),
                     fmt_ratio(zl, zp, bad["zarrlite"] or bad["zarr"]),
                     fmt_ratio(zl, tso, bad["zarrlite"] or bad["tensorstore"])])
    w = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(n) for c, n in zip(cells, w)) + " |"
    sep = "|" + "|".join("-" * (n + 2) for n in w) + "|"
    return "\n".join(title_lines + ["", line(head), sep] + [line(b) for b in body])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size-mib", type=int, default=512, help="uncompressed array size (default 512)")
    p.add_argument("--repeat", type=int, default=7, help="repetitions per case, best is reported")
    p.add_argument("--out", default=str(HERE / "results"), help="where results.json/.md go")
    p.add_argument("--data", default=str(HERE / "data"), help="where the arrays are written")
    p.add_argument("--formats", default="v3,v2", help="comma list of v3,v2 (default both)")
    p.add_argument("--tools", default="zarrlite,zarr,tensorstore")
    p.add_argument("--cases", default="full,plane,boxes,n5-empty")
    args = p.parse_args(argv)
    args.formats = [f for f in args.formats.split(",") if f]
    assert set(args.formats) <= {"v3", "v2"}, args.formats

    shape, chunks = geometry(args.size_mib)
    meta = ensure_data(args, shape, chunks)

    tools, skipped = {}, {}
    for name in args.tools.split(","):
        try:
            tools[name] = TOOLS[name]()
        except Exception as e:  # zarrlite may not be importable yet
            skipped[name] = f"{type(e).__name__}: {e}"
            print(f"[warn] {name} unavailable, skipped: {skipped[name]}", flush=True)

    cases = [c for c in make_cases(shape) if c[0] in args.cases.split(",")]
    paths = array_paths(Path(args.data), args.formats)
    groups = [(fmt, codec, path, shape, cases) for (fmt, codec), path in paths.items()]
    if "n5-empty" in args.cases.split(","):
        n5_shape, n5 = n5_cases()
        groups.append(("n5", "gzip", ensure_n5_empty(Path(args.data)), n5_shape, n5))
    rows, errors = [], []
    t_start = time.perf_counter()
    snap0 = cpu_snapshot()
    load0 = os.getloadavg()
    for fmt, codec, path, gshape, gcases in groups:
        group_tools = supporting(tools, fmt)
        warm_up(group_tools, path, fmt, gshape)
        for case, desc, sels in gcases:
            case_tools = dict(group_tools)
            snap = cpu_snapshot()
            try:
                times, cpu, first = run_case(case_tools, path, fmt, sels, args.repeat)
            except Exception:
                # Find the failing tool, report it, and re-run without it.
                times, first = {}, {}
                for name in list(case_tools):
                    try:
                        run_case({name: case_tools[name]}, path, fmt, sels, 1)
                    except Exception as e:
                        msg = f"{fmt}/{codec}/{case}: {name} raised {type(e).__name__}: {e}"
                        print("[FAIL]", msg, flush=True)
                        errors.append(msg)
                        del case_tools[name]
                times, cpu, first = run_case(case_tools, path, fmt, sels, args.repeat)
            errs = verify(first, sels, gshape, meta.get("sha256"), check_sha=(case == "full"),
                          all_zero=(fmt == "n5"))
            del first
            errors += [f"{fmt}/{codec}/{case}: {e}" for e in errs]
            bad = {e.split(":")[0].split(" ")[0] for e in errs}
            row = {
                "case": case if fmt in ("v3", "n5") else f"{case} (v2)",
                "format": fmt, "codec": codec, "description": desc,
                "times_s": times,
                "best_s": {k: min(v) for k, v in times.items()},
                "wrong": sorted(bad),
                "median_s": {k: statistics.median(v) for k, v in times.items()},
                "cpu_s": cpu,
                "best_cpu_s": {k: min(v) for k, v in cpu.items()},
                "median_cpu_s": {k: statistics.median(v) for k, v in cpu.items()},
                "verified": not errs,
                "foreign_cpu": foreign_load(snap, cpu_snapshot()),
            }
            rows.append(row)
            fl = row["foreign_cpu"]
            print(f"[{time.perf_counter() - t_start:5.0f}s] {fmt} {codec:9s} {case:5s} "
                  + "  ".join(f"{LABEL[k]} {statistics.median(v):.3f}s" for k, v in times.items())
                  + ("" if fl is None else f"  (other processes: {100 * fl:.0f}% CPU)")
                  + ("" if not errs else f"  MISMATCH: {errs}"), flush=True)
    # order: by format, case, codec for a readable table
    case_order = {c[0]: i for i, c in enumerate(cases)}
    fmt_order = [*args.formats, "n5"]
    rows.sort(key=lambda r: (fmt_order.index(r["format"]), case_order.get(r["case"].split()[0], 99),
                             r["codec"]))

    load = foreign_load(snap0, cpu_snapshot())
    load1 = os.getloadavg()
    raw = np.prod(shape) * 2
    stored = meta.get("stored_bytes", {})
    title = [
        f"zarrlite read benchmark — {shape} uint16 ({raw / 2**20:.0f} MiB), chunks {chunks}, "
        f"medians of {args.repeat} (tools interleaved, order rotating), warm page cache",
        "compression: " + ", ".join(f"{k} {raw / v:.2f}x" for k, v in stored.items()),
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, numcodecs {md.version('numcodecs')}",
    ]
    for name, (_, _, info) in tools.items():
        title.append(f"{LABEL[name]} {info['version']}: {info['settings']}")
    for name, why in skipped.items():
        title.append(f"{LABEL[name]}: NOT RUN ({why})")
    title.append(f"load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in load0)}, "
                 f"at end {'/'.join(f'{x:.1f}' for x in load1)} on {os.cpu_count()} cores")
    if load is not None:
        title.append(f"other processes used {100 * load:.0f}% of the machine's CPU during the run"
                     + (" — NOISY, re-run on an idle machine" if load > 0.10 else " (idle enough)"))
    title.append("ratios < 1 mean zarrlite is faster; goals: zarrlite/zarr-python <= 1.00x, "
                 "zarrlite/tensorstore <= 1.00x")
    table = render(rows, title, key="median_s")
    table += "\n\n" + render(rows, [
        "CPU time (process CPU seconds, user+sys of all threads, median of N) — less sensitive to "
        "other load on the machine; wall time above is what users see"], key="median_cpu_s", unit="cpu-s")
    table += "\n\n" + render(rows, ["best wall time of N"], key="best_s")
    print()
    print(table)
    if errors:
        print("\nCORRECTNESS FAILURES (times of failing tools are not reported):")
        for e in errors:
            print("  -", e)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(table + "\n" + "".join(f"\nFAIL: {e}" for e in errors) + "\n")
    (out / "results.json").write_text(json.dumps({
        "shape": shape, "chunks": chunks, "dtype": "uint16", "repeat": args.repeat,
        "data": str(args.data), "data_params": meta,
        "tools": {k: v[2] for k, v in tools.items()}, "skipped": skipped,
        "python": sys.version, "cpu_count": os.cpu_count(),
        "rows": rows, "errors": errors,
        "total_s": time.perf_counter() - t_start,
        "foreign_cpu": load, "load_average": {"start": load0, "end": load1},
    }, indent=1, default=str))
    print(f"\nwrote {out / 'results.md'} and {out / 'results.json'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
