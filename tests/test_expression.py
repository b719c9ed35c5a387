"""The viewer's expression language (zarrlite.expression): allowed expressions give what the same numpy
written by hand gives; everything outside the language is refused with a message naming it, and nothing
in an expression runs as Python or grows past the memory budget."""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pytest

from zarrlite.errors import BudgetError, ZarrliteError
from zarrlite.expression import evaluate_expression

RNG = np.random.default_rng(7)
U16 = RNG.integers(0, 4000, (64, 48), dtype=np.uint16)
F32 = (RNG.standard_normal((64, 48)) * 100).astype(np.float32)
MIB = 1 << 20

ALLOWED = [
    ("x", lambda x: x),
    ("np.log1p(x)", np.log1p),
    ("numpy.log(x + 1)", lambda x: np.log(x + 1)),
    ("np.sqrt(np.abs(x))", lambda x: np.sqrt(np.abs(x))),
    ("np.exp(-x / 1000.0)", lambda x: np.exp(-x / 1000.0)),
    ("np.clip(x, 10, 2000)", lambda x: np.clip(x, 10, 2000)),
    ("x.clip(10, 2000)", lambda x: x.clip(10, 2000)),
    ("np.where(x > 100, x, 0)", lambda x: np.where(x > 100, x, 0)),
    ("np.maximum(x, 50) - np.minimum(x, 20)", lambda x: np.maximum(x, 50) - np.minimum(x, 20)),
    ("(x - x.mean()) / x.std()", lambda x: (x - x.mean()) / x.std()),
    ("x - x.mean(axis=0)", lambda x: x - x.mean(axis=0)),
    ("x - np.mean(x, axis=1, keepdims=True)", lambda x: x - np.mean(x, axis=1, keepdims=True)),
    ("x / np.max(x)", lambda x: x / np.max(x)),
    ("x / x.max() * 255", lambda x: x / x.max() * 255),
    ("x.astype('float32') / np.percentile(x, 99)", lambda x: x.astype("float32") / np.percentile(x, 99)),
    ("np.clip(x, np.percentile(x, 1), np.percentile(x, 99))",
     lambda x: np.clip(x, np.percentile(x, 1), np.percentile(x, 99))),
    ("x * x.sum(axis=(0, 1))", lambda x: x * x.sum(axis=(0, 1))),
    ("np.gradient(x.astype('float64'))[0]", lambda x: np.gradient(x.astype("float64"))[0]),
    ("np.diff(x, axis=0)", lambda x: np.diff(x, axis=0)),
    ("np.abs(np.fft.fftshift(np.fft.fft2(x)))", lambda x: np.abs(np.fft.fftshift(np.fft.fft2(x)))),
    ("np.fft.fft2(x)", lambda x: np.abs(np.fft.fft2(x))),            # complex results show as magnitude
    ("np.real(np.fft.ifft2(np.fft.fft2(x)))", lambda x: np.real(np.fft.ifft2(np.fft.fft2(x)))),
    ("np.angle(np.fft.fft2(x))", lambda x: np.angle(np.fft.fft2(x))),
    ("np.imag(np.fft.fft2(x)) + np.real(x)", lambda x: np.imag(np.fft.fft2(x)) + np.real(x)),
    ("x[::-1, 1:-1:2]", lambda x: x[::-1, 1:-1:2]),
    ("x[..., ::2]", lambda x: x[..., ::2]),
    ("x.T", lambda x: x.T),
    ("x[None][0]", lambda x: x[None][0]),
    ("x[:, np.newaxis, 0] * x[0]", lambda x: x[:, None, 0] * x[0]),
    ("~(x > 5)", lambda x: ~(x > 5)),
    ("100 < x <= 3000", lambda x: (100 < x) & (x <= 3000)),
    ("(x % 7 == 0) | (x // 3 != 1)", lambda x: (x % 7 == 0) | (x // 3 != 1)),
    ("x ** 2 + -x", lambda x: x ** 2 + -x),
    ("x * 2 ** 10", lambda x: x * 2 ** 10),
    ("x * np.pi + np.e", lambda x: x * np.pi + np.e),
    ("abs(x - x.mean())", lambda x: abs(x - x.mean())),
    ("max(x) - x", lambda x: x.max() - x),
    ("x * x.shape[0] / x.size", lambda x: x * x.shape[0] / x.size),
    ("x * (1, 2, 3, 4)[0] + [0.5] * x.shape[1]", lambda x: x * 1 + np.asarray([0.5]) * x.shape[1]),
    ("np.nan_to_num(np.log(x), neginf=0)", lambda x: np.nan_to_num(np.log(x), neginf=0)),
    ("np.rot90(x)", np.rot90),
    ("x.astype(float)", lambda x: x.astype(float)),
]
INTEGER_ONLY = [
    ("(x & 0xFF) | (x >> 4) ^ 3", lambda x: (x & 0xFF) | (x >> 4) ^ 3),
    ("np.bitwise_and(x, 255) << 2", lambda x: np.bitwise_and(x, 255) << 2),
]
CASES = [(e, f, p) for e, f in ALLOWED for p in ("uint16", "float32")] + [(e, f, "uint16") for e, f in INTEGER_ONLY]
PLANES = {"uint16": U16, "float32": F32}


@pytest.mark.parametrize("expr, by_hand, plane", CASES, ids=[f"{e} {p}" for e, _, p in CASES])
def test_allowed_expressions_equal_numpy_by_hand(expr, by_hand, plane):
    plane = PLANES[plane]
    with np.errstate(all="ignore"):
        want = np.asarray(by_hand(plane.copy()))
    if want.dtype.kind == "c":
        want = np.abs(want)
    if want.dtype == np.float16:
        want = want.astype(np.float32)
    got = evaluate_expression(expr, plane)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


HOSTILE = [
    ("__import__('js')", "calls to '__import__' are not allowed"),
    ("(__import__('js').fetch('http://127.0.0.1:9/'), x)[1]", "calls to '__import__' are not allowed"),
    ("(x).__class__", "attribute '__class__' is not allowed"),
    ("x.__class__.__base__.__subclasses__()", "calls to the method '__subclasses__' are not allowed"),
    ("x.T.__array_interface__", "attribute '__array_interface__' is not allowed"),
    ("[c for c in ()]", "comprehensions are not allowed"),
    ("{c: 1 for c in x}", "comprehensions are not allowed"),
    ("sum(c for c in x)", "generator expressions are not allowed"),
    ("lambda: 0", "lambdas are not allowed"),
    ("(lambda: x)()", "lambdas are not allowed"),
    ("f'{x}'", "f-strings are not allowed"),
    ("np.load('/etc/passwd')", "calls to 'np.load' are not allowed"),
    ("numpy.save('a', x)", "calls to 'np.save' are not allowed"),
    ("np.lib", "attribute 'np.lib' is not allowed"),
    ("np.lib.npyio.open_memmap('x')", "calls to 'np.lib.npyio.open_memmap' are not allowed"),
    ("np.fromfile('/etc/passwd')", "calls to 'np.fromfile' are not allowed"),
    ("np.ctypeslib", "attribute 'np.ctypeslib' is not allowed"),
    ("np.log.__call__(x)", "calls to the method '__call__' are not allowed"),
    ("getattr(x, 'tofile')", "calls to 'getattr' are not allowed"),
    ("open('/etc/passwd')", "calls to 'open' are not allowed"),
    ("eval('1')", "calls to 'eval' are not allowed"),
    ("x.tofile('/tmp/zl-expression-test')", "calls to the method 'tofile' are not allowed"),
    ("x.tofile", "attribute 'tofile' is not allowed"),
    ("x.ctypes", "attribute 'ctypes' is not allowed"),
    ("x.dtype", "attribute 'dtype' is not allowed"),
    ("np.log(*[x])", "starred arguments"),
    ("np.clip(x, **x)", "'**' arguments are not allowed"),
    ("np.mean(x, out=x)", "keyword argument 'out' is not allowed"),
    ("np.fft.fft2(x, s=(100000, 100000))", "keyword argument 's' is not allowed"),
    ("np.fft.fft2(x, (100000, 100000))", "positional argument"),
    ("np.fft.fft(x, n=10**9)", "keyword argument 'n' is not allowed"),
    ("x.astype(object)", "numbers or booleans"),
    ("x.astype('U10')", "numbers or booleans"),
    ("x.astype(x.dtype)", "a dtype must be a string"),
    ("x and x", "'and' and 'or'"),
    ("x if x else x", "conditional expressions"),
    ("(y := x)", "assignment expressions"),
    ("y + 1", "name 'y' is not allowed"),
    ("np", "name 'np' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("x[[0, 1]]", "indexing with arrays or lists is not allowed"),
    ("'a' * 10**9", "strings are arguments only"),
    ("b'abc'", "the constant b'abc' is not allowed"),
    ("not x", "'not' is not allowed"),
    ("x @ x", "the operator MatMult is not allowed"),
    ("x in x", "the comparison In is not allowed"),
    ("x is x", "the comparison Is is not allowed"),
    ("{1, 2}", "set literals are not allowed"),
    ("{'a': x}['a']", "dict literals are not allowed"),
    ("x[0]", "2-D plane is needed"),
    ("np.log1p(x", "never closed"),
    ("import os", "invalid syntax"),
    ("x; import os", "invalid syntax"),
]


@pytest.mark.parametrize("expr, message", HOSTILE, ids=[e for e, _ in HOSTILE])
def test_constructs_outside_the_language_are_refused_by_name(expr, message):
    imported = set(sys.modules)
    with pytest.raises(ZarrliteError) as info:
        evaluate_expression(expr, U16)
    assert message in str(info.value)
    assert "js" not in set(sys.modules) - imported


def test_nothing_runs_at_all(tmp_path, monkeypatch):
    """A call smuggled anywhere in the tree is refused before any part of the expression runs."""
    calls = []
    monkeypatch.setattr(np, "log1p", lambda *a: calls.append(a))
    with pytest.raises(ZarrliteError, match="calls to 'open'"):
        evaluate_expression("np.log1p(x) + open('/etc/passwd')", U16)
    assert not (tmp_path / "zl-expression-test").exists()


@pytest.mark.parametrize("expr", [
    "10 ** 10 ** 10", "x * 10 ** 10 ** 10", "2 ** (2 ** 64)", "x + (1 << 10 ** 9)", "(7 ** 99999) * x",
])
def test_huge_python_powers_are_refused_quickly(expr):
    start = time.perf_counter()
    with pytest.raises(BudgetError, match="bits allowed"):
        evaluate_expression(expr, U16)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("expr", [
    "x[:, None] * x[None, :]",                      # 64 x 48 x 64 x 48 ... via broadcasting
    "x[..., None] * x[None, None]",
    "np.multiply(x[:, None], x[None, :])",
    "x[..., None] + (" + ", ".join(["1"] * 1000) + ")",
    "np.percentile(x, [" + ", ".join(["50"] * 1000) + "], axis=())",
    "np.gradient(x[:, None] * x[None, :])",
    "x.astype('float32')[:, None] + x",
])
def test_results_larger_than_the_budget_are_refused_before_allocating(expr):
    x = RNG.integers(0, 4000, (512, 512), dtype=np.uint16)
    tracemalloc.start()
    try:
        with pytest.raises(BudgetError, match="budget"):
            evaluate_expression(expr, x, max_bytes=4 * MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MIB


def test_default_budget_is_eight_times_the_plane_with_a_floor():
    x = np.zeros((2048, 2048), np.uint8)                     # 4 MiB: the floor (64 MiB) applies
    assert evaluate_expression("x.astype('float64') + 1", x).dtype == np.float64   # 32 MiB
    with pytest.raises(BudgetError):
        evaluate_expression("x[:, :, None] + x[0, :17]", x)     # 2048 x 2048 x 17 bytes: 68 MiB


def test_errors_of_numpy_are_zarrlite_errors():
    with pytest.raises(ZarrliteError, match="ValueError"):
        evaluate_expression("x.astype('int64') ** -1", U16)
    with pytest.raises(ZarrliteError, match="axis"):
        evaluate_expression("x - x.mean(axis=5)", U16)
    with pytest.raises(ZarrliteError, match="OverflowError"):
        evaluate_expression("x * 10 ** 300", U16)


def test_too_long_or_too_deep_is_refused():
    with pytest.raises(ZarrliteError, match="characters long"):
        evaluate_expression("x" + " + x" * 2000, U16)
    with pytest.raises(ZarrliteError):
        evaluate_expression("-" * 2000 + "x", U16)
    with pytest.raises(ZarrliteError):
        evaluate_expression("(" * 1000 + "x" + ")" * 1000, U16)


@pytest.mark.parametrize("expr, message", [
    ("np.diff(x, 10**9)", "must be a whole number"),           # numpy would loop 10**9 times
    ("np.diff(x, n=10**9)", "must be a whole number"),
    ("np.maximum((" + ", ".join(["x"] * 500) + "), 0)[0]", "arrays inside tuples or lists"),   # 500 copies
])
def test_calls_that_would_hang_or_copy_are_refused_quickly(expr, message):
    start = time.perf_counter()
    with pytest.raises(ZarrliteError, match=message):
        evaluate_expression(expr, U16)
    assert time.perf_counter() - start < 0.5
