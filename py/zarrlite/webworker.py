"""The Python half of web/worker.js: open a browser source, describe its tree, read and render
selections. Results are numpy arrays the worker copies out once (`getBuffer().data.slice()`) and
transfers; metadata cross as JSON text. Pyodide only.

One source is open at a time per worker (`open_source` replaces it).
"""

from __future__ import annotations

import asyncio
import json
import math

import numpy as np

from .codecs import browser as browser_codecs
from .errors import ZarrliteError
from .render import render as render_rgba

MAX_TREE_NODES = 5000

_state = {"store": None, "root": None, "nodes": {}}


def setup() -> list[str]:
    """Register the browser codecs the runtime lacks and batch the event loop's callbacks (called once
    by the worker)."""
    batch_call_soon(asyncio.get_event_loop())
    return browser_codecs.register()


def batch_call_soon(loop) -> None:
    """Run the callbacks that `loop.call_soon` queues in one browser task instead of one each.

    Pyodide's WebLoop sends every `call_soon` through its own JS callback and MessageChannel (~0.2 ms
    each, and a chunk read wakes tasks about ten times): a plane of 16 chunks spent more time there
    than in decoding. Here ready callbacks wait in a deque, FIFO as in asyncio, and one scheduled drain
    runs those queued before it started; callbacks they queue run in the next drain, so the browser's
    own events (fetch replies, messages) still interleave."""
    if getattr(loop, "_zarrlite_batched", False):
        return
    from collections import deque

    from pyodide.ffi import create_once_callable
    from pyodide_js._api import scheduleCallback

    ready = deque()
    scheduled = [False]

    def drain():
        scheduled[0] = False
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle.cancelled():
                handle._run()  # asyncio.Handle reports a callback's exception to the loop's handler
        if ready and not scheduled[0]:
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
    loop._zarrlite_batched = True


async def open_source(source) -> str:
    """Open a JS source (see web/protocol.js) and return its tree as JSON."""
    from . import open_async  # the core's public entry point
    from .stores.browser import store_from_source  # Pyodide only

    store = store_from_source(source)
    root = await open_async(store)
    _state.update(store=store, root=root, nodes={"": root})
    count = [0]
    return json.dumps(await _describe(root, "", count), default=_json_default, allow_nan=False)



async def _describe(node, path, count):
    count[0] += 1
    info = {"path": path, "name": path.rsplit("/", 1)[-1], "format": getattr(node, "format", None),
            "attrs": _jsonable(dict(getattr(node, "attrs", {}) or {}))}
    if hasattr(node, "shape") and hasattr(node, "dtype"):
        dtype = np.dtype(node.dtype)
        info.update(kind="array", shape=list(node.shape), dtype=dtype.str, chunks=list(node.chunks),
                    fill_value=_jsonable(getattr(node, "fill_value", None)),
                    shards=_jsonable(getattr(node, "shards", None)), codecs=_jsonable(getattr(node, "codecs", [])),
                    outDtype=output_dtype(dtype)[0].str)
        return info
    info.update(kind="group", children=[])
    names = await node.members()
    if len(names) + count[0] > MAX_TREE_NODES:
        names, info["truncated"] = names[:max(MAX_TREE_NODES - count[0], 0)], True
    paths = [f"{path}/{name}" if path else name for name in names]
    children = await asyncio.gather(*(node.get_child(name) for name in names))
    for child_path, child in zip(paths, children):
        _state["nodes"][child_path] = child
        info["children"].append(await _describe(child, child_path, count))
    return info


async def _node(path: str):
    path = (path or "").strip("/")
    nodes = _state["nodes"]
    if _state["root"] is None:
        raise ZarrliteError("nothing is open: call open() first")
    if path not in nodes:
        parent, _, name = path.rpartition("/")
        group = await _node(parent)
        if not hasattr(group, "get_child"):
            raise ZarrliteError(f"{parent!r} is an array, not a group")
        nodes[path] = await group.get_child(name)
    return nodes[path]


def output_dtype(dtype: np.dtype):
    """The dtype sent to JS (native order, one that has a TypedArray) and whether complex is split."""
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


def to_transferable(data: np.ndarray) -> np.ndarray:
    """C-contiguous, little-endian, TypedArray-compatible (see output_dtype); no copy when already so."""
    out, split = output_dtype(data.dtype)
    if split:
        data = np.ascontiguousarray(data.astype(data.dtype.newbyteorder("<"), copy=False))
        data = data.view(out).reshape(data.shape + (2,))
    elif data.dtype.kind == "b":
        data = data.view(np.uint8)
    else:
        data = data.astype(out, copy=False)
    return np.ascontiguousarray(data)


def parse_selection(text: str):
    from .indexing import parse_selection as parse

    return parse(text)


async def read(path: str, selection: str):
    """(ndarray ready for getBuffer, its dtype.str, the array's own dtype.str)."""
    arr = await _node(path)
    if not hasattr(arr, "get"):
        raise ZarrliteError(f"{path!r} is a group, not an array")
    out = to_transferable(np.asarray(await arr.get(parse_selection(selection))))
    return out, out.dtype.str, np.dtype(arr.dtype).str


async def render(path: str, selection: str, options_json: str) -> np.ndarray:
    """RGBA uint8 (H, W, 4) of a 2-D selection (channels x 2-D with `channels`)."""
    options = json.loads(options_json or "{}")
    arr = await _node(path)
    data = np.asarray(await arr.get(parse_selection(selection)))
    window = options.get("window", "auto")
    return render_rgba(data, window=window, colormap=options.get("colormap", "gray"),
                       invert=bool(options.get("invert", False)), channels=options.get("channels"),
                       channel_axis=int(options.get("channelAxis", 0)))


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no such numbers
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, complex):
        return [_jsonable(value.real), _jsonable(value.imag)]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _json_default(value):
    converted = _jsonable(value)
    return str(value) if converted is value else converted
