"""Object-store URLs as plain HTTPS, and the listings object stores answer. Pure: no I/O.

`s3://bucket/prefix`, `gs://bucket/prefix` and `az://container/prefix` (and the HTTPS forms of the same
buckets) become a `Bucket`: the HTTPS URL that the keys of the store sit below (read anonymously through
the HTTP transports and http_rules.py, like any URL) and, where the service can list, the URL of one
page of a listing. Listings are XML (S3 ListObjectsV2, Azure List Blobs) or JSON (the GCS JSON API); the
XML comes from a server, so it is parsed as data: bounded in size, no DTD, no entities.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import xml.parsers.expat
from dataclasses import dataclass

from ..errors import StoreError

SCHEMES = ("s3://", "gs://", "az://")
MAX_LISTING_BYTES = 16 << 20  # one page of 1000 keys is ~0.3 MB; anything far larger is not a listing

_S3_HOST = re.compile(r"^(?:(?P<bucket>.+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_DNS_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")  # a bucket name that can lead a host name
_GCS_HOST = "storage.googleapis.com"
_AZURE_HOST = re.compile(r"^(?P<account>[a-z0-9]+)\.blob\.core\.windows\.net$")


@dataclass(frozen=True)
class Bucket:
    """Where a store's keys are: `data_url` (key `k` is at `data_url/k`), and for listing the `service`
    ("s3", "gcs", "azure"), `bucket_url` (the bucket's root as that service lists it) and `prefix` (the
    object-name prefix of the store's root in the bucket: "" or ending in "/")."""
    service: str
    bucket: str
    data_url: str
    bucket_url: str
    prefix: str


def _prefix(path: str) -> str:
    path = path.strip("/")
    return path + "/" if path else ""


def _quoted(path: str) -> str:
    return urllib.parse.quote(path.strip("/"))


def _join(url: str, path: str) -> str:
    return f"{url}/{_quoted(path)}" if path.strip("/") else url


def s3_bucket(bucket: str, path: str = "", *, region: str | None = None, endpoint_url: str | None = None,
              addressing_style: str | None = None) -> Bucket:
    """An S3 bucket: AWS's endpoint (of `region`, or the global one) or an S3-compatible `endpoint_url`.
    `addressing_style` "virtual" puts the bucket in the host name, "path" in the path; by default AWS is
    virtual-host (path style for a bucket name that is not one DNS label: dots, which no wildcard
    certificate covers, or the capitals and underscores of old us-east-1 buckets) and an `endpoint_url`
    is path style (as S3-compatible servers answer without DNS for each bucket)."""
    if not bucket or "/" in bucket:
        raise StoreError(f"not an S3 bucket name: {bucket!r}")
    if addressing_style not in (None, "virtual", "path"):
        raise StoreError(f"addressing_style must be 'virtual' or 'path', not {addressing_style!r}")
    if endpoint_url:
        parts = urllib.parse.urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"endpoint_url must be an http(s) URL, not {endpoint_url!r}")
        scheme, host, base_path = parts.scheme, parts.netloc, parts.path.rstrip("/")
        virtual = addressing_style == "virtual"
    else:
        scheme, base_path = "https", ""
        host = f"s3.{region}.amazonaws.com" if region else "s3.amazonaws.com"
        virtual = addressing_style != "path" and _DNS_LABEL.match(bucket) is not None
    root = (f"{scheme}://{bucket}.{host}{base_path}" if virtual
            else f"{scheme}://{host}{base_path}/{urllib.parse.quote(bucket)}")
    return Bucket("s3", bucket, _join(root, path), root, _prefix(path))


def gcs_bucket(bucket: str, path: str = "", *, endpoint_url: str | None = None) -> Bucket:
    root = f"{(endpoint_url or 'https://' + _GCS_HOST).rstrip('/')}/{urllib.parse.quote(bucket)}"
    return Bucket("gcs", bucket, _join(root, path), root, _prefix(path))


def azure_bucket(account: str, container: str, path: str = "", *, endpoint_url: str | None = None) -> Bucket:
    base = (endpoint_url or f"https://{account}.blob.core.windows.net").rstrip("/")
    root = f"{base}/{urllib.parse.quote(container)}"
    return Bucket("azure", container, _join(root, path), root, _prefix(path))


