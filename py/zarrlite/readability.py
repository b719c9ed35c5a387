"""`zarrlite check`: whether each array of a hierarchy can be read, in this Python and in the browser
runtime, and if not exactly why: from metadata only (the same parsers that open nodes, and the codec
availability table), plus, where the store can list, the names of the chunk files (chunk keys of the
other separator read silently as the fill value). The CLI prints it, `zarrlite.check(...)` returns
it, and the viewer's tree marks what the page cannot read (`browser_problems`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from .codecs import availability
from .context import Context
from .errors import CodecError, ZarrliteError
from .formats import dtypes, n5, zarr2, zarr3
from .nodes import NODE_KEYS, node_kind, open_node, parse_documents, read_documents
from .stores.keys import check_key, join_key

RUNTIMES = ("python", "browser")   # this Python (whichever it is), and the zarrlite site's Pyodide
_METADATA_NAMES = {zarr3.KEY, zarr2.ARRAY_KEY, zarr2.GROUP_KEY, zarr2.ATTRS_KEY, zarr2.CONSOLIDATED_KEY, n5.KEY}


@dataclass(frozen=True)
class Problem:
    """Why a runtime cannot read a node: `kind` is "data type", "chunk grid", "extension" (an unknown field
    that must be understood), "codec", "chunk keys", or "metadata" (unreadable or invalid otherwise)."""
    kind: str
    message: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class NodeCheck:
    path: str
    kind: str                    # "array", "group" or "node" (its metadata does not say)
    format: str | None
    summary: str = ""            # shape, dtype, chunks and codecs of an array
    problems: dict = field(default_factory=dict)   # runtime -> tuple of Problem (empty: readable)

    def readable(self, runtime: str) -> bool:
        return not self.problems.get(runtime)

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "format": self.format, "summary": self.summary,
                "readable": {r: self.readable(r) for r in RUNTIMES},
                "problems": {r: [p.as_dict() for p in self.problems.get(r, ())] for r in RUNTIMES}}


@dataclass(frozen=True)
class CheckReport:
    source: str
    nodes: tuple

    @property
    def readable(self) -> bool:
        """True when every node is readable in every runtime."""
        return self.readable_in(*RUNTIMES)

    def readable_in(self, *runtimes: str) -> bool:
        """True when every node is readable in each of `runtimes` ("python", "browser")."""
        return all(n.readable(r) for n in self.nodes for r in runtimes)

    def as_dict(self) -> dict:
        arrays = [n for n in self.nodes if n.kind != "group"]
        return {"source": self.source, "readable": self.readable, "nodes": [n.as_dict() for n in self.nodes],
                "unreadable": {r: sum(not n.readable(r) for n in self.nodes) for r in RUNTIMES},
                "arrays": len(arrays)}

    def text(self) -> str:
        lines = []
        for n in self.nodes:
            head = f"/{n.path}" + ("/" if n.kind == "group" and n.path else "")
            what = f"{n.format or '?'} {n.kind}" + (f"  {n.summary}" if n.summary else "")
            if all(n.readable(r) for r in RUNTIMES):
                lines.append(f"{head}  {what}  ok")
                continue
            lines.append(f"{head}  {what}")
            verdicts = {r: "readable" if n.readable(r) else "NOT readable: " + "; ".join(
                f"{p.kind}: {p.message}" for p in n.problems[r]) for r in RUNTIMES}
            if len(set(verdicts.values())) == 1:
                lines.append(f"    {' and '.join(RUNTIMES)}: {verdicts[RUNTIMES[0]]}")
            else:
                lines += [f"    {r + ':':<9}{verdicts[r]}" for r in RUNTIMES]
        counts = self.as_dict()["unreadable"]
        arrays = sum(n.kind != "group" for n in self.nodes)
        lines.append(f"{arrays} array{'s' if arrays != 1 else ''} and "
                     f"{len(self.nodes) - arrays} group{'s' if len(self.nodes) - arrays != 1 else ''} checked; "
                     + ", ".join(f"{counts[r]} unreadable in {'this Python' if r == 'python' else 'the browser'}"
                                 for r in RUNTIMES))
        return "\n".join(lines)


async def check_async(source, path: str = "", **options) -> CheckReport:
    """Check the node at `path` in `source` and everything below it (options as `zarrlite.open`)."""
    from .stores import store_for

    settings = {k: options.pop(k) for k in ("max_bytes", "concurrency") if k in options}
    store = store_for(source, cache_bytes=options.pop("cache_bytes", 256 << 20), **options)
    ctx = Context(store=store, **settings)
    nodes: list[NodeCheck] = []
    await _walk(ctx, check_key(path.strip("/")), nodes, top=True)
    return CheckReport(str(source), tuple(sorted(nodes, key=lambda n: n.path)))


async def _walk(ctx: Context, path: str, out: list, top: bool = False) -> None:
    report, node = await check_node(ctx, path, top)
    out.append(report)
    if node is not None and not hasattr(node, "shape"):
        names = await node.members()
        await asyncio.gather(*(_walk(ctx, join_key(path, name), out) for name in names))


async def check_node(ctx: Context, path: str, top: bool = False):
    """(NodeCheck, the opened node or None) for the node at `path`."""
    here = availability.current_runtime()
    try:
        docs = await read_documents(ctx, path)
    except ZarrliteError as err:
        same = (Problem("metadata", str(err)),)
        return NodeCheck(path, "node", None, problems={r: same for r in RUNTIMES}), None
    key = next((k for k in NODE_KEYS if k in docs), None)
    if key is None:
        if top:
            await open_node(ctx, path)  # raises NotFoundError, saying what the store answered
        none = (Problem("metadata", "no metadata"),)
        return NodeCheck(path, "node", None, problems={r: none for r in RUNTIMES}), None
    kind = node_kind(key, docs[key])
    fmt = {zarr3.KEY: "zarr3", n5.KEY: "n5"}.get(key, "zarr2")
    try:
        node = parse_documents(ctx, path, docs)
    except CodecError as err:
        python = (Problem("codec", str(err)),)
        configs = codec_configs(key, docs)
        # Readable in the browser only when the table says so and explains the failure here (a package
        # CPython lacks); otherwise nothing shows that the browser gets further.
        missing_here = here != availability.BROWSER and _codec_problems(configs, here)
        browser = () if missing_here and not _codec_problems(configs, availability.BROWSER) else python
        return NodeCheck(path, kind, fmt, problems={"python": python, "browser": browser}), None
    except ZarrliteError as err:  # the same Python parses the same way in every runtime
        same = (Problem(metadata_kind(key, docs[key]), str(err)),)
        return NodeCheck(path, kind, fmt, problems={r: same for r in RUNTIMES}), None
    if not hasattr(node, "shape"):
        return NodeCheck(path, "group", fmt, problems={r: () for r in RUNTIMES}), node
    keys = await chunk_key_problems(node)
    python = _codec_problems(codec_configs(key, docs, node), here) + keys
    browser = _codec_problems(codec_configs(key, docs, node), availability.BROWSER) + keys
    return NodeCheck(path, "array", fmt, _summary(node), {"python": python, "browser": browser}), node


async def browser_problems(arr) -> list[dict]:
    """What stops the browser runtime reading an opened array (the viewer's tree marks): [{kind, message}].
    Chunk files are listed only for sources that are not URLs (dropped folders, .zip files): a bucket
    lists over the network, page by page of chunk keys, and the tree does not pay that for every array."""
    docs = arr.context.documents.get(arr.path) or await read_documents(arr.context, arr.path)
    key = next((k for k in NODE_KEYS if k in docs), None)
    problems = _codec_problems(codec_configs(key, docs, arr), availability.BROWSER) if key else ()
    if getattr(arr.store, "url", None) is None:   # every store of a URL source has its url
        problems += await chunk_key_problems(arr)
    return [p.as_dict() for p in problems]


def metadata_kind(key: str, doc) -> str:
    """What stops metadata that parses as JSON, asked of the format's parsers part by part: "data type",
    "chunk grid", "extension" (a field that must be understood and is not) or "metadata" (anything else)."""
    if not isinstance(doc, dict):
        return "metadata"
    if key == zarr3.KEY and doc.get("node_type") == "array":
        shape = doc.get("shape")
        if "data_type" in doc and _fails(dtypes.v3_data_type, doc["data_type"], ""):
            return "data type"
        if isinstance(shape, list) and "chunk_grid" in doc and _fails(zarr3.parse_chunk_grid, doc["chunk_grid"],
                                                                      tuple(shape), ""):
            return "chunk grid"
        if not _fails(zarr3.parse_array, doc, ""):
            return "extension"  # the array parses: only the check of its fields refused it
    if key == zarr2.ARRAY_KEY and doc.get("dtype") != "|O" and _fails(dtypes.v2_dtype, doc.get("dtype"), None, ""):
        return "data type"  # (an object dtype is parsed with its object codec: not asked alone)
    return "metadata"


def _fails(parse, *args) -> bool:
    try:
        parse(*args)
    except ZarrliteError:
        return True
    return False


def _summary(arr) -> str:
    text = f"{arr.shape} {arr.dtype} chunks={arr.chunks}"
    return text + (f" shards={arr.shards}" if arr.shards else "") + f" [{', '.join(arr.codecs)}]"


def _codec_problems(configs, runtime: str) -> tuple:
    reasons = (availability.unreadable(cid, conf, runtime) for cid, conf in configs)
    return tuple(dict.fromkeys(Problem("codec", r) for r in reasons if r))


def codec_configs(key: str, docs: dict, node=None) -> list[tuple[str, dict]]:
    """(codec id, config) of every codec the node's metadata names, in the ids availability knows: zarr v3
    names (inside sharding too), zarr v2 filter and compressor ids, and for N5 the compressor as parsed."""
    doc = docs.get(key)
    if key == zarr3.KEY and isinstance(doc, dict):
        return list(_v3_codecs(doc.get("codecs")))
    if key == zarr2.ARRAY_KEY and isinstance(doc, dict):
        entries = [*(doc.get("filters") or []), doc.get("compressor")]
        return [(e["id"], e) for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]
    if key == n5.KEY and node is not None:
        compressor = getattr(node.meta.pipeline.array_bytes, "compressor", None)
        return [] if compressor is None else [(getattr(compressor, "name", ""), {})]
    return []


def _v3_codecs(codecs):
    for entry in codecs if isinstance(codecs, list) else []:
        entry = {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        conf = entry.get("configuration") if isinstance(entry.get("configuration"), dict) else {}
        yield entry["name"], conf
        if entry["name"] == "sharding_indexed":
            yield from _v3_codecs(conf.get("codecs"))
            yield from _v3_codecs(conf.get("index_codecs"))


async def chunk_key_problems(arr) -> tuple:
    """Chunk files named with the other separator than the metadata's ('0/0' files where it says '0.0',
    a v2 array written nested with no `dimension_separator`): found by listing the array's directory, where
    the store can list. Such chunks would read as the fill value."""
    if arr.format == "n5" or not arr.shape:
        return ()
    parts = arr.meta.chunk_key((0,) * arr.ndim).split("/")
    sep = "/" if len(parts) > 1 else "." if "." in parts[0] else None
    if sep is None:
        return ()   # one dimension with no prefix: both separators name the same files
    parts = parts if sep == "/" else parts[0].split(".")
    other = "." if sep == "/" else "/"
    listed = await arr.store.list(arr.path)
    if not listed:
        return ()
    names = [n for n in listed if n not in _METADATA_NAMES]
    if any(_top_pattern(parts, sep).fullmatch(n) for n in names):
        return ()
    found = next((n for n in names if _top_pattern(parts, other).fullmatch(n)), None)
    if found is None or (other == "/" and not await arr.store.list(join_key(arr.path, found))):
        return ()
    declared, stored = sep.join(parts), other.join(parts)
    hint = ""
    if arr.format == "zarr2":
        hint = f"; .zarray needs \"dimension_separator\": \"{other}\""
    return (Problem("chunk keys", f"chunks are stored as '{stored}' but the metadata names them "
                                  f"'{declared}': they would read as the fill value{hint}"),)


def _top_pattern(parts, sep: str) -> re.Pattern:
    """What the first path component of a chunk key looks like: `c`, `\\d+`, or `c.\\d+.\\d+` and so on."""
    pats = ["c" if p == "c" else r"\d+" for p in parts]
    return re.compile(pats[0] if sep == "/" else r"\.".join(pats))
