#!/usr/bin/env python
"""zarrlite on dask.distributed: `.mean(axis=0)` over the 512 MiB bench array (bench/run.py's data, Zarr v3,
blosc-lz4 and zstd) on a LocalCluster of 2 worker processes x 1 thread, zarrlite.to_dask vs
dask.array.from_zarr (zarr-python 3); then xarray: open + the same reduction with engine="zarrlite" vs
engine="zarr". One run, the same cluster, tools alternating; ratios printed and stored in bench/results/.

    .venv/bin/python bench/dask_bench.py [--repeat 3] [--size-mib 512] [--out bench/results]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as bench_data  # noqa: E402  (the bench array: geometry, generator, foreign-load probe)


def xarray_view(array_dir: Path, into: Path) -> Path:
    """A Zarr v3 group holding the bench array as variable `vol` with dimension names, for xarray: the
    array's metadata copied with `dimension_names`, its chunks linked, not copied."""
    group = into / f"xr_{array_dir.name}"
    meta = json.loads((array_dir / "zarr.json").read_text())
    meta["dimension_names"] = ["z", "y", "x"]
    if group.exists():
        shutil.rmtree(group)
    (group / "vol").mkdir(parents=True)
    (group / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}))
    (group / "vol" / "zarr.json").write_text(json.dumps(meta))
    (group / "vol" / "c").symlink_to((array_dir / "c").resolve(), target_is_directory=True)
    return group


def cpu_snapshot():
    """(machine busy CPU s, CPU s of this process and its workers, wall) for bench_data.foreign_load: the
    worker processes are ours, not 'other processes'."""
    import psutil

    busy, _, wall = bench_data.cpu_snapshot()
    me = psutil.Process()
    own = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            own += t.user + t.system
        except psutil.Error:  # a worker that ended in between
            pass
    return busy, own, wall


def share(load) -> str:
    return "—" if load is None else f"{100 * load:.0f}%"


def timed(fn, repeat):
    """{tool: [wall s]}, {tool: [CPU s of this process and its workers]} and {tool: result}, alternating
    the tools between repetitions. CPU seconds suffer less than wall time from other processes' load."""
    times, cpu, results = {}, {}, {}
    names = list(fn)
    for i in range(repeat):
        for name in names[i % 2:] + names[:i % 2]:
            c0, t0 = cpu_snapshot()[1], time.perf_counter()
            results[name] = fn[name]()
            times.setdefault(name, []).append(time.perf_counter() - t0)
            cpu.setdefault(name, []).append(cpu_snapshot()[1] - c0)
    return times, cpu, results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size-mib", type=int, default=512)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--data", default=str(HERE / "data"))
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    args.formats = ["v3", "v2"]  # as bench/run.py writes them, so both benchmarks share the files

    import dask.array as da
    import distributed
    import xarray as xr

    import zarrlite

    shape, chunks = bench_data.geometry(args.size_mib)
    bench_data.ensure_data(args, shape, chunks)
    paths = {codec: path for (fmt, codec), path in bench_data.array_paths(Path(args.data), ["v3"]).items()}

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    rows, wrong = [], []
    snap0 = cpu_snapshot()
    try:
        for codec, path in paths.items():
            mean = {
                "zarrlite": lambda: client.compute(zarrlite.to_dask(str(path)).mean(axis=0)).result(),
                "zarr-python": lambda: client.compute(da.from_zarr(str(path)).mean(axis=0)).result(),
            }
            view = xarray_view(path, Path(args.data))

            def xr_mean(engine):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # zarr-python: "no consolidated metadata"
                    ds = xr.open_dataset(view, engine=engine, chunks={},
                                         **({"consolidated": False} if engine == "zarr" else {}))
                    return client.compute(ds["vol"].mean("z")).result().values

            xmean = {"zarrlite": lambda: xr_mean("zarrlite"), "zarr-python": lambda: xr_mean("zarr")}
            for case, fns in (("dask mean(axis=0)", mean), ("xarray open + mean('z')", xmean)):
                fns["zarrlite"]()  # warm: imports and page cache in the workers, for both tools
                fns["zarr-python"]()
                snap = cpu_snapshot()
                times, cpu, results = timed(fns, args.repeat)
                if not np.allclose(results["zarrlite"], results["zarr-python"], rtol=1e-12, atol=0):
                    wrong.append(f"{case} {codec}: zarrlite and zarr-python disagree")
                load = bench_data.foreign_load(snap, cpu_snapshot())
                row = {"case": case, "codec": codec, "times_s": times, "cpu_s": cpu,
                       "best_s": {k: min(v) for k, v in times.items()},
                       "median_s": {k: statistics.median(v) for k, v in times.items()},
                       "best_cpu_s": {k: min(v) for k, v in cpu.items()},
                       "foreign_cpu": load}
                row["ratio_best"] = row["best_s"]["zarrlite"] / row["best_s"]["zarr-python"]
                row["ratio_cpu"] = row["best_cpu_s"]["zarrlite"] / row["best_cpu_s"]["zarr-python"]
                rows.append(row)
                print(f"{case:26s} {codec:9s} zarrlite {row['best_s']['zarrlite']:.3f}s  zarr-python "
                      f"{row['best_s']['zarr-python']:.3f}s  ratio {row['ratio_best']:.2f}x; CPU "
                      f"{row['best_cpu_s']['zarrlite']:.2f}s vs {row['best_cpu_s']['zarr-python']:.2f}s"
                      + ("" if load is None else f"  (other processes: {100 * load:.0f}% CPU)"), flush=True)
        load = bench_data.foreign_load(snap0, cpu_snapshot())  # while the workers still count as ours
    finally:
        client.close()
        cluster.close()
    title = [f"# dask / xarray on a LocalCluster (2 worker processes x 1 thread), {shape} uint16 "
             f"({args.size_mib} MiB), chunks {chunks}, best of {args.repeat}",
             f"zarrlite {zarrlite.__version__}, zarr {md.version('zarr')}, dask {md.version('dask')}, "
             f"distributed {md.version('distributed')}, xarray {md.version('xarray')}; {os.cpu_count()} cores; "
             + ("" if load is None else f"other processes used {100 * load:.0f}% of the machine's CPU"
                + (" — NOISY" if load > 0.10 else ""))]
    table = ["| case | codec | zarrlite s | zarr-python s | zarrlite/zarr-python | CPU s zarrlite | CPU s zarr-python "
             "| CPU ratio | other processes |", "|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['case']} | {r['codec']} | {r['best_s']['zarrlite']:.3f} | {r['best_s']['zarr-python']:.3f} "
              f"| {r['ratio_best']:.2f}× | {r['best_cpu_s']['zarrlite']:.2f} | {r['best_cpu_s']['zarr-python']:.2f} "
              f"| {r['ratio_cpu']:.2f}× | {share(r['foreign_cpu'])} |" for r in rows]
    text = "\n".join(title + [""] + table + ([""] + [f"WRONG: {w}" for w in wrong] if wrong else []))
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    (out / f"dask-{stamp}.json").write_text(json.dumps({"title": title, "rows": rows, "wrong": wrong,
                                                         "foreign_cpu": load}, indent=1))
    (out / f"dask-{stamp}.md").write_text(text + "\n")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
