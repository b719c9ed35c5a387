"""The Python half of web/worker.js: a `Session` (one per worker) opens a browser source, describes
its tree, reads and renders selections. Each request of the page runs as an asyncio Task keyed by the
page's request id, so the page can cancel it; its fetches carry the request's AbortSignal.

Results are numpy arrays the worker copies out once (`getBuffer().data.slice()`) and transfers (see
`transferable` for the mapping of dtypes); metadata cross as JSON text (see `json_text` for the values
JSON cannot carry). Pyodide only, except the two mappings, which are pure.
"""

from __future__ import annotations

import asyncio
import json
import math
import time

import numpy as np

from .errors import ZarrliteError
from .readability import browser_problems

MAX_TREE_NODES = 5000
MAX_SAFE_INTEGER = 2**53 - 1   # beyond it a JS number is not exact
DRAIN_SECONDS = 0.004          # longest run of asyncio callbacks before browser events get a turn
TAG = "$zarrlite"              # marks a value JSON cannot carry (revived by web/protocol.js reviveJSON)


class Session:
    """What one worker holds: the open source (`open_source` replaces it), the nodes reached so far,
    and the requests running."""

    OPS = ("open_source", "read", "render", "viewer")

    def __init__(self):
        from .codecs import browser as browser_codecs

        self.root = self.store = None
        self.nodes: dict = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self.progress: dict = {}     # long viewer calls' progress, by the page's token (projection.py)
        self.codecs = browser_codecs.register()
        self.loop_batching = batch_call_soon(asyncio.get_event_loop())

    # -- requests ---------------------------------------------------------------------------------
    def start(self, request_id: int, op: str, *args) -> asyncio.Task:
        """Run `op` (one of OPS) as a Task that `cancel(request_id)` cancels: the cancellation reaches
        every read the Task awaits, and a fetch whose read is cancelled is aborted (browser_fetch.py)."""
        if op not in self.OPS:
            raise ZarrliteError(f"no operation {op!r} (one of {', '.join(self.OPS)})")
        task = asyncio.ensure_future(getattr(self, op)(*args))
        self.tasks[request_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(request_id, None))
        return task

    def cancel(self, request_id: int) -> bool:
        """Cancel a running request (the page aborted it); False when it had already finished."""
        task = self.tasks.get(request_id)
        return task is not None and task.cancel()

    def stats(self) -> str:
        """JSON: the event loop's callback batching (None when it is off), requests running, and the keys
        of the open source refused with 403 and read as missing ({count, keys}; None if not HTTP)."""
        forbidden = getattr(self.store, "forbidden", None)
        return json_text({"loop": self.loop_batching, "running": len(self.tasks),
                          "forbidden": forbidden.summary() if forbidden is not None else None})

    # -- the open source --------------------------------------------------------------------------
    async def open_source(self, source) -> str:
        """Open a JS source (see web/protocol.js) and return its tree as JSON."""
        from . import open_async  # the core's public entry point
        from .stores.browser import store_from_source  # Pyodide only

        store = store_from_source(source)
        root = await open_async(store)
        self.root, self.nodes, self.store = root, {"": root}, store
        return json_text(await self.describe(root, "", [0]))

    async def node(self, path: str):
        """The array or group at `path`, opened from the root as `group["a/b"]` is (so a middle group
        without metadata of its own, allowed in N5, does not stop it)."""
        path = (path or "").strip("/")
        if self.root is None:
            raise ZarrliteError("nothing is open: call open() first")
        if path not in self.nodes:
            if not hasattr(self.root, "get_child"):
                raise ZarrliteError(f"the source is an array: {path!r} is not inside it")
            self.nodes[path] = await self.root.get_child(path)
        return self.nodes[path]

    async def describe(self, node, path: str, count: list[int] | None = None) -> dict:
        """The tree entry of `node` (see `describe_node`); the nodes opened are kept for later reads."""
        return await describe_node(node, path, self.nodes, count)

    # -- reads --------------------------------------------------------------------------------------
    async def read(self, path: str, selection: str):
        """(ndarray ready for getBuffer, its dtype.str, the array's own dtype.str, None); values with no
        typed array (strings, datetimes, structured: packed.py) as (uint8 buffer, their kind, the array's
        dtype.str, layout JSON)."""
        from .indexing import parse_selection
        from .packed import pack, value_kind

        arr = await self.node(path)
        if not hasattr(arr, "get"):
            raise ZarrliteError(f"{path!r} is a group, not an array")
        data = np.asarray(await arr.get(parse_selection(selection)))
        if value_kind(data.dtype) != "typed":
            buf, layout = pack(data)
            return buf, layout["kind"], np.dtype(arr.dtype).str, json_text(layout)
        out = transferable(data)
        return out, out.dtype.str, np.dtype(arr.dtype).str, None

    async def render(self, path: str, selection: str, options_json: str) -> np.ndarray:
        """RGBA uint8 (H, W, 4) of a 2-D selection (channels x 2-D with `channels`)."""
        from .indexing import parse_selection
        from .render import render as render_rgba

        options = json.loads(options_json or "{}")
        arr = await self.node(path)
        data = np.asarray(await arr.get(parse_selection(selection)))
        return render_rgba(data, window=options.get("window", "auto"), colormap=options.get("colormap", "gray"),
                           invert=bool(options.get("invert", False)), channels=options.get("channels"),
                           channel_axis=int(options.get("channelAxis", 0)))

    async def viewer(self, fn: str, args_json: str):
        """A helper of zarrlite.viewer_api (the viewer page's extras) on this session's source."""
        from . import viewer_api

        return await viewer_api.call(fn, args_json, self)


