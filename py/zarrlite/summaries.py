"""HTML summaries of arrays and groups for notebooks (Jupyter, JupyterLite): a metadata table and a
thumbnail. Reading a thumbnail is I/O: where the runtime cannot block (Pyodide without JSPI), the summary
leaves the thumbnail out and says which `await` form shows it."""

from __future__ import annotations

import html
import json
import math

from .errors import SyncUnavailableError, ZarrliteError
from .indexing import count_chunks, normalize_selection
from .inline import Shown, async_hint
from .model import find_multiscale
from .png import img_tag
from .runtime import IN_PYODIDE, run_sync

THUMBNAIL_SIZE = 128          # longest side of a summary's thumbnail, in pixels
# Most decoded bytes a thumbnail may read; bigger planes get no thumbnail rather than a slow repr.
THUMBNAIL_BUDGET = (16 << 20) if IN_PYODIDE else (64 << 20)
MAX_ATTRS_CHARS = 2000
MAX_MEMBERS = 200

_CSS = ("font:13px/1.4 -apple-system,BlinkMacSystemFont,'Segoe UI',sans-serif;border-collapse:collapse;"
        "margin:2px 0;text-align:left")
_TH = "text-align:left;padding:1px 10px 1px 0;color:#555;font-weight:600;vertical-align:top"
_TD = "text-align:left;padding:1px 10px 1px 0;font-family:monospace;vertical-align:top"
_CELL = "text-align:left;vertical-align:top;padding:0"


def _rows(pairs) -> str:
    return "".join(f'<tr><th style="{_TH}">{html.escape(k)}</th><td style="{_TD}">{v}</td></tr>'
                   for k, v in pairs)


def _code(value) -> str:
    return html.escape(str(value))


def _attrs_html(attrs) -> str:
    if not attrs:
        return "<i>none</i>"
    try:
        text = json.dumps(attrs, indent=1, default=str)
    except (TypeError, ValueError):
        text = repr(attrs)
    if len(text) > MAX_ATTRS_CHARS:
        text = text[:MAX_ATTRS_CHARS] + "\n…"
    return (f'<details><summary>{len(attrs)} key{"s" if len(attrs) != 1 else ""}: '
            f'{html.escape(", ".join(map(str, list(attrs)[:8])))}{", …" if len(attrs) > 8 else ""}</summary>'
            f'<pre style="margin:0;max-height:20em;overflow:auto">{html.escape(text)}</pre></details>')



def _decoded_bytes(arr, selection) -> int:
    """Decoded bytes of the chunks a selection touches (what reading it costs)."""
    dims = normalize_selection(selection, arr.shape)
    return count_chunks(dims, arr.chunks) * math.prod(arr.chunks) * arr.dtype.itemsize



def array_rows(arr) -> list[tuple[str, str]]:
    rows = [("format", _code(arr.format)), ("shape", _code(arr.shape)), ("dtype", _code(arr.dtype)),
            ("chunks", _code(arr.chunks))]
    if getattr(arr, "shards", None):
        rows.append(("shards", _code(arr.shards)))
    if getattr(arr, "dimension_names", None):
        rows.append(("dimensions", _code(", ".join(str(d) for d in arr.dimension_names))))
    rows += [("codecs", _code(", ".join(arr.codecs) or "none")), ("fill value", _code(arr.fill_value)),
             ("size", _code(f"{arr.nbytes:,} bytes"))]
    return rows


async def thumbnail_async(node, size: int = THUMBNAIL_SIZE, budget: int = THUMBNAIL_BUDGET):
    """(png, caption) of a small view of an array or a multiscale group, or (None, reason)."""
    shown = Shown(node, max_size=size)
    if hasattr(node, "shape"):
        if node.ndim < 2:
            return None, "no thumbnail for fewer than 2 dimensions"
        if node.dtype.kind not in "biufc":
            return None, f"no thumbnail for dtype {node.dtype}"
    elif await find_multiscale(node) is None:
        return None, ""
    arr, sel = await shown.target()
    if min(arr.shape[d] for d in (-2, -1)) == 0:
        return None, ""
    cost = _decoded_bytes(arr, sel)
    if cost > budget:
        return None, (f"no thumbnail: the plane spans {cost:,} decoded bytes of chunks "
                      f"(more than {budget:,}); use zarrlite.show(...) with a selection")
    await shown.load()
    return shown.png, shown.caption()


