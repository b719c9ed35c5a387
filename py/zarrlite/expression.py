"""The viewer's expression language: a small, parsed subset of Python over the displayed plane `x`.

Expressions come from viewer links (`?expr=...`), so nothing in them runs as Python: the text is parsed
with `ast` and the tree is walked here, node by node, against allow-lists. What is allowed:

- the name `x` (the plane, a numpy array), the constants `np.pi`, `np.e`, `np.inf`, `np.nan`, `np.newaxis`;
- numbers (int, float, complex, True/False), strings (as arguments only: dtypes, `norm="ortho"`), and
  tuples / lists of these (`axis=(0, 1)`, a list of percentiles); in arithmetic a tuple or list is a numpy
  array (`[1, 2] * 3` is `[3, 6]`, as in numpy, not a repeated list);
- arithmetic `+ - * / // % **`, bitwise `& | ^ ~ << >>`, unary `- +`, comparisons (a chain such as
  `0 < x < 9` means `(0 < x) & (x < 9)`);
- subscripts: ints, slices, `None`, `...`, and one boolean mask (`x[x > 0]`);
- the attributes `T real imag shape ndim size` of arrays;
- calls, with literal keyword arguments, of the numpy functions in `FUNCTIONS` (`np.` or `numpy.`), of the
  array methods in `METHODS` (`x.mean(axis=0)`, `x.astype("float32")`), and of `abs`, `min`, `max`, `round`.

Anything else (other names and attributes, imports, dunder names, comprehensions, lambdas, f-strings,
starred or `**` arguments, `and`/`or`, conditional expressions) is refused with a ZarrliteError naming it.
Memory is bounded: an operation whose result (or, for reductions and sorts, whose working copy) would exceed
the byte budget is refused before it runs, and `**` / `<<` on Python integers are refused when the result
would be astronomically large. The budget bounds each intermediate, not their sum.
"""

from __future__ import annotations

import ast
import operator
import warnings

import numpy as np

from .errors import BudgetError, ZarrliteError
from .expression_calls import FUNCTIONS, KEYWORDS, METHODS, NO_LENGTH_ARGUMENT, call, predicted_nbytes

MAX_LENGTH = 4096         # characters of expression text
MAX_INT_BITS = 4096       # a Python int result of ** or << beyond this is refused
MIN_BUDGET = 64 << 20     # the default budget is the larger of this and 8x the plane

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}

_ATTRIBUTES = {"T", "real", "imag", "shape", "ndim", "size"}
_BUILTINS = {"abs", "min", "max", "round"}
_CONSTANTS = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan, "newaxis": None}
# names that mean a dtype where a dtype is expected (`x.astype(float)`)
_DTYPE_NAMES = {"float": "float64", "int": "int64", "bool": "bool", "complex": "complex128",
                "str": "str", "bytes": "bytes", "object": "object"}

_REFUSED = {ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
            ast.GeneratorExp: "generator expressions", ast.Lambda: "lambdas", ast.JoinedStr: "f-strings",
            ast.FormattedValue: "f-strings", ast.Starred: "starred arguments (*args)",
            ast.BoolOp: "'and' and 'or' (use & and |)", ast.IfExp: "conditional expressions (a if c else b)",
            ast.NamedExpr: "assignment expressions (:=)", ast.Dict: "dict literals", ast.Set: "set literals",
            ast.Await: "await expressions", ast.Yield: "yield expressions", ast.YieldFrom: "yield expressions"}


def evaluate_expression(expr: str, x: np.ndarray, *, max_bytes: int | None = None) -> np.ndarray:
    """`expr` (the language above) over the plane `x`; returns a 2-D plane of numbers or booleans.

    Complex results become their magnitude, float16 becomes float32. `max_bytes` bounds every intermediate
    array (default: the larger of 8x `x.nbytes` and 64 MiB)."""
    x = np.asarray(x)
    budget = max(8 * x.nbytes, MIN_BUDGET) if max_bytes is None else int(max_bytes)
    if not isinstance(expr, str):
        raise ZarrliteError(f"expression must be text, not {type(expr).__name__}")
    if len(expr) > MAX_LENGTH:
        raise ZarrliteError(f"expression is {len(expr):,} characters long, more than the {MAX_LENGTH:,} allowed")
    try:
        tree = ast.parse(expr.strip(), "<expression>", mode="eval")
        _refuse_outside_the_language(tree)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # log(0), mean of an empty slice: values say it
            result = np.asarray(_Evaluator(x, budget).value(tree.body))
    except SyntaxError as e:
        raise ZarrliteError(f"expression {expr!r}: {e.msg} (column {e.offset})") from None
    except ZarrliteError as e:
        raise type(e)(f"expression {expr!r}: {e}") from None
    except RecursionError:
        raise ZarrliteError(f"expression {expr!r}: nested too deeply") from None
    return _as_plane(result, expr, x)


