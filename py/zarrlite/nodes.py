"""Finding and parsing the metadata of a node: format detection, consolidated metadata, N5's groups
without metadata.

Detection is lenient where static hosts are: a host that answers a missing file with a web page (status
200) gives "metadata" that is not JSON. Such a document counts as absent when another document makes
the node (see `_usable`); when none does, the error says what each key held.
"""

from __future__ import annotations

import asyncio

from .array import Array
from .context import Context
from .errors import MetadataError, NotFoundError, ZarrliteError, in_context
from .formats import n5, zarr2, zarr3
from .formats.metadata import ArrayMetadata, GroupMetadata, expect_dict, load_json
from .group import Group
from .stores.keys import check_key, join_key

# The one place the probe order lives: formats in the order they win when a path holds metadata of
# several (only the root's format once it is known), each as rounds of keys asked together. A round is
# asked only while no document makes the node: v2's .zarray wins over .zgroup, so .zarray is always
# asked, with the .zattrs either kind needs; an array costs those two, and .zgroup is asked only where
# .zarray is missing (a group: three).
PROBES = (
    ("zarr3", ((zarr3.KEY,),)),
    ("zarr2", ((zarr2.ARRAY_KEY, zarr2.ATTRS_KEY), (zarr2.GROUP_KEY,))),
    ("n5", ((n5.KEY,),)),
)
FORMAT_OF = {key: fmt for fmt, rounds in PROBES for keys in rounds for key in keys}
# The documents that make a node by themselves (a .zattrs alone does not), in the order they win.
NODE_KEYS = (zarr3.KEY, zarr2.ARRAY_KEY, zarr2.GROUP_KEY, n5.KEY)
_CONSOLIDATED_V2 = {"array": zarr2.ARRAY_KEY, "group": zarr2.GROUP_KEY, "attrs": zarr2.ATTRS_KEY}


async def open_node(ctx: Context, path: str) -> Array | Group:
    path = check_key(path.strip("/"))
    docs, pages = await _read(ctx, path)
    node = parse_documents(ctx, path, docs)
    if node is None:
        raise NotFoundError(f"no array or group at '{path or '/'}' in {ctx.store!r}" + (
            f": the store answered {', '.join(pages)} with a web page, not metadata (a static host's "
            "'not found' page?)" if pages else ""))
    return node


async def read_documents(ctx: Context, path: str) -> dict:
    """The metadata documents of the node at `path` by key (`{"zarr.json": {...}}`), from consolidated
    metadata or the store; `{}` when there is no node. Below the root, a miss asks the root too: it may
    list the node in its consolidated metadata, or be an N5 root (where any directory is a group)."""
    return (await _read(ctx, path))[0]


async def _read(ctx: Context, path: str) -> tuple[dict, list[str]]:
    """(documents, the keys answered with a web page)."""
    docs, pages = _consolidated_entry(ctx, path), []
    if docs is None:
        docs, pages = await _fetch(ctx, path)
    if path and not has_node(docs):
        if ctx.consolidated is None:
            await _read_root(ctx)
            docs = _consolidated_entry(ctx, path) or docs
        if not has_node(docs) and ctx.format == "n5" and await _is_n5_directory(ctx, path):
            docs = {n5.KEY: {}}  # a group with no attributes
    ctx.documents[path] = docs
    return docs, pages


def has_node(docs: dict) -> bool:
    return any(k in docs for k in NODE_KEYS)


def _consolidated_entry(ctx: Context, path: str) -> dict | None:
    entry = ctx.consolidated.get(path) if ctx.consolidated is not None else None
    if entry is None or zarr3.KEY in entry:
        return entry
    return {_CONSOLIDATED_V2[k]: v for k, v in entry.items() if k in _CONSOLIDATED_V2}


async def _read_root(ctx: Context) -> None:
    """Read the root's metadata for what it tells of the nodes below (format, consolidated metadata)."""
    try:
        parse_documents(ctx, "", await read_documents(ctx, ""))
    except ZarrliteError:
        pass  # a broken root does not stop a node below it that has metadata of its own


async def _fetch(ctx: Context, path: str) -> tuple[dict, list[str]]:
    # One round of PROBES at a time until a document makes the node (none asked later could win over
    # it): a Zarr v3 node costs one request, not five of which four are 404s (which static hosts may
    # send without CORS headers, and every request costs a round trip).
    raw = {}
    rounds = [keys for fmt, rounds in PROBES if ctx.format in (None, fmt) for keys in rounds]
    for keys in rounds:
        values = await asyncio.gather(*(ctx.store.get(join_key(path, k)) for k in keys))
        raw.update({k: v for k, v in zip(keys, values) if v is not None})
        if any(k in raw and _is_object(raw[k]) for k in NODE_KEYS):
            break
    docs, pages = _usable(path, raw)
    if not path and ctx.consolidated is None and zarr2.GROUP_KEY in docs:
        raw = await ctx.store.get(zarr2.CONSOLIDATED_KEY)
        if raw is not None and not looks_like_markup(raw):
            ctx.consolidated = zarr2.parse_consolidated(raw, f"'{zarr2.CONSOLIDATED_KEY}'")
            ctx.format = "zarr2"
    return docs, pages