async def describe_node(node, path: str, nodes: dict, count: list[int] | None = None) -> dict:
    """The tree entry of `node` (web/protocol.js `Node`); a group's members are described too, up to
    MAX_TREE_NODES in all (`count` carries the running total), each opened node put in `nodes` by path.
    A member that cannot be opened is an entry of kind "error" with its error's name and message, and
    the rest of the tree is still described (asked for again, it is opened again and fails again)."""
    from .packed import read_dtype
    from .tables import is_table

    count = [0] if count is None else count
    count[0] += 1
    info = {"path": path, "name": path.rsplit("/", 1)[-1], "format": getattr(node, "format", None),
            "attrs": dict(getattr(node, "attrs", {}) or {})}
    if hasattr(node, "shape") and hasattr(node, "dtype"):
        dtype = np.dtype(node.dtype)
        info.update(kind="array", shape=list(node.shape), dtype=dtype.str, chunks=list(node.chunks),
                    fill_value=getattr(node, "fill_value", None), shards=getattr(node, "shards", None),
                    codecs=getattr(node, "codecs", []), outDtype=read_dtype(dtype))
        info["table"] = is_table(dtype)  # the viewer shows its values as a table, not an image
        problems = await browser_problems(node)   # what stops this page reading it (zarrlite check's reasons)
        if problems:
            info["problems"] = problems
        return info
    info.update(kind="group", children=[])
    names = await node.members()
    if len(names) + count[0] > MAX_TREE_NODES:
        names, info["truncated"] = names[:max(MAX_TREE_NODES - count[0], 0)], True
    for name, child in await node.children(names):
        child_path = f"{path}/{name}" if path else name
        if isinstance(child, ZarrliteError):
            count[0] += 1
            info["children"].append({"path": child_path, "name": name, "format": None, "attrs": {}, "kind": "error",
                                     "error": {"name": type(child).__name__, "message": str(child)}})
            continue
        nodes[child_path] = child
        info["children"].append(await describe_node(child, child_path, nodes, count))
    return info


