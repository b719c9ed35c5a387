"""A store over an object-store bucket: values through an HTTP transport (HttpStore in CPython,
FetchStore in the browser), and `list` through the bucket's listing API where the bucket allows it."""

from __future__ import annotations

from ..errors import StoreError
from .cloud import Bucket, bucket_for, child_names_of, listing_url, parse_listing
from .keys import check_key

MAX_LISTING_PAGES = 1000  # 1000 pages of 1000 names: more than any group a viewer can show


class BucketStore:
    """Keys below `bucket.data_url`, read by `transport` (which has the URL, options and counters);
    `list(prefix)` pages through the bucket's listing. A bucket that refuses to list (no permission,
    no CORS for the page, a service without that API) lists as None, as plain HTTP does: groups then
    find their members in consolidated metadata or multiscale attributes."""

    def __init__(self, transport, bucket: Bucket):
        self.transport = transport
        self.bucket = bucket
        self._can_list = True

    async def get(self, key):
        return await self.transport.get(key)

    async def get_range(self, key, start, length):
        if self.bucket.service == "azure" and (start < 0 or length is None):
            # Azure answers neither a suffix range nor (anonymously, without x-ms-version) an open-ended
            # one: it sends the whole blob (a shard for its index). Its size (one byte asked) makes the
            # range definite.
            size = await self.transport.size(key)
            if size is None:
                return None
            start = max(size + start, 0) if start < 0 else min(start, size)
            length = size - start
        return await self.transport.get_range(key, start, length)

    async def size(self, key):
        return await self.transport.size(key)

    async def list(self, prefix=""):
        check_key(prefix)
        if not self._can_list:
            return None
        full = self.bucket.prefix + (prefix.strip("/") + "/" if prefix.strip("/") else "")
        names: set[str] = set()
        token, seen = None, set()
        for _ in range(MAX_LISTING_PAGES):
            try:
                data = await self.transport.get_url(listing_url(self.bucket, full, token))
            except StoreError:
                data = None  # an error status, or a CORS refusal: this bucket does not list to us
            if data is None:
                self._can_list = False
                return None
            page = parse_listing(self.bucket.service, data)
            names |= child_names_of(page, full)
            if page.token is None or page.token in seen:  # a token seen before would loop for ever
                break
            seen.add(page.token)
            token = page.token
        return sorted(names)

    def __getattr__(self, name):  # url, requests, forbidden, ...: the transport's
        return getattr(self.transport, name)

    def __repr__(self):
        return f"BucketStore({self.bucket.data_url!r})"


CLOUD_OPTIONS = ("region", "endpoint_url", "addressing_style", "account_name")  # see cloud.bucket_for


def url_store(url: str, transport, *, region=None, endpoint_url=None, addressing_style=None, account_name=None,
              **http_options):
    """The store of an http(s), s3://, gs:// or az:// URL, its values read by `transport` (the runtime's
    HTTP store class) with `http_options`; a bucket's URL lists through the bucket (BucketStore)."""
    bucket = bucket_for(url, region=region, endpoint_url=endpoint_url, addressing_style=addressing_style,
                        account_name=account_name)
    if bucket is None:
        return transport(url, **http_options)
    return BucketStore(transport(bucket.data_url, **http_options), bucket)
