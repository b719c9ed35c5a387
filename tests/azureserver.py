"""A small Azure Blob Storage server on 127.0.0.1 for tests (no internet, no credentials).

Containers are directories, below one storage account in the path as the Azurite emulator lays it out
(`endpoint_url` = http://127.0.0.1:port/devstoreaccount1, a blob at `/devstoreaccount1/container/name`).
It answers, as Azure does for anonymous reads of a public container:
- Get Blob with a `Range: bytes=a-b` (206 + Content-Range). Azure implements no suffix range
  (`bytes=-n`), and an open-ended one (`bytes=a-`) only from service version 2011-08-18, which an
  anonymous request without `x-ms-version` does not get: this server ignores both, as HTTP allows
  (200 with the whole blob);
- List Blobs (`GET /account/container?restype=container&comp=list&prefix=&delimiter=&marker=&maxresults=`)
  as Azure's XML, `page_size` names a page at most, continued by an opaque `NextMarker`;
- a container added with `listable=False` answers a listing with 404 ResourceNotFound, as a container
  whose public access level is "blob" does;
- CORS and the request log as tests/s3server.py (the handler is that server's, answering as Azure).
"""

from __future__ import annotations

import base64
import urllib.parse
from xml.sax.saxutils import escape, quoteattr

from s3server import BucketHandler, BucketServer, object_file

ACCOUNT = "devstoreaccount1"  # the emulator's account name, in the path of every request


def _marker(name: str) -> str:
    """An opaque continuation marker in Azure's shape (with '!' and '=', to be URL-quoted)."""
    encoded = base64.b64encode(name.encode()).decode()
    return f"2!{len(encoded)}!{encoded}"


def _after(marker: str) -> str:
    """The name a marker continues after."""
    return base64.b64decode(marker.rsplit("!", 1)[-1]).decode() if marker else ""


class AzureHandler(BucketHandler):
    def _get(self):
        parts = urllib.parse.urlsplit(self._url_path())
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        segments = [urllib.parse.unquote(s) for s in parts.path.split("/")[1:]]
        if len(segments) < 2 or segments[0] != ACCOUNT:
            return self._error(400, "InvalidUri")
        container, name = segments[1], "/".join(segments[2:])
        root = self.server.buckets.get(container)
        if root is None:
            return self._error(404, "ContainerNotFound", container)
        if not name and query.get("restype") == "container" and query.get("comp") == "list":
            return self._list(container, query)
        f = object_file(root, name)
        if f is None:
            return self._error(404, "BlobNotFound", container)
        first, _, last = (self.headers.get("Range") or "").strip().removeprefix("bytes=").partition("-")
        if self.headers.get("Range") and not (first and last):
            return self._send(200, f.read_bytes(), {"Accept-Ranges": "bytes"}, container)
        self._object(f.read_bytes(), container)

    def _list(self, container, query):
        if container in self.server.unlisted:
            return self._error(404, "ResourceNotFound", container)
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        size = min(int(query.get("maxresults", "5000")), self.server.page_size)
        keys, prefixes, last = self._page(container, prefix, delimiter, _after(query.get("marker", "")), size)
        endpoint = f"http://{self._host()}/{ACCOUNT}/"
        xml = ['<?xml version="1.0" encoding="utf-8"?>',
               f"<EnumerationResults ServiceEndpoint={quoteattr(endpoint)} ContainerName={quoteattr(container)}>",
               f"<Prefix>{escape(prefix)}</Prefix><Marker>{escape(query.get('marker', ''))}</Marker>",
               f"<MaxResults>{size}</MaxResults><Delimiter>{escape(delimiter)}</Delimiter><Blobs>"]
        xml += [f"<Blob><Name>{escape(k)}</Name><Properties><Content-Length>{self.server.size(container, k)}"
                "</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>" for k in keys]
        xml += [f"<BlobPrefix><Name>{escape(p)}</Name></BlobPrefix>" for p in prefixes]
        xml.append(f"</Blobs><NextMarker>{escape(_marker(last)) if last is not None else ''}</NextMarker>")
        xml.append("</EnumerationResults>")
        self._send(200, "".join(xml).encode(), {"Content-Type": "application/xml"}, container)


class AzureServer(BucketServer):
    """`with AzureServer() as az: az.add_bucket("container", directory)`; `az.endpoint_url` is what
    `endpoint_url=` takes for `az://container/path`."""

    handler = AzureHandler

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"
