"""kerchunk references among local files the user handed over: a dropped or picked folder, several dropped
files, a .zip (in the browser: FileStore, DirectoryHandleStore, ZipFileStore; any store in CPython).

The rules, here and nowhere else (the page only hands over File objects):
- The set holds references when its top level has no Zarr or N5 metadata (`zarr.json`, `.zgroup`,
  `.zarray`, `.zattrs`, `.zmetadata`, `attributes.json`) and one of its top-level `.json` files is a
  kerchunk reference set (by content). Two such files are an error naming them: drop the one meant with its
  targets. Otherwise the set opens as the folder it is.
- A target that is a remote URL (`http(s)://`, `s3://`, ...) is read as from any reference file (without
  headers). Any other target is one of the set's files (`dropped_file`): the file at its path resolved
  against the reference file's folder in the set when the set holds it; else (absolute paths, `file://`
  URLs, relative paths leading out of the set or to files the set holds elsewhere) the file of the same
  name whose folders match the target's last folders most; a tie is an error naming the candidates, and no
  file of that name an error saying to drop the target with the reference file. Nothing outside the set is
  ever read.
"""

from __future__ import annotations

import posixpath
import urllib.parse

from ..errors import StoreError
from ..runtime import Once
from .gather import GatheredRanges
from .refs import MAX_DOCUMENT, JsonReferences, ReferenceStore, TargetStores, parse_document
from .refs_spec import Limits, is_reference_set, is_url, parse_references

FORMAT_NAMES = frozenset({"zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata", "attributes.json"})
MAX_FILES = 100_000  # files of a set walked to match targets by name


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]


def dropped_file(target: str, folder: str, names) -> str:
    """The key, among `names` (the set's file paths), of the local `target` of a reference file at
    `folder` in the set (see the module's doc for the rule). Raises StoreError when no file, or more
    than one equally, fits."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path) if target.startswith("file://") else target
    if not posixpath.isabs(path) and ":" not in path.partition("/")[0]:  # relative (not C:\..., not /...)
        joined = posixpath.normpath(posixpath.join(folder, path.replace("\\", "/")))
        if not joined.startswith("../") and joined in names:
            return joined
    parts = _parts(path)
    if not parts:
        raise StoreError(f"{target!r} names no file")
    best, best_score = [], 0
    for name in names:
        theirs = name.split("/")
        if theirs[-1] != parts[-1]:
            continue
        score = 1
        while score < min(len(theirs), len(parts)) and theirs[-1 - score] == parts[-1 - score]:
            score += 1
        if score > best_score:
            best, best_score = [name], score
        elif score == best_score:
            best.append(name)
    if not best:
        raise StoreError(f"{target} is not among the files opened: open the reference file together with "
                         "the files it names")
    if len(best) > 1:
        raise StoreError(f"{target} could be any of the files opened {', '.join(sorted(best)[:5])}: open only "
                         "the one it names")
    return best[0]


class DroppedTargets:
    """target -> (store, key) for a reference file in a set of local files: remote URLs through
    TargetStores, anything else one of the set's files (`dropped_file`, resolved once per target)."""

    def __init__(self, files, names, folder: str):
        self.files = GatheredRanges(files)  # the chunks of one file read together merge, as over HTTP
        self.names = frozenset(names)
        self.folder = folder
        self.remote = TargetStores()
        self.resolved: dict[str, str] = {}

    def __call__(self, target: str):
        if is_url(target) and not target.startswith("file://"):
            return self.remote(target)
        key = self.resolved.get(target)
        if key is None:
            key = self.resolved[target] = dropped_file(target, self.folder, self.names)
        return self.files, key


async def all_files(store, limit: int = MAX_FILES) -> list[str]:
    """Every file path of a store: its `keys()` where it has them, else walked with `list` (a name
    whose listing is empty is a file, or an empty folder, which no target names)."""
    keys = getattr(store, "keys", None)
    if keys is not None:
        return list(keys())
    out, folders = [], [""]
    while folders:
        folder = folders.pop()
        for name in await store.list(folder):
            path = f"{folder}/{name}" if folder else name
            (folders if await store.list(path) else out).append(path)
            if len(out) + len(folders) > limit:
                raise StoreError(f"more than {limit:,} files opened: too many to match reference targets in")
    return out


async def find_reference_file(store, limits: Limits = Limits()):
    """(name, decoded document) of the reference file at the top of a set of files, or None."""
    names = await store.list("")
    if FORMAT_NAMES.intersection(names):
        return None
    found = []
    for name in names:
        if not name.lower().endswith(".json"):
            continue
        head = await store.get_range(name, 0, 64)
        if not head or head.lstrip()[:1] != b"{":
            continue
        try:
            doc = parse_document(head + (await store.get_range(name, 64, MAX_DOCUMENT + 1 - 64) or b""), name)
        except StoreError:
            continue  # some other JSON file: not ours to judge
        if is_reference_set(doc):
            found.append((name, doc))
    if len(found) > 1:
        raise StoreError(f"{' and '.join(n for n, _ in found[:3])} are reference files: open one of them with "
                         "the files it names")
    return found[0] if found else None


class LocalFilesStore:
    """The store of a set of local files: the set itself, or the reference set at its top (see the
    module's doc), decided on first use (it reads the top-level listing, and the top-level .json files
    of a set without Zarr or N5 metadata there)."""

    def __init__(self, files, limits: Limits = Limits()):
        self.files = files
        self.limits = limits
        self._store = Once(self._choose)

    def __repr__(self):
        return f"LocalFilesStore({self.files!r})"

    async def store(self):
        return await self._store.get()

    async def _choose(self):
        found = await find_reference_file(self.files, self.limits)
        if found is None:
            return self.files
        name, doc = found
        # targets resolve in open_target (dropped_file), not against a path: the base stays None and
        # every relative URL is kept as written (a base would make it an absolute path of this machine)
        refs = parse_references(doc, None, limits=self.limits, resolve=lambda url: url)
        targets = DroppedTargets(self.files, await all_files(self.files), posixpath.dirname(name))
        return ReferenceStore(JsonReferences(refs), open_target=targets, name=name)

    async def get(self, key):
        return await (await self.store()).get(key)

    async def get_range(self, key, start, length):
        return await (await self.store()).get_range(key, start, length)

    async def size(self, key):
        return await (await self.store()).size(key)

    async def list(self, prefix=""):
        return await (await self.store()).list(prefix)
