"""The numpy functions and array methods an expression (zarrlite.expression) may call, and how large
their results get: the size is predicted before a call runs, so a call beyond the budget never allocates."""

from __future__ import annotations

import math

import numpy as np

from .errors import ZarrliteError

class Spec:
    """An allowed numpy function: how its output size is predicted (`kind`), how many positional arguments
    it may take, and how many of them are data (the rest are parameters such as `axis`).

    kinds: "elementwise": the broadcast of the data arguments; "reduce": the first argument's size (the
    working copy of std/var/median); "percentile": the sorted copy plus len(q) x the reduced shape;
    "gradient": one array per dimension."""

    def __init__(self, kind: str, positional: int, data: int | None = None, least: int = 1):
        self.kind, self.positional, self.least = kind, positional, least
        self.data = positional if data is None else data


def _specs(names: str, *args, **kwargs) -> dict:
    return {name: Spec(*args, **kwargs) for name in names.split()}


FUNCTIONS = {
    **_specs("abs absolute sign sqrt cbrt square exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin arccos "
             "arctan sinh cosh tanh arcsinh arccosh arctanh deg2rad rad2deg floor ceil trunc rint isnan isinf "
             "isfinite signbit real imag conj conjugate angle negative positive reciprocal logical_not invert "
             "nan_to_num flipud fliplr gradient fft.fft fft.ifft fft.fft2 fft.ifft2 fft.fftn fft.ifftn fft.rfft "
             "fft.rfft2", "elementwise", 1),
    **_specs("add subtract multiply divide true_divide floor_divide mod remainder power float_power maximum "
             "minimum fmax fmin arctan2 hypot logical_and logical_or logical_xor bitwise_and bitwise_or "
             "bitwise_xor left_shift right_shift greater greater_equal less less_equal equal not_equal copysign "
             "heaviside", "elementwise", 2),
    **_specs("clip", "elementwise", 3),
    **_specs("where", "elementwise", 3, least=3),
    **_specs("round around transpose squeeze cumsum cumprod fft.fftshift fft.ifftshift", "elementwise", 2, 1),
    **_specs("rot90 diff", "elementwise", 3, 1),
    **_specs("mean nanmean sum nansum prod max min amax amin nanmax nanmin std nanstd var nanvar median nanmedian "
             "ptp any all argmax argmin count_nonzero", "reduce", 2),
    **_specs("average", "reduce", 3),
    **_specs("percentile nanpercentile quantile nanquantile", "percentile", 3),
}
FUNCTIONS["gradient"] = Spec("gradient", 1)

# Keyword arguments a call may take (literals only). Those that would change sizes are not here: no `out`,
# no fft `s` / `n` (zero padding), no `prepend` / `append`.
KEYWORDS = {"axis", "keepdims", "ddof", "decimals", "axes", "norm", "deg", "nan", "posinf", "neginf",
             "method", "k", "n", "edge_order", "dtype"}
NO_LENGTH_ARGUMENT = {name for name in FUNCTIONS if name.startswith("fft.")}

# array methods: name -> the numpy function they stand for (called with the array first)
METHODS = {name: name for name in ("mean sum prod max min std var ptp any all argmax argmin clip round "
                                   "squeeze transpose cumsum cumprod conj conjugate").split()}
METHODS["astype"] = "astype"

# array methods: name -> the numpy function they stand for (called with the array first); astype is apart
METHODS = {name: name for name in ("mean sum prod max min std var ptp any all argmax argmin clip round "
                                   "squeeze transpose cumsum cumprod conj conjugate").split()}
METHODS["astype"] = "astype"

NUMPY_ERRORS = (ArithmeticError, ValueError, TypeError, IndexError, MemoryError)


def call(name: str, fn, args: list, kwargs: dict):
    """`fn(*args, **kwargs)`, numpy's errors (bad shapes, overflow, axis) as a ZarrliteError naming `name`."""
    try:
        return fn(*args, **kwargs)
    except NUMPY_ERRORS as e:
        raise ZarrliteError(f"{name}: {type(e).__name__}: {e}") from None


def predicted_nbytes(name: str, fn, args: list, kwargs: dict, kind: str, data: int) -> int:
    """Bytes of what `fn(*args, **kwargs)` makes (its output, or its working copy): the dtype from the same
    call on tiny stand-ins of the arrays, the element count from `kind` (see Spec) over the first `data`
    arguments."""
    arrays = [np.asarray(a) for a in args[:data] if isinstance(a, (np.ndarray, np.generic, list, tuple))]
    tiny = [_stand_in(a) for a in args]
    sample = call(name, fn, tiny, {k: _stand_in(v) for k, v in kwargs.items()})
    itemsize = max((np.asarray(s).dtype.itemsize for s in (sample if isinstance(sample, (list, tuple))
                                                          else [sample])), default=8)
    shapes = [a.shape for a in arrays]
    if kind == "elementwise":
        try:
            count = math.prod(np.broadcast_shapes(*shapes)) if shapes else 1
        except ValueError as e:
            raise ZarrliteError(f"{name}: {e}") from None
    elif kind == "reduce":
        count = arrays[0].size if arrays else 1
    elif kind == "gradient":
        count = arrays[0].size * max(arrays[0].ndim, 1)
    else:  # percentile: the sorted copy, and one reduced plane per q
        a = arrays[0]
        q = np.size(args[1]) if len(args) > 1 else 1
        count = a.size + q * math.prod(_reduced_shape(a.shape, kwargs.get("axis", args[2] if len(args) > 2
                                                                         else None)))
    return count * itemsize


def _stand_in(value):
    """A tiny array of the same dtype and dimensions (at most 2 along each), for predicting a result."""
    if isinstance(value, np.ndarray):
        return np.zeros(tuple(min(d, 2) for d in value.shape), value.dtype)
    return value


def _reduced_shape(shape, axis) -> tuple:
    if axis is None:
        return ()
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    try:
        gone = {int(a) % len(shape) for a in axes} if shape else set()
    except (TypeError, ValueError, ZeroDivisionError):
        raise ZarrliteError(f"axis {axis!r} is not valid for shape {shape}") from None
    return tuple(d for i, d in enumerate(shape) if i not in gone)