def _with_thumbnail(node, table: str, kind: str) -> str:
    try:
        png, caption = run_sync(thumbnail_async(node), "await zarrlite.notebook.summary(node)")
    except SyncUnavailableError:
        png, caption = None, None
    except ZarrliteError as e:
        png, caption = None, f"no thumbnail: {e}"
    if png is not None:
        side = f'<td style="{_CELL};padding-left:12px">{img_tag(png, caption, THUMBNAIL_SIZE * 2)}</td>'
    elif caption is None:
        side = f'<td style="{_CELL};padding-left:12px">{async_hint("await zarrlite.show(node)")}</td>'
    elif caption:
        side = f'<td style="{_CELL};padding-left:12px;font:12px monospace;color:#777">' \
               f'{html.escape(caption)}</td>'
    else:
        side = ""
    return f'<div class="zarrlite-{kind}"><table style="{_CSS}"><tr><td style="{_CELL}">' \
           f'{table}</td>{side}</tr></table></div>'


def array_html(arr) -> str:
    """The HTML summary of an Array (for `Array._repr_html_`): metadata table and a thumbnail."""
    title = f"<b>zarrlite.Array</b> <code>/{html.escape(arr.path)}</code>"
    table = f'{title}<table style="{_CSS}">{_rows(array_rows(arr) + [("attrs", _attrs_html(arr.attrs))])}</table>'
    return _with_thumbnail(arr, table, "array")


async def _members_rows(group) -> list[tuple[str, str]]:
    names = await group.members()
    rows = []
    for name in names[:MAX_MEMBERS]:
        try:
            child = await group.get_child(name)
        except ZarrliteError as e:
            rows.append((name, f'<span style="color:#b00">{html.escape(str(e))}</span>'))
            continue
        if hasattr(child, "shape"):
            text = f"{child.shape} {child.dtype} chunks={child.chunks} [{', '.join(child.codecs)}]"
            rows.append((name, _code(text)))
        else:
            rows.append((name + "/", "<i>group</i>"))
    if len(names) > MAX_MEMBERS:
        rows.append(("…", _code(f"{len(names) - MAX_MEMBERS} more")))
    return rows


def group_html(group) -> str:
    """The HTML summary of a Group (for `Group._repr_html_`): attrs, members, multiscale thumbnail."""
    try:
        members = run_sync(_members_rows(group), "await group.members()")
    except SyncUnavailableError:
        members = [("members", async_hint("await zarrlite.notebook.summary(group)"))]
    except ZarrliteError as e:
        members = [("members", f'<span style="color:#b00">{html.escape(str(e))}</span>')]
    return _group_table(group, members, thumbnail=True)


def _group_table(group, members, thumbnail: bool) -> str:
    rows = [("format", _code(group.format))]
    ms = group.multiscale
    if ms is not None:
        axes = ", ".join(a.name for a in ms.axes)
        rows.append(("multiscale", _code(f"{len(ms.levels)} levels ({axes})" + (f" {ms.name}" if ms.name else ""))))
    rows.append(("attrs", _attrs_html(group.attrs)))
    title = f"<b>zarrlite.Group</b> <code>/{html.escape(group.path)}</code>"
    table = (f'{title}<table style="{_CSS}">{_rows(rows)}</table>'
             f'<table style="{_CSS};margin-left:12px">{_rows(members) if members else ""}</table>')
    if thumbnail and ms is not None:
        return _with_thumbnail(group, table, "group")
    return f'<div class="zarrlite-group">{table}</div>'


class Summary:
    """An HTML summary built with the async API (`await zarrlite.notebook.summary(node)`)."""

    def __init__(self, html_text: str):
        self.html = html_text

    def _repr_html_(self):
        return self.html


async def summary(node) -> Summary:
    """The rich summary of an Array or Group, read asynchronously (works in every runtime)."""
    png, caption = await thumbnail_async(node)
    if hasattr(node, "shape"):
        table = (f"<b>zarrlite.Array</b> <code>/{html.escape(node.path)}</code><table style=\"{_CSS}\">"
                 f"{_rows(array_rows(node) + [('attrs', _attrs_html(node.attrs))])}</table>")
    else:
        table = _group_table(node, await _members_rows(node), thumbnail=False)
    side = f'<td style="{_CELL};padding-left:12px">{img_tag(png, caption, THUMBNAIL_SIZE * 2)}</td>' \
        if png is not None else ""
    return Summary(f'<div class="zarrlite-summary"><table style="{_CSS}"><tr><td style="{_CELL}">'
                   f'{table}</td>{side}</tr></table></div>')

