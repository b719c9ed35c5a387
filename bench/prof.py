#!/usr/bin/env python
"""Profile one tool on one benchmark case (the data written by bench/run.py).

    .venv/bin/python bench/prof.py --case full --codec zstd            # cProfile (main thread)
    .venv/bin/python bench/prof.py --case plane --py-spy /path/py-spy  # sampling, all threads

cProfile only sees the calling thread (work in asyncio.to_thread / thread pools shows up as
waiting); py-spy (`pip install py-spy`, needs ptrace) samples every thread and, with --native,
C frames too. The py-spy summary lists self time per function (leaf frames) and inclusive time.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402


def target(args):
    import json
    params = json.loads((Path(args.data) / "params.json").read_text())
    shape = tuple(params["shape"])
    path = Path(args.data) / f"{args.format}_{args.codec}.zarr"
    cases = {c[0]: c[2] for c in run.make_cases(shape)}
    sels = cases[args.case]
    open_, read, _ = run.TOOLS[args.tool]()
    read(open_(path, args.format), sels[0])  # warm up
    times = []
    def loop():
        for _ in range(args.loops):
            h = open_(path, args.format)
            t = time.perf_counter()
            for s in sels:
                read(h, s)
            times.append(time.perf_counter() - t)
    return loop, times


def summarize_raw(path, top):
    # leaves that mean "thread waiting" (py-spy's idle heuristic misses some of them)
    idle_marks = ("_worker (concurrent/futures/thread.py:89)", "select (selectors.py",
                  "Condition.wait (threading.py", "Event.wait (threading.py")
    self_t, incl = collections.Counter(), collections.Counter()
    total = idle = 0
    for line in Path(path).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        n = int(n)
        frames = stack.split(";")
        if any(m in frames[-1] for m in idle_marks):
            idle += n
            continue
        total += n
        self_t[frames[-1] or "<no Python frame: native code, GIL released>"] += n
        for f in set(frames):
            incl[f] += n
    print(f"\n{total} busy samples, all threads ({idle} idle-thread samples dropped)"
          "\n\nSELF (leaf frames):")
    for f, n in self_t.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("\nINCLUSIVE:")
    for f, n in incl.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tool", default="zarrlite", choices=list(run.TOOLS))
    p.add_argument("--case", default="full", choices=["full", "plane", "boxes"])
    p.add_argument("--codec", default="zstd", choices=list(run.CODECS))
    p.add_argument("--format", default="v3", choices=["v3", "v2"])
    p.add_argument("--data", default=str(HERE / "data"))
    p.add_argument("--loops", type=int, default=5)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--py-spy", dest="pyspy", help="path to py-spy: sample all threads instead")
    p.add_argument("--native", action="store_true", help="py-spy --native (C frames)")
    p.add_argument("--raw-out", default="/tmp/zarrlite-pyspy.txt")
    p.add_argument("--_target", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.pyspy and not args._target:
        cmd = [args.pyspy, "record", "-f", "raw", "-r", "250", "-o", args.raw_out]
        if args.native:
            cmd.append("--native")
        argv = [a for a in sys.argv[1:]]
        i = argv.index("--py-spy")
        del argv[i:i + 2]
        cmd += ["--", sys.executable, __file__, "--_target", *argv]
        subprocess.run(cmd, check=True)
        summarize_raw(args.raw_out, args.top)
        return
    loop, times = target(args)
    if args._target:
        loop()
    else:
        prof = cProfile.Profile()
        prof.runcall(loop)
        st = pstats.Stats(prof).strip_dirs()
        st.sort_stats("tottime").print_stats(args.top)
        st.sort_stats("cumulative").print_stats(args.top)
    print(f"{args.tool} {args.format}/{args.codec} {args.case}: "
          + " ".join(f"{t:.3f}" for t in times) + " s", file=sys.stderr)


if __name__ == "__main__":
    main()
