"""Per-open settings and state shared by the nodes of one opened source."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .runtime import DEFAULT_MAX_BYTES


@dataclass
class Context:
    store: object
    max_bytes: int = DEFAULT_MAX_BYTES      # largest selection (and chunk) one read may allocate
    concurrency: int = 16                   # chunks of one selection in flight
    consolidated: dict | None = None        # node path -> metadata documents, when consolidated
    format: str | None = None               # detected at the root; children are the same format
    opened: object = None                   # reopen.OpenedWith: what the source's nodes pickle as
    documents: dict = field(default_factory=dict)  # node path -> the metadata documents last read there
    shard_indexes: OrderedDict = field(default_factory=OrderedDict)
    shard_index_budget: int = 64 << 20
    _shard_index_bytes: int = 0

    def remember_index(self, key, index):
        self.shard_indexes[key] = index
        self._shard_index_bytes += index.nbytes
        while self._shard_index_bytes > self.shard_index_budget and self.shard_indexes:
            _, old = self.shard_indexes.popitem(last=False)
            self._shard_index_bytes -= old.nbytes
