"""The HTTP rules (py/zarrlite/stores/http_rules.py), pure: what CPython's HttpStore and the browser's
FetchStore both follow. Expected values are written out by hand from RFC 9110 (Range, Content-Range)."""

from __future__ import annotations

import asyncio

import pytest

from zarrlite.errors import KeyRejectedError, StoreError
from zarrlite.stores import http_rules as rules
from zarrlite.stores.http_rules import NoAnswer, Response, Retry

URL = "http://h/x"
VALUE = bytes(range(100))


@pytest.mark.parametrize("start,length,header", [
    (0, None, None), (0, 10, "bytes=0-9"), (5, 1, "bytes=5-5"), (90, None, "bytes=90-"), (-8, None, "bytes=-8"),
    (-8, 3, "bytes=-8"),  # a suffix ignores length, as get_range does
])
def test_range_header(start, length, header):
    assert rules.range_header(start, length) == header


@pytest.mark.parametrize("start,length,nothing", [(0, 0, True), (7, -1, True), (0, None, False), (-3, 0, False)])
def test_asks_nothing(start, length, nothing):
    assert rules.asks_nothing(start, length) is nothing


@pytest.mark.parametrize("status,kind", [
    (200, "ok"), (206, "ok"), (404, "missing"), (403, "missing"), (410, "missing"), (416, "empty"),
    (408, "transient"), (425, "transient"), (429, "transient"), (500, "transient"), (502, "transient"),
    (503, "transient"), (504, "transient"), (400, "error"), (401, "error"), (418, "error"), (501, "error"),
    (301, "error"), (204, "error"),
])
def test_status_class(status, kind):
    assert rules.status_class(status) == kind


@pytest.mark.parametrize("value,parsed", [
    ("bytes 0-9/100", (0, 9, 100)), ("bytes 5-5/*", (5, 5, None)), (" bytes 90-99/100 ", (90, 99, 100)),
    (None, None), ("", None), ("bytes */100", None), ("bytes 9-3/100", None), ("items 0-9/100", None),
])
def test_parse_content_range(value, parsed):
    assert rules.parse_content_range(value) == parsed


