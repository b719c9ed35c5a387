"""Arrays and groups pickle as what re-opens them: the source, the path and the options given to
`zarrlite.open`. So they travel to other processes (dask.distributed workers) without their caches,
connections or event loop, and each process opens the source itself."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import ZarrliteError


class NotPicklableError(ZarrliteError, TypeError):
    """A node whose source cannot travel to another process (a store object that holds connections,
    open files or an event loop's state). A TypeError, as Python's own "cannot pickle" errors are."""


@dataclass(frozen=True)
class OpenedWith:
    """How a source was opened: what `zarrlite.open(source, path, **options)` needs to open it again."""
    source: object
    options: dict = field(default_factory=dict)

    @classmethod
    def record(cls, source, options: dict) -> "OpenedWith":
        # A relative path would name another directory in a worker whose working directory differs.
        if isinstance(source, os.PathLike) or (isinstance(source, str) and "://" not in source):
            source = os.path.abspath(os.fspath(source))
        return cls(source, dict(options))


def reduce_node(node, opened: OpenedWith | None):
    """The `__reduce__` of an Array or Group: reopen(source, path, options)."""
    if opened is None:
        raise NotPicklableError(f"{node!r} was not opened by zarrlite.open, so nothing says how to open it "
                                "again in another process")
    if not isinstance(opened.source, str):
        import pickle  # here, not at import: the browser worker opens sources and never pickles them

        try:
            pickle.dumps(opened.source)
        except Exception as e:  # pickling runs the object's own code: any failure means "cannot travel"
            raise NotPicklableError(
                f"{node!r} cannot be pickled: its source {opened.source!r} is a store object that cannot be "
                f"pickled ({type(e).__name__}: {e}). Open it by path or URL (zarrlite.open(url, ...)) so that "
                "it pickles as what re-opens it.") from e
    return reopen, (opened.source, node.path, opened.options)


def reopen(source, path: str, options: dict):
    """Open `path` in `source` again (what an unpickled Array or Group is)."""
    from . import open as open_node

    return open_node(source, path, **options)