def bucket_for(url: str, *, region: str | None = None, endpoint_url: str | None = None,
               addressing_style: str | None = None, account_name: str | None = None) -> Bucket | None:
    """The Bucket of an `s3://`, `gs://` or `az://` URL, or of an HTTPS URL on AWS S3, Google Cloud
    Storage or Azure Blob Storage; None for any other URL (plain HTTP)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    path = urllib.parse.unquote(parts.path)
    if scheme == "s3":
        return s3_bucket(parts.netloc, path, region=region, endpoint_url=endpoint_url,
                         addressing_style=addressing_style)
    if scheme == "gs":
        return gcs_bucket(parts.netloc, path, endpoint_url=endpoint_url)
    if scheme == "az":
        container, _, host = parts.netloc.partition("@")  # az://container@account.blob.core.windows.net/
        account = host.split(".", 1)[0] if host else account_name
        if not account and not endpoint_url:
            raise StoreError(f"{url}: an az:// URL needs the storage account: account_name=..., or "
                             "az://container@account.blob.core.windows.net/path")
        return azure_bucket(account or "", container, path, endpoint_url=endpoint_url)
    if scheme != "https" or parts.query or not parts.hostname:
        return None
    return _https_bucket(parts.hostname, path)


def _https_bucket(host: str, path: str) -> Bucket | None:
    m = _S3_HOST.match(host)
    if m:
        region = m.group("region")
        region = None if region in (None, "external-1") else region
        if m.group("bucket"):
            return s3_bucket(m.group("bucket"), path, region=region, addressing_style="virtual")
        bucket, _, rest = path.strip("/").partition("/")
        return s3_bucket(bucket, rest, region=region, addressing_style="path") if bucket else None
    bucket, _, rest = path.strip("/").partition("/")
    if not bucket:
        return None
    if host == _GCS_HOST:
        return gcs_bucket(bucket, rest)
    m = _AZURE_HOST.match(host)
    return azure_bucket(m.group("account"), bucket, rest) if m else None


def _query(query: dict) -> str:
    return urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def listing_url(bucket: Bucket, prefix: str, token: str | None) -> str:
    """The URL of one page of the listing of names directly below `prefix` (a full object-name prefix
    ending in "/", or ""), continuing at `token` (None: the first page). Values are percent-encoded,
    a space as %20: S3 reads a '+' in a query as a plus sign, not a space."""
    query = {"prefix": prefix, "delimiter": "/"}
    if bucket.service == "s3":
        query = {"list-type": "2", **query}
        if token:
            query["continuation-token"] = token
        return f"{bucket.bucket_url}/?{_query(query)}"
    if bucket.service == "gcs":
        if token:
            query["pageToken"] = token
        root, _, _ = bucket.bucket_url.rpartition("/")
        return f"{root}/storage/v1/b/{urllib.parse.quote(bucket.bucket)}/o?{_query(query)}"
    query = {"restype": "container", "comp": "list", **query}
    if token:
        query["marker"] = token
    return f"{bucket.bucket_url}?{_query(query)}"


@dataclass(frozen=True)
class ListingPage:
    """One page of a listing: full object names (`keys`), folder prefixes (`prefixes`, ending in "/"),
    and the token of the next page (None on the last)."""
    keys: tuple[str, ...]
    prefixes: tuple[str, ...]
    token: str | None


def parse_listing(service: str, data: bytes) -> ListingPage:
    """One page of a listing as `service` answers it."""
    if len(data) > MAX_LISTING_BYTES:
        raise StoreError(f"a bucket listing page of {len(data)} bytes: more than {MAX_LISTING_BYTES} allowed")
    if service == "gcs":
        return _gcs_page(data)
    texts = xml_texts(data)
    if service == "s3":
        truncated = texts.get(("ListBucketResult", "IsTruncated"), ["false"])[0].strip().lower() == "true"
        token = texts.get(("ListBucketResult", "NextContinuationToken"), [None])[0]
        return ListingPage(tuple(texts.get(("ListBucketResult", "Contents", "Key"), ())),
                           tuple(texts.get(("ListBucketResult", "CommonPrefixes", "Prefix"), ())),
                           token if truncated and token else None)
    blobs = ("EnumerationResults", "Blobs")
    token = texts.get(("EnumerationResults", "NextMarker"), [""])[0].strip()
    return ListingPage(tuple(texts.get((*blobs, "Blob", "Name"), ())),
                       tuple(texts.get((*blobs, "BlobPrefix", "Name"), ())), token or None)


def _gcs_page(data: bytes) -> ListingPage:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise StoreError(f"a bucket listing that is not JSON: {e}") from None
    items = doc.get("items", []) if isinstance(doc, dict) else None
    prefixes = doc.get("prefixes", []) if isinstance(doc, dict) else None
    if not isinstance(items, list) or not isinstance(prefixes, list):
        raise StoreError("a bucket listing without 'items' and 'prefixes' lists")
    keys = tuple(i["name"] for i in items if isinstance(i, dict) and isinstance(i.get("name"), str))
    token = doc.get("nextPageToken")
    return ListingPage(keys, tuple(p for p in prefixes if isinstance(p, str)),
                       token if isinstance(token, str) and token else None)


def xml_texts(data: bytes) -> dict[tuple[str, ...], list[str]]:
    """The text of every element of an XML document, by its path of local names (namespaces dropped),
    in document order. A document with a DTD or an entity declaration is refused: nothing a server sends
    is expanded or fetched."""
    texts: dict[tuple[str, ...], list[str]] = {}
    stack: list[str] = []
    chunks: list[list[str]] = []

    def refuse(*_args):
        raise StoreError("a bucket listing with a DTD or entity declarations is not read")

    def start(name, _attrs):
        stack.append(name.rsplit("}", 1)[-1].rsplit(":", 1)[-1])
        chunks.append([])

    def end(_name):
        texts.setdefault(tuple(stack), []).append("".join(chunks.pop()))
        stack.pop()

    def text(value):
        if chunks:
            chunks[-1].append(value)

    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        raise StoreError(f"a bucket listing that is not well-formed XML: {e}") from None
    return texts


def child_names_of(page: ListingPage, prefix: str) -> set[str]:
    """The names directly below `prefix` that a page lists (objects and folders alike)."""
    names = set()
    for name in (*page.keys, *page.prefixes):
        if name.startswith(prefix):
            child = name[len(prefix):].strip("/").split("/", 1)[0]
            if child:
                names.add(child)
    return names