def _as_plane(result: np.ndarray, expr: str, x: np.ndarray) -> np.ndarray:
    if result.ndim != 2:
        raise ZarrliteError(f"expression {expr!r} gave shape {result.shape}: a 2-D plane is needed "
                            f"(x is the plane, shape {x.shape})")
    if result.dtype.kind == "c":
        result = np.abs(result)
    if result.dtype.kind not in "biuf":
        raise ZarrliteError(f"expression {expr!r} gave dtype {result.dtype}: numbers or booleans are needed")
    if result.dtype.kind == "f" and result.dtype.itemsize == 2:
        result = result.astype(np.float32)
    return result


class _Evaluator:
    """Walks the parsed tree; every node type it accepts has a method `_<NodeType>`."""

    def __init__(self, x: np.ndarray, budget: int):
        self.x = x
        self.budget = budget

    def value(self, node):
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            what = _REFUSED.get(type(node), f"{type(node).__name__} expressions")
            raise ZarrliteError(f"{what} are not allowed")
        return method(node)

    # -- leaves --------------------------------------------------------------------------------------
    def _Constant(self, node):
        if isinstance(node.value, (bool, int, float, complex, str)) or node.value is None or node.value is ...:
            return node.value
        raise ZarrliteError(f"the constant {node.value!r} is not allowed")

    def _Name(self, node):
        if node.id == "x":
            return self.x
        raise ZarrliteError(f"name {node.id!r} is not allowed (NameError: the only name is x)")

    def _Tuple(self, node):
        return tuple(self.literal_part(e) for e in node.elts)

    def _List(self, node):
        return [self.literal_part(e) for e in node.elts]

    def literal_part(self, node):
        """Tuples and lists hold numbers, index parts and strings, never arrays: `(x, x, ...)` would copy
        the plane once per entry when numpy turns it into an array."""
        value = self.value(node)
        if isinstance(value, np.ndarray):
            raise ZarrliteError("arrays inside tuples or lists are not allowed")
        return value

    def _Attribute(self, node):
        dotted = _numpy_name(node)
        if dotted is not None:
            if dotted in _CONSTANTS:
                return _CONSTANTS[dotted]
            raise ZarrliteError(f"attribute 'np.{dotted}' is not allowed (only calls of the listed functions "
                                "and the constants pi, e, inf, nan, newaxis)")
        if node.attr not in _ATTRIBUTES:
            raise ZarrliteError(f"attribute {node.attr!r} is not allowed")
        value = self.value(node.value)
        if not isinstance(value, (np.ndarray, np.generic)):
            raise ZarrliteError(f"attribute {node.attr!r} of a {type(value).__name__} is not allowed")
        return getattr(value, node.attr)

    # -- operators -----------------------------------------------------------------------------------
    def _BinOp(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ZarrliteError(f"the operator {type(node.op).__name__} is not allowed")
        return self.apply(op, type(node.op).__name__, self.value(node.left), self.value(node.right))

    def _UnaryOp(self, node):
        op = _UNARY.get(type(node.op))
        if op is None:
            raise ZarrliteError("'not' is not allowed (use ~)")
        return self.apply(op, type(node.op).__name__, self.value(node.operand))

    def _Compare(self, node):
        values = [self.value(node.left)] + [self.value(c) for c in node.comparators]
        result = None
        for op_node, a, b in zip(node.ops, values, values[1:]):
            op = _COMPARE.get(type(op_node))
            if op is None:
                raise ZarrliteError(f"the comparison {type(op_node).__name__} is not allowed")
            step = self.apply(op, type(op_node).__name__, a, b)
            result = step if result is None else self.apply(operator.and_, "BitAnd", result, step)
        return result

    def apply(self, op, name, *operands):
        """`op(*operands)` for numbers and arrays, its result's size checked before it is made."""
        operands = [_operand(v, name) for v in operands]
        if all(isinstance(v, (int, float, complex)) for v in operands):
            _check_python_number(name, *operands)
        else:
            self.check(name, op, operands, "elementwise")
        return call(name, op, operands, {})

    # -- subscripts ----------------------------------------------------------------------------------
    def _Subscript(self, node):
        value = self.value(node.value)
        index = self.value(node.slice)
        parts = index if isinstance(index, tuple) else (index,)
        for part in parts:
            if isinstance(part, (list, tuple, np.ndarray)) and not (
                    len(parts) == 1 and np.asarray(part).dtype == bool):
                raise ZarrliteError("indexing with arrays or lists is not allowed (only ints, slices, None, "
                                    "... and one boolean mask)")
            if isinstance(part, (str, complex, float)):
                raise ZarrliteError(f"the index {part!r} is not allowed")
        if not isinstance(value, (np.ndarray, np.generic, tuple)):
            raise ZarrliteError(f"subscripts of a {type(value).__name__} are not allowed")
        return call("subscript", operator.getitem, [value, index], {})

    def _Slice(self, node):
        parts = [None if p is None else self.value(p) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or isinstance(p, (int, np.integer)) for p in parts):
            raise ZarrliteError("slice bounds must be integers")
        return slice(*parts)

    # -- calls ---------------------------------------------------------------------------------------
    def _Call(self, node):
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ZarrliteError("starred arguments (*args) are not allowed")
        for kw in node.keywords:
            if kw.arg is None:
                raise ZarrliteError("'**' arguments are not allowed")
        func = node.func
        dotted = _numpy_name(func) if isinstance(func, ast.Attribute) else None
        if dotted is not None:
            if dotted not in FUNCTIONS:
                raise ZarrliteError(f"calls to 'np.{dotted}' are not allowed")
            return self.call_numpy(dotted, [self.value(a) for a in node.args], self.keywords(node, dotted))
        if isinstance(func, ast.Name):
            if func.id not in _BUILTINS:
                raise ZarrliteError(f"calls to {func.id!r} are not allowed")
            return self.call_builtin(func.id, [self.value(a) for a in node.args], self.keywords(node, func.id))
        if isinstance(func, ast.Attribute):
            if func.attr not in METHODS:
                raise ZarrliteError(f"calls to the method {func.attr!r} are not allowed")
            target = self.value(func.value)
            if not isinstance(target, (np.ndarray, np.generic)):
                raise ZarrliteError(f"methods of a {type(target).__name__} are not allowed")
            if func.attr == "astype":
                return self.astype(target, node)
            name = METHODS[func.attr]
            return self.call_numpy(name, [target] + [self.value(a) for a in node.args], self.keywords(node, name))
        raise ZarrliteError("only calls of named functions are allowed")

    def keywords(self, node, name) -> dict:
        out = {}
        for kw in node.keywords:
            if kw.arg not in KEYWORDS or (kw.arg == "n" and name in NO_LENGTH_ARGUMENT):
                raise ZarrliteError(f"the keyword argument {kw.arg!r} is not allowed")
            out[kw.arg] = self.dtype(kw.value) if kw.arg == "dtype" else self.value(kw.value)
        return out

    def call_numpy(self, name: str, args: list, kwargs: dict):
        spec = FUNCTIONS[name]
        if not spec.least <= len(args) <= spec.positional:
            raise ZarrliteError(f"np.{name} takes {spec.least} to {spec.positional} positional argument(s) here")
        if name == "diff":  # numpy differences n times in a Python loop: n = 10**9 would hang the worker
            n = args[1] if len(args) > 1 else kwargs.get("n", 1)
            if not isinstance(n, (int, np.integer)) or not 0 <= n <= max(np.shape(args[0]) or (0,)):
                raise ZarrliteError(f"np.diff: n={n!r} must be a whole number from 0 to the array's largest side")
        fn = np
        for part in name.split("."):
            fn = getattr(fn, part)
        self.check(f"np.{name}", fn, args, spec.kind, kwargs, data=spec.data)
        return call(f"np.{name}", fn, args, kwargs)

    def call_builtin(self, name: str, args: list, kwargs: dict):
        if name == "abs":
            return self.call_numpy("abs", args, kwargs)
        if name == "round":
            return self.call_numpy("round", args, kwargs)
        if len(args) == 1 and isinstance(args[0], (np.ndarray, np.generic)):  # max(x): the array's maximum
            return self.call_numpy("max" if name == "max" else "min", args, kwargs)
        if kwargs or not args or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            raise ZarrliteError(f"{name}() takes one array or several numbers here")
        return (max if name == "max" else min)(args)

    def astype(self, target, node):
        if len(node.args) != 1 or node.keywords:
            raise ZarrliteError("astype takes one argument, the dtype")
        dtype = self.dtype(node.args[0])
        self.check("astype", lambda a: a.astype(dtype), [target], "elementwise")
        return call("astype", lambda a: a.astype(dtype), [target], {})

    def dtype(self, node) -> np.dtype:
        if isinstance(node, ast.Name) and node.id in _DTYPE_NAMES:
            text = _DTYPE_NAMES[node.id]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            raise ZarrliteError("a dtype must be a string such as 'float32'")
        try:
            dtype = np.dtype(text)
        except TypeError:
            raise ZarrliteError(f"{text!r} is not a numpy dtype") from None
        if dtype.kind not in "biufc":
            raise ZarrliteError(f"dtype {text!r} is refused: numbers or booleans are needed")
        return dtype

    # -- the memory bound ----------------------------------------------------------------------------
    def check(self, name: str, fn, args: list, kind: str, kwargs: dict | None = None, data: int = 2) -> None:
        """Refuse a call whose output (or working copy) would exceed the budget, before it runs."""
        nbytes = predicted_nbytes(name, fn, args, kwargs or {}, kind, data)
        if nbytes > self.budget:
            raise BudgetError(f"{name} would make {nbytes:,} bytes, more than the expression budget of "
                              f"{self.budget:,} bytes")


_NAMES = {"x", "np", "numpy", *_BUILTINS, *_DTYPE_NAMES}


def _refuse_outside_the_language(tree) -> None:
    """Before anything runs: refuse constructs that are never allowed (first the node types, then names
    and private attributes), so a hostile part anywhere in the text is named even when another part
    would fail first. What depends on context (which attribute, which call, which keyword) is checked
    again as the tree is walked."""
    nodes = list(ast.walk(tree))
    for node in nodes:
        if type(node) in _REFUSED:
            raise ZarrliteError(f"{_REFUSED[type(node)]} are not allowed")
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id not in _NAMES:
            if id(node) in called:
                raise ZarrliteError(f"calls to {node.id!r} are not allowed")
            raise ZarrliteError(f"name {node.id!r} is not allowed (NameError: the only name is x)")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if id(node) in called:
                raise ZarrliteError(f"calls to the method {node.attr!r} are not allowed")
            raise ZarrliteError(f"attribute {node.attr!r} is not allowed")


def _numpy_name(node) -> str | None:
    """'fft.fft2' for `np.fft.fft2` / `numpy.fft.fft2`; None when the chain does not start at np."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in ("np", "numpy") and parts:
        return ".".join(reversed(parts))
    return None


def _operand(value, op_name):
    if isinstance(value, str) or value is None or value is ... or isinstance(value, slice):
        raise ZarrliteError(f"{op_name} of {value!r} is not allowed (strings are arguments only)")
    if isinstance(value, (list, tuple)):
        if not _all_numbers(value):
            raise ZarrliteError(f"{op_name} of a list or tuple holding other than numbers is not allowed")
        return np.asarray(value)
    return value


def _all_numbers(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_numbers(v) for v in value)
    return isinstance(value, (bool, int, float, complex, np.generic))


def _check_python_number(name, *operands):
    """Python's ints grow without bound: `10 ** 10 ** 10` or `1 << 10 ** 9` would take the worker's memory."""
    if name not in ("Pow", "LShift") or len(operands) != 2:
        return
    base, exponent = operands
    if not isinstance(base, int) or not isinstance(exponent, int):
        return
    bits = exponent * max(abs(base), 1).bit_length() if name == "Pow" else exponent + base.bit_length()
    if bits > MAX_INT_BITS:
        raise BudgetError(f"{name} of {base} and {exponent} would be a {bits:,}-bit number, more than the "
                          f"{MAX_INT_BITS} bits allowed")
