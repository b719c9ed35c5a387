"""The Group: attributes, members, and the tree view."""

from __future__ import annotations

import asyncio

from .context import Context
from .errors import NotFoundError, ZarrliteError
from .formats.metadata import GroupMetadata
from .ome import member_names, multiscale_from_attrs
from .reopen import reduce_node
from .runtime import run_sync
from .stores.keys import join_key

_METADATA_NAMES = {".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json", "attributes.json"}


class Group:
    """A Zarr v2, Zarr v3 or N5 group. `group["a/b"]` opens a member; iterating gives member names."""

    def __init__(self, ctx: Context, path: str, meta: GroupMetadata, open_node):
        self._ctx = ctx
        self._open_node = open_node
        self.path = path
        self.meta = meta
        self._members: list[str] | None = None

    attrs = property(lambda self: self.meta.attrs)
    format = property(lambda self: self.meta.format)
    context = property(lambda self: self._ctx, doc="The settings and caches shared by the nodes of its source.")

    def __repr__(self):
        return f"<zarrlite.Group {self.format} '/{self.path}'>"

    def __reduce__(self):
        return reduce_node(self, self._ctx.opened)  # what re-opens it (reopen.py)

    def _repr_html_(self):
        from .notebook import group_html
        return group_html(self)

    @property
    def multiscale(self):
        """The OME-NGFF or N5 multiscale pyramid this group describes (`zarrlite.ome.Multiscale`), or None."""
        return multiscale_from_attrs(self.attrs)

    async def get_child(self, name: str):
        """Open the member at `name` (a relative path such as "a/b")."""
        return await self._open_node(self._ctx, join_key(self.path, name))

    def __getitem__(self, name: str):
        return run_sync(self.get_child(name), f"await group.get_child({name!r})")

    def __contains__(self, name: str) -> bool:
        return name in run_sync(self.members(), "await group.members()")

    def __iter__(self):
        return iter(run_sync(self.members(), "await group.members()"))

    async def members(self) -> list[str]:
        """Names of the arrays and groups directly inside, from consolidated metadata, a listing of the
        store, or, where the store cannot list (plain HTTP), the paths named in OME/N5 multiscale metadata."""
        if self._members is None:
            self._members = await self._find_members()
        return self._members

    async def _find_members(self) -> list[str]:
        consolidated = self._ctx.consolidated
        if consolidated is not None:
            prefix = self.path + "/" if self.path else ""
            names = {p[len(prefix):].split("/", 1)[0] for p in consolidated if p.startswith(prefix) and p != self.path}
            return sorted(n for n in names if n)
        listed = await self._ctx.store.list(self.path)
        candidates = listed if listed is not None else member_names(self.attrs)
        candidates = [n for n in candidates if n not in _METADATA_NAMES and not n.startswith(".")]
        found = await asyncio.gather(*(self._is_node(n) for n in candidates))
        return sorted(n for n, ok in zip(candidates, found) if ok)

    async def children(self, names: list[str] | None = None) -> list[tuple[str, object]]:
        """(name, member) for the members `names` (all of them by default), opened concurrently. A member
        that cannot be opened (malformed metadata, an unknown codec) has its ZarrliteError in its place:
        one bad member does not hide the others."""
        names = await self.members() if names is None else names
        return list(zip(names, await asyncio.gather(*(self._child_or_error(n) for n in names))))

    async def _child_or_error(self, name: str):
        try:
            return await self.get_child(name)
        except ZarrliteError as err:
            return err

    async def _is_node(self, name: str) -> bool:
        """Whether `name` is a member: it has metadata (as detection finds it: a static host's web page is
        none), readable or not (a broken member is shown with its error), or is a directory of an N5 root."""
        try:
            await self.get_child(name)
        except NotFoundError:
            return False
        except ZarrliteError:
            pass
        return True

    async def tree_async(self, depth: int = 8) -> str:
        lines = [f"/{self.path}  ({self.format} group){_attrs_note(self.attrs)}"]
        await self._tree_lines(lines, "", depth)
        return "\n".join(lines)

    def tree(self, depth: int = 8) -> str:
        """A text tree of groups and arrays with shapes, dtypes, chunks and codecs."""
        return run_sync(self.tree_async(depth), "await group.tree_async()")

    async def _tree_lines(self, lines, indent, depth):
        children = await self.children()
        for i, (name, child) in enumerate(children):
            last = i == len(children) - 1
            branch, cont = ("└── ", "    ") if last else ("├── ", "│   ")
            if isinstance(child, ZarrliteError):
                lines.append(f"{indent}{branch}{name}  (error: {child})")
            elif isinstance(child, Group):
                lines.append(f"{indent}{branch}{name}/{_attrs_note(child.attrs)}")
                if depth > 1:
                    await child._tree_lines(lines, indent + cont, depth - 1)
            else:
                lines.append(f"{indent}{branch}{name}  {describe_array(child)}")


def describe_array(arr) -> str:
    text = f"{arr.shape} {arr.dtype} chunks={arr.chunks}"
    if arr.shards:
        text += f" shards={arr.shards}"
    return text + f" [{', '.join(arr.codecs)}]"


def _attrs_note(attrs) -> str:
    return f"  attrs: {', '.join(sorted(attrs))[:80]}" if attrs else ""