def _is_object(raw) -> bool:
    try:
        return isinstance(load_json(raw, ""), dict)
    except MetadataError:
        return False


def looks_like_markup(raw) -> bool:
    """A web page (HTML, XML) where metadata was asked for: JSON never starts with '<'."""
    return bytes(raw[:64]).lstrip()[:1] == b"<"


def _usable(path: str, raw: dict) -> tuple[dict, list[str]]:
    """(the documents of `raw` that parse as JSON objects, the keys answered with a web page). One that
    does not parse counts as absent when another format's document makes the node, or when it is a web
    page (then it is as good as missing); otherwise the error says what each key held."""
    docs, bad = {}, {}
    for key, value in raw.items():
        where = f"'{join_key(path, key)}'"
        try:
            docs[key] = expect_dict(load_json(value, where), where)
        except MetadataError as err:
            bad[key] = (value, err)
    node_formats = {FORMAT_OF[k] for k in docs if k in NODE_KEYS}
    if node_formats:
        for key, (value, err) in bad.items():
            if FORMAT_OF[key] in node_formats and not looks_like_markup(value):
                raise err  # a broken companion of the node's own format (a .zattrs cut short)
        return docs, []
    pages = [key for key, (value, _) in bad.items() if looks_like_markup(value)]
    if len(pages) == len(bad):
        return docs, pages
    if len(bad) == 1:
        raise next(iter(bad.values()))[1]
    found = "; ".join(f"{key}: {'a web page' if looks_like_markup(v) else err}" for key, (v, err) in bad.items())
    raise MetadataError(f"no readable metadata at '{path or '/'}': {found}")


async def _is_n5_directory(ctx: Context, path: str) -> bool:
    """In an N5 root any directory is a group, except those inside a dataset (its blocks)."""
    listed = await ctx.store.list(path)
    if listed is not None and not listed:
        return False  # nothing there, or a file; a store that cannot list (HTTP) cannot tell: a group
    parts = path.split("/")
    parents = ["/".join(parts[:i]) for i in range(len(parts))]
    values = await asyncio.gather(*(ctx.store.get(join_key(p, n5.KEY)) for p in parents))
    # (a parent whose attributes.json does not parse is taken for no dataset: its own open says why)
    return not any(value is not None and _is_object(value) and n5.is_dataset(load_json(value, ""))
                   for value in values)


def parse_documents(ctx: Context, path: str, docs: dict) -> Array | Group | None:
    """The node the documents describe (None: they describe none). Errors name the node."""
    key = next((k for k in NODE_KEYS if k in docs), None)
    if key is None:
        return None
    where = f"'{path or '/'}'"
    try:
        meta = _parse(ctx, path, key, docs, f"{where} {key}")
    except ZarrliteError as err:
        raise in_context(err, f"{node_kind(key, docs[key])} {where} ({key})", named=where) from err
    if ctx.format is None:
        ctx.format = FORMAT_OF[key]
    if isinstance(meta, ArrayMetadata):
        return Array(ctx, path, meta)
    return Group(ctx, path, meta, open_node)


def node_kind(key: str, doc) -> str:
    """"array", "group" or "node" (not said), from the document that makes the node."""
    if key == zarr2.ARRAY_KEY:
        return "array"
    if key == zarr2.GROUP_KEY:
        return "group"
    if key == zarr3.KEY:
        kind = doc.get("node_type") if isinstance(doc, dict) else None
        return kind if kind in ("array", "group") else "node"
    return "array" if isinstance(doc, dict) and n5.is_dataset(doc) else "group"


def _parse(ctx: Context, path: str, key: str, docs: dict, where: str):
    if key == zarr3.KEY:
        meta = zarr3.parse_node(docs[key], where)
        if not path and not ctx.consolidated and isinstance(meta, GroupMetadata) and meta.consolidated:
            ctx.consolidated = {join_key(path, p): d for p, d in meta.consolidated.items()}
        return meta
    if key == zarr2.ARRAY_KEY:
        return zarr2.parse_array(docs[key], docs.get(zarr2.ATTRS_KEY), where)
    if key == zarr2.GROUP_KEY:
        return zarr2.parse_group(docs[key], docs.get(zarr2.ATTRS_KEY), where)
    return n5.parse_node(docs[key], where)