def batch_call_soon(loop) -> dict | None:
    """Run the callbacks that `loop.call_soon` queues in one browser task instead of one each, and
    return the counters of that ({"drains", "callbacks"}; None when Pyodide lacks what it needs, in
    which case the loop is left as it is and the counters say so).

    Pyodide's WebLoop sends every `call_soon` through its own JS callback and MessageChannel (~0.2 ms
    each, and a chunk read wakes tasks about ten times): a plane of 16 chunks spent more time there
    than in decoding. Here ready callbacks wait in a deque, FIFO as in asyncio, and one scheduled drain
    runs them and those they queue, FIFO, until none is left or DRAIN_SECONDS have passed (a chain such
    as task done -> shield -> the awaiting task then costs one browser task, not three); what is left
    runs in the next drain, so the browser's own events (fetch replies, messages) still interleave. It relies on Pyodide's internal
    `_api.scheduleCallback` (tests/browser/test_read.py notices when that goes or batching stops)."""
    if hasattr(loop, "zarrlite_batching"):
        return loop.zarrlite_batching
    from collections import deque

    from pyodide.ffi import create_once_callable

    try:
        from pyodide_js._api import scheduleCallback
    except ImportError:
        import js

        js.console.warn("zarrlite: this Pyodide lacks _api.scheduleCallback; event-loop callbacks are not batched")
        loop.zarrlite_batching = None
        return None

    ready = deque()
    counts = {"drains": 0, "callbacks": 0}
    scheduled = [False]

    def drain():
        counts["drains"] += 1
        stop = time.perf_counter() + DRAIN_SECONDS
        while ready:
            handle = ready.popleft()
            if not handle.cancelled():
                counts["callbacks"] += 1
                handle._run()  # asyncio.Handle reports a callback's exception to the loop's handler
            if time.perf_counter() > stop:
                break
        scheduled[0] = False
        if ready:
            schedule()

    def schedule():
        scheduled[0] = True
        scheduleCallback(create_once_callable(drain, _may_syncify=True), 0)

    def call_soon(callback, *args, context=None):
        handle = asyncio.Handle(callback, args, loop, context=context)
        ready.append(handle)
        if not scheduled[0]:
            schedule()
        return handle

    loop.call_soon = call_soon  # call_soon_threadsafe goes through it too
    loop.zarrlite_batching = counts
    return counts


# -- what crosses to JS -----------------------------------------------------------------------------
def output_dtype(dtype: np.dtype):
    """The dtype sent to JS (little-endian, one that has a TypedArray) and whether complex is split:
    bool -> uint8, float16 -> float32, complex -> its float parts, everything else little-endian."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.dtype("u1"), False
    if dtype.kind == "f" and dtype.itemsize == 2:
        return np.dtype("<f4"), False
    if dtype.kind == "c":
        return np.dtype(f"<f{dtype.itemsize // 2}"), True
    if dtype.kind in "iuf":
        return dtype.newbyteorder("<"), False
    raise ZarrliteError(f"dtype {dtype} has no JavaScript typed array")


def transferable(data: np.ndarray) -> np.ndarray:
    """`data` as JS receives it (see output_dtype), C-contiguous, with its own shape (a 0-d result
    stays 0-d; complex gains a trailing axis of 2: real, imaginary); no copy when already so."""
    out, split = output_dtype(data.dtype)
    if split:
        data = np.asarray(data, dtype=data.dtype.newbyteorder("<"), order="C")
        return data.reshape((1,) + data.shape).view(out).reshape(data.shape + (2,))
    if data.dtype.kind == "b":
        return np.asarray(data, order="C").view(np.uint8)
    return np.asarray(data, dtype=out, order="C")


def json_text(value) -> str:
    """JSON text of `value` for web/protocol.js `reviveJSON`: numpy scalars as numbers, bytes as hex,
    complex as [re, im], and what JSON cannot carry tagged `{"$zarrlite": kind, "value": text}`, kind
    "number" (NaN, Infinity, -Infinity) or "bigint" (integers beyond 2^53 - 1), so they arrive exact;
    a dict that holds the tag's key itself is sent as kind "object" with its [key, value] pairs."""
    return json.dumps(_tagged(value), allow_nan=False)


def _tagged(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return _tagged(value.item())
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INTEGER else {TAG: "bigint", "value": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {TAG: "number", "value": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, complex):
        return [_tagged(value.real), _tagged(value.imag)]
    if isinstance(value, dict):
        if TAG in value:
            return {TAG: "object", "value": [[str(k), _tagged(v)] for k, v in value.items()]}
        return {str(k): _tagged(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tagged(v) for v in value]
    if isinstance(value, np.ndarray):
        return _tagged(value.tolist())
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
