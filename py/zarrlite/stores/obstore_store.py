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
        from obstore.exceptions import GenericError

        self._obs = obstore
        self._generic_error = GenericError
        self.store = store
        self.prefix = prefix.strip("/")

    def _path(self, key: str) -> str:
        key = check_key(key).strip("/")
        return "/".join(p for p in (self.prefix, key) if p)

    def _missing(self, error: Exception) -> bool:
        # A LocalStore key below a file ("a/b" where "a" is one) is a generic error, not FileNotFoundError
        return isinstance(error, FileNotFoundError) or (
            isinstance(error, self._generic_error) and "Not a directory" in str(error))

    async def _or_none(self, call):
        try:
            return await call
        except Exception as e:
            if self._missing(e):
                return None
            raise

    async def get(self, key):
        async def whole():
            return bytes(await (await self._obs.get_async(self.store, self._path(key))).bytes_async())
        return await self._or_none(whole())

    async def get_range(self, key, start, length):
        path = self._path(key)
        if start >= 0 and length is not None and length <= 0:
            return b""

        async def part():
            if start >= 0 and length is not None:
                return bytes(await self._obs.get_range_async(self.store, path, start=start, length=length))
            wanted = {"suffix": -start} if start < 0 else {"offset": start}
            return bytes(await (await self._obs.get_async(self.store, path, options={"range": wanted})).bytes_async())
        try:
            return await self._or_none(part())
        except self._generic_error:
            # obstore refuses a range that starts or runs past the end, where the store rule is slicing
            size = await self.size(key)
            if size is None:
                return None
            if start < 0 or (length is not None and start + length <= size):
                raise
            return b"" if start >= size else await self.get_range(key, start, size - start)

    async def size(self, key):
        async def head():
            return int((await self._obs.head_async(self.store, self._path(key)))["size"])
        return await self._or_none(head())

    async def list(self, prefix=""):
        path = self._path(prefix)  # checked: a hostile prefix is refused
        result = await self._obs.list_with_delimiter_async(self.store, path or None)
        head = path + "/" if path else ""
        names = [p.rstrip("/") for p in result["common_prefixes"]] + [o["path"] for o in result["objects"]]
        return sorted({n[len(head):].split("/", 1)[0] for n in names if n.startswith(head) and len(n) > len(head)})

    def __repr__(self):
        return f"ObstoreStore({self.store!r})"
