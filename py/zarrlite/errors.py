"""The error hierarchy. Every failure a user can cause with data or arguments is a ZarrliteError."""


class ZarrliteError(Exception):
    """Base of every error zarrlite raises on purpose."""


class MetadataError(ZarrliteError):
    """Metadata is malformed, of the wrong type, or describes something impossible."""


class NotFoundError(ZarrliteError, KeyError):
    """No array or group at the path."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class CodecError(ZarrliteError):
    """A codec is unknown, refused, or failed to decode a chunk."""


class ChunkError(ZarrliteError):
    """A chunk is corrupt, truncated or of the wrong size."""


class SelectionError(ZarrliteError, IndexError):
    """The selection is not valid for the array."""


class BudgetError(ZarrliteError, MemoryError):
    """The request would exceed the memory budget."""


class StoreError(ZarrliteError):
    """The store failed: I/O error, network failure, refused key."""


class KeyRejectedError(StoreError):
    """A key that could escape the store's root (`..`, absolute, backslash, NUL)."""


class SyncUnavailableError(ZarrliteError):
    """A synchronous call that cannot work in this runtime (Pyodide's event loop cannot be blocked)."""


class ZarrliteWarning(UserWarning):
    """Something read as the format says, but possibly not as the data's owner meant (e.g. chunks a
    server refused with 403 read as the fill value)."""


def in_context(exc: ZarrliteError, where: str, named: str | None = None) -> ZarrliteError:
    """`exc` with `where` (the array, and the chunk or document being read) before its message: the same
    class, the original as its cause. Unchanged when the message already names `named` (default `where`).
    The one place errors get the name of the array they happened in."""
    if (named or where) in str(exc):
        return exc
    err = type(exc)(f"{where}: {exc}")
    err.__cause__ = exc
    return err
