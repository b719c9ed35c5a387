"""A store over an obstore store object (CPython, `zarrlite[cloud]`): `S3Store`, `GCSStore`,
`AzureStore`, `HTTPStore`, `LocalStore`, `MemoryStore` — made by the caller with obstore's own
credentials and configuration."""

from __future__ import annotations

from .keys import check_key


def is_obstore(source) -> bool:
    """Whether `source` is one of obstore's store objects."""
    return type(source).__module__.split(".", 1)[0] == "obstore"


class ObstoreStore:
    """Keys below `prefix` in the obstore store `store`."""

    def __init__(self, store, prefix: str = ""):
        import obstore  # present: `store` is one of its objects

        self._obs = obstore
        self.store = store
        self.prefix = prefix.strip("/")

    def _path(self, key: str) -> str:
        key = check_key(key.strip("/")) if key else ""
        return "/".join(p for p in (self.prefix, key) if p)

    async def _missing_as_none(self, call):
        try:
            return bytes(await call)
        except FileNotFoundError:
            return None

    async def get(self, key):
        async def whole():
            return await (await self._obs.get_async(self.store, self._path(key))).bytes_async()
        return await self._missing_as_none(whole())

    async def get_range(self, key, start, length):
        path = self._path(key)
        if start >= 0 and length is not None:
            if length <= 0:
                return b""
            return await self._missing_as_none(self._obs.get_range_async(self.store, path, start=start,
                                                                         length=length))
        wanted = {"suffix": -start} if start < 0 else {"offset": start}

        async def part():
            return await (await self._obs.get_async(self.store, path, options={"range": wanted})).bytes_async()
        return await self._missing_as_none(part())

    async def size(self, key):
        try:
            return int((await self._obs.head_async(self.store, self._path(key)))["size"])
        except FileNotFoundError:
            return None

    async def list(self, prefix=""):
        path = self._path(prefix)
        result = await self._obs.list_with_delimiter_async(self.store, path or None)
        head = path + "/" if path else ""
        names = [p.rstrip("/") for p in result["common_prefixes"]] + [o["path"] for o in result["objects"]]
        return sorted({n[len(head):].split("/", 1)[0] for n in names if n.startswith(head) and len(n) > len(head)})

    def __repr__(self):
        return f"ObstoreStore({self.store!r})"
