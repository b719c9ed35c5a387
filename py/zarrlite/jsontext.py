"""Bounds on JSON text, checked before Python's (recursive) parser sees it: metadata and JSON chunks."""

from __future__ import annotations

import re

import numpy as np

MAX_JSON_DEPTH = 256
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON text nest, from a linear scan of the brackets outside
    strings (no recursion, so it cannot itself run out of stack)."""
    brackets = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass").translate(None, _NOT_A_BRACKET)
    if not brackets:
        return 0
    b = np.frombuffer(brackets, np.uint8)
    return int(np.cumsum(np.where((b == ord("[")) | (b == ord("{")), 1, -1)).max())
