"""`zarrlite view refs.json`: a local kerchunk reference file served to the page with the local files it
names, and nothing else of this machine.

The page reads references over HTTP, where a target may only be a URL (refs.py), so the server gives
it a reference set of its own: the user's set as zarrlite parses it (templates and `gen` expanded), with
each local target replaced by the URL the server serves it at, `/refs/<n>/<path>` (n: the served
folder; path: the file's place in it); remote targets (http, https, s3, ...) stay as written. The user's
files are read, never written.

What is served: the reference file's folder and the folders given with `--allow`, and of those only the
files the references name (no listing, no other file). A local target outside every served folder (after
symbolic links are followed: a link out of the folder is outside) is refused before the server starts,
with an error naming it: a reference file can name any path (`../../etc/passwd`), and serving one is
the user's decision, made by `--allow` of the folder that holds it.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from dataclasses import dataclass, field

from .errors import ZarrliteError
from .stores.refs import read_reference_file
from .stores.refs_spec import is_url

PREFIX = "/refs/"


class RefusedTargetsError(ZarrliteError):
    """Local targets of a reference file outside every folder the server may serve."""


@dataclass
class ServedReferences:
    document: bytes                  # the reference set the page reads
    url_path: str                    # where the server sends it (unquoted)
    files: dict[str, str] = field(default_factory=dict)  # URL path (unquoted) -> local file
    missing: list[str] = field(default_factory=list)     # local targets that do not exist


def _value(value, url_of) -> str | list:
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
            if not text.startswith("base64:"):
                return text
        except UnicodeDecodeError:
            pass
        return "base64:" + base64.b64encode(value).decode("ascii")
    url = url_of(value.target)
    return [url] if value.length is None else [url, value.offset, value.length]


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive
        return False


def served_references(path: str, allow=()) -> ServedReferences | None:
    """What `zarrlite view` serves for the local file `path`, or None when it is not a JSON reference
    file. Raises RefusedTargetsError naming the local targets outside the served folders."""
    mapping = read_reference_file(path)
    if mapping is None:
        return None
    folders = [os.path.realpath(os.path.dirname(os.path.abspath(path)))]
    folders += [os.path.realpath(f) for f in allow]
    served = ServedReferences(b"", PREFIX + _document_name(path))
    urls: dict[str, str] = {}
    refused: list[str] = []

    def url_of(target: str) -> str:
        if is_url(target):
            return target
        url = urls.get(target)
        if url is None:
            real = os.path.realpath(target)
            n = next((i for i, f in enumerate(folders) if _inside(real, f)), None)
            if n is None:
                refused.append(target)
                url = ""
            else:
                place = os.path.relpath(real, folders[n]).replace(os.sep, "/")
                served.files[f"{PREFIX}{n}/{place}"] = real
                if not os.path.isfile(real):
                    served.missing.append(target)
                url = f"{PREFIX}{n}/" + urllib.parse.quote(place)
            urls[target] = url
        return url

    refs = {key: _value(value, url_of) for key, value in mapping.items()}
    if refused:
        shown = ", ".join(refused[:10]) + (f" and {len(refused) - 10} more" if len(refused) > 10 else "")
        raise RefusedTargetsError(
            f"{path} names local files outside {folders[0]}, which zarrlite view does not serve: {shown}. "
            "Pass --allow FOLDER to serve the files it names under FOLDER too")
    served.document = json.dumps({"version": 1, "refs": refs}).encode()
    return served


def _document_name(path: str) -> str:
    """The served document's name: the file's, ending in .json (the page recognises references so)."""
    name = os.path.basename(path)
    return name if name.lower().endswith(".json") else name + ".json"

