"""Validation of store keys: keys come from metadata, so they are untrusted."""

from ..errors import KeyRejectedError


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key ("a/b/0.0"), else raise KeyRejectedError."""
    if not isinstance(key, str):
        raise KeyRejectedError(f"store key must be a string, got {type(key).__name__}")
    if "\x00" in key:
        raise KeyRejectedError(f"store key {key!r} contains a NUL byte")
    if "\\" in key:
        raise KeyRejectedError(f"store key {key!r} contains a backslash")
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise KeyRejectedError(f"store key {key!r} is absolute")
    if any(part == ".." for part in key.split("/")):
        raise KeyRejectedError(f"store key {key!r} contains '..'")
    return key


def join_key(prefix: str, name: str) -> str:
    """Join path parts with '/', ignoring empty ones."""
    parts = [p for p in (prefix.strip("/"), name.strip("/")) if p]
    return "/".join(parts)
