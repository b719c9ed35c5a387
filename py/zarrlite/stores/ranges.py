"""Merging byte ranges: several reads of one file become fewer, larger requests. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

# Bytes of a gap worth reading rather than asking twice: at 20-100 ms a request, 64 KiB more costs less
# than one more round trip on any link faster than ~5 Mbit/s.
MAX_GAP = 64 << 10
# The largest merged request: what one answer may hold in memory beyond the chunks themselves.
MAX_MERGED = 16 << 20


@dataclass(frozen=True)
class Run:
    """One request: bytes [start, end) of a file, covering the ranges numbered `members`."""
    start: int
    end: int
    members: tuple[int, ...]


def merge_ranges(ranges, max_gap: int = MAX_GAP, max_size: int = MAX_MERGED) -> list[Run]:
    """Group `ranges` ((offset, length) pairs, in any order, overlapping allowed) into runs: a range joins
    the run before it when it starts at most `max_gap` bytes after that run's end and the run stays within
    `max_size` bytes (a single range larger than that is a run of its own). Runs are in file order."""
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], ranges[i][1]))
    runs: list[Run] = []
    start = end = 0
    members: list[int] = []
    for i in order:
        offset, length = ranges[i]
        if offset < 0 or length < 0:
            raise ValueError(f"range {i} ({offset}, {length}) is negative")
        stop = offset + length
        if members and offset <= end + max_gap and max(end, stop) - start <= max_size:
            end = max(end, stop)
            members.append(i)
            continue
        if members:
            runs.append(Run(start, end, tuple(members)))
        start, end, members = offset, stop, [i]
    if members:
        runs.append(Run(start, end, tuple(members)))
    return runs