def test_backoff_doubles_with_jitter_between_half_and_one_and_a_half():
    assert [rules.backoff_delay(a, 0.1, 0.5) for a in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert rules.backoff_delay(3, 0.1, 0.0) == pytest.approx(0.2)
    assert rules.backoff_delay(3, 0.1, 0.999) == pytest.approx(0.5996)


def answer(status, body=None, content_range=None, content_length=None, text=""):
    return Response(status, text, body, content_range, content_length)


@pytest.mark.parametrize("start,length,response,value", [
    (0, None, answer(200, VALUE), VALUE),
    (10, 5, answer(206, VALUE[10:15], "bytes 10-14/100"), VALUE[10:15]),
    (95, 10, answer(206, VALUE[95:], "bytes 95-99/100"), VALUE[95:]),   # short at the end: all there is
    (90, None, answer(206, VALUE[90:], "bytes 90-99/100"), VALUE[90:]),
    (-8, None, answer(206, VALUE[92:], "bytes 92-99/100"), VALUE[92:]),
    (-200, None, answer(206, VALUE, "bytes 0-99/100"), VALUE),          # a suffix longer than the value
    (-8, None, answer(206, VALUE[92:], "bytes 92-99/*"), VALUE[92:]),
    (10, 5, answer(200, VALUE), VALUE[10:15]),                          # Range ignored: cut out
    (-8, None, answer(200, VALUE), VALUE[92:]),
    (90, None, answer(200, VALUE), VALUE[90:]),
    (10, 5, answer(206, VALUE[10:15]), VALUE[10:15]),                   # no Content-Range, exact length
    (-8, None, answer(206, VALUE[92:], "garbage"), VALUE[92:]),
    (0, None, answer(404), None), (0, None, answer(403), None), (0, None, answer(410), None),
    (200, 5, answer(416, b""), b""),
], ids=repr)
def test_value_of_accepts(start, length, response, value):
    assert rules.value_of(URL, response, start, length) == value


@pytest.mark.parametrize("start,length,response,needle", [
    (10, 5, answer(206, VALUE[11:16], "bytes 11-15/100"), "asked for bytes from 10"),  # other bytes, same length
    (10, 5, answer(206, VALUE[10:14], "bytes 10-14/100"), "does not match Content-Range"),
    (10, 5, answer(206, VALUE[10:16], "bytes 10-15/100"), "more than the 5 bytes"),
    (10, 5, answer(206, VALUE[10:13], "bytes 10-12/100"), "stops short of the end"),
    (90, None, answer(206, VALUE[90:95], "bytes 90-94/100"), "stops short of the end"),
    (-8, None, answer(206, VALUE[91:99], "bytes 91-98/100"), "the last 8 bytes"),
    (-8, None, answer(206, VALUE[90:], "bytes 90-99/*"), "the last 8 bytes"),
    (10, 5, answer(206, VALUE[10:14]), "without a valid Content-Range"),             # unreadable, short
    (90, None, answer(206, VALUE[90:]), "without a valid Content-Range"),            # unreadable, open end
    (0, None, answer(400, text="Bad Request"), "HTTP 400 Bad Request"),
    (0, None, answer(418), "HTTP 418"),
], ids=repr)
def test_value_of_refuses(start, length, response, needle):
    with pytest.raises(StoreError, match=needle) as info:
        rules.value_of(URL, response, start, length)
    assert URL in str(info.value)


@pytest.mark.parametrize("response,reason", [
    (answer(503), "HTTP 503"), (answer(429), "HTTP 429"), (answer(408), "HTTP 408"),
    (answer(200, VALUE[:40], content_length=100), "truncated body (40 of 100 bytes)"),
])
def test_value_of_retries(response, reason):
    assert rules.value_of(URL, response, 0, None) == Retry(reason)


def test_206_without_content_range_names_the_cors_header():
    with pytest.raises(StoreError, match="Access-Control-Expose-Headers: Content-Range"):
        rules.value_of(URL, answer(206, VALUE[:3]), 0, 5)


def test_key_url():
    assert rules.key_url("http://h/a.zarr", "b/c 1") == "http://h/a.zarr/b/c%201"
    assert rules.key_url("http://h/a.zarr/?sig=x%2Fy", "zarr.json") == "http://h/a.zarr/zarr.json?sig=x%2Fy"
    assert rules.key_url("http://h/a.zarr", "") == "http://h/a.zarr"
    with pytest.raises(KeyRejectedError):
        rules.key_url("http://h/a.zarr", "../etc")


def run_loop(replies, *, retries=2, start=0, length=None):
    """fetch_with_retries over scripted replies; returns (value or error, headers sent, sleeps)."""
    sent, sleeps = [], []

    async def send(header):
        sent.append(header)
        return replies[len(sent) - 1]

    async def sleep(seconds):
        sleeps.append(seconds)

    async def main():
        return await rules.fetch_with_retries(URL, start, length, send, retries=retries, backoff=1.0,
                                              jitter=lambda: 0.5, sleep=sleep)
    try:
        return asyncio.run(main()), sent, sleeps
    except StoreError as e:
        return e, sent, sleeps


def test_loop_retries_transient_then_succeeds():
    value, sent, sleeps = run_loop([answer(503), NoAnswer("reset"), answer(206, VALUE[2:4], "bytes 2-3/100")],
                                   start=2, length=2)
    assert (value, sent, sleeps) == (VALUE[2:4], ["bytes=2-3"] * 3, [1.0, 2.0])


def test_loop_gives_up_after_retries_plus_one():
    error, sent, sleeps = run_loop([answer(500)] * 3)
    assert isinstance(error, StoreError) and str(error) == f"GET {URL}: HTTP 500 (gave up after 3 tries)"
    assert len(sent) == 3 and sleeps == [1.0, 2.0]


def test_loop_tries_again_at_once_after_an_ended_kept_connection_within_the_tries():
    value, sent, sleeps = run_loop([NoAnswer("RemoteDisconnected", at_once=True), answer(503), answer(200, VALUE)])
    assert (value, len(sent), sleeps) == (VALUE, 3, [2.0])   # no wait after the ended connection; after the 503
    error, sent, sleeps = run_loop([NoAnswer("RemoteDisconnected", at_once=True)] * 5)
    assert "gave up after 3 tries" in str(error) and len(sent) == 3 and sleeps == []


def test_loop_stops_at_a_final_no_answer_and_at_an_error_status():
    error, sent, _ = run_loop([NoAnswer("CORS refused", retry=False), answer(200, VALUE)])
    assert str(error) == "CORS refused" and len(sent) == 1
    error, sent, _ = run_loop([answer(401), answer(200, VALUE)])
    assert "HTTP 401" in str(error) and len(sent) == 1


def test_loop_zero_length_sends_nothing():
    assert run_loop([], start=5, length=0) == (b"", [], [])


# ------------------------------------------------------------------- 403: read as missing, but counted

@pytest.mark.parametrize("replies,called", [([answer(403)], 1), ([answer(404)], 0), ([answer(410)], 0),
                                            ([answer(503), answer(403)], 1), ([answer(200, VALUE)], 0)])
def test_loop_tells_when_a_value_is_missing_because_of_403(replies, called):
    calls, sent = [], []

    async def send_logged(header):
        sent.append(header)
        return replies[len(sent) - 1]

    async def main():
        return await rules.fetch_with_retries(URL, 0, None, send_logged, retries=2, backoff=0.0,
                                              forbidden=lambda: calls.append(1))
    value = asyncio.run(main())
    assert len(calls) == called
    assert value == (VALUE if replies[-1].status == 200 else None)


def test_forbidden_keys_count_values_not_metadata_and_warn_once():
    import warnings

    from zarrlite import ZarrliteWarning

    keys = rules.ForbiddenKeys(URL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for key in ["a/zarr.json", "a/.zarray", "a/.zgroup", "a/.zattrs", ".zmetadata", "attributes.json"]:
            keys.note(key)
        assert keys.count == 0 and not caught
        for key in ["a/c/0/0", "a/c/0/0", "a/c/0/1", "a/0.0", "a/0.1", "a/1.0", "a/1.1"]:
            keys.note(key)
    assert keys.count == 6  # distinct keys
    assert keys.keys == ["a/c/0/0", "a/c/0/1", "a/0.0", "a/0.1", "a/1.0"]  # the first five
    assert keys.summary() == {"count": 6, "keys": keys.keys}
    assert [w.category for w in caught] == [ZarrliteWarning]
    assert URL in str(caught[0].message) and "403" in str(caught[0].message) and "'a/c/0/0'" in str(caught[0].message)


def test_metadata_names_are_the_documents_the_formats_read():
    from zarrlite.formats import n5, zarr2, zarr3

    assert rules.METADATA_NAMES == {zarr3.KEY, zarr2.ARRAY_KEY, zarr2.GROUP_KEY, zarr2.ATTRS_KEY,
                                    zarr2.CONSOLIDATED_KEY, n5.KEY}
