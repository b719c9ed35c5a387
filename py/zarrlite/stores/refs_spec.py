"""kerchunk reference documents -> a mapping of key -> bytes | Ref. Pure: no I/O.

A reference set (kerchunk's format, versions 0 and 1) maps each key of a Zarr store to its value
inline (a string, `base64:`-prefixed for binary) or to bytes of another file: `[url]` (the whole file)
or `[url, offset, length]`. Version 1 adds `templates` (names substituted into URLs as `{{name}}`) and
`gen` (keys generated over the product of `dimensions`, with `{{ }}` expressions in key, url, offset and
length).

Nothing from the document runs as code: `{{ }}` holds a name or integer arithmetic (+ - * // % and
parentheses over integers, dimension values and templates), evaluated by walking its syntax tree; jinja
filters, calls and anything else are refused. Everything is bounded (`Limits`): the number of
references (gen products counted before any is made), key lengths, offsets and lengths, expression
sizes; keys are checked as every store key is (no `..`, nothing absolute); a template's value may not
hold `{{` (templates referencing templates).
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import math
import os
import posixpath
import re
import urllib.parse
from dataclasses import dataclass

from ..errors import KeyRejectedError, MetadataError
from .keys import check_key

# Keys whose presence at the top level makes a JSON object a version-0 reference set
METADATA_NAMES = (".zgroup", ".zarray", ".zattrs", ".zmetadata", "zarr.json")


@dataclass(frozen=True)
class Limits:
    max_refs: int = 1_000_000           # references in one set, generated ones included
    max_key: int = 1024                 # characters of one key
    max_offset: int = 1 << 53           # no file is larger
    max_length: int = 1 << 31           # one referenced value (a chunk)
    max_expression: int = 256           # characters of one {{ }} expression


@dataclass(frozen=True)
class Ref:
    """Bytes [offset, offset + length) of `target` (a URL or an absolute local path); `length` None:
    the whole target."""
    target: str
    offset: int = 0
    length: int | None = None


def is_reference_set(doc) -> bool:
    """Whether a decoded JSON document is a kerchunk reference set (version 1, or version 0: an object
    holding Zarr metadata keys with reference values)."""
    if not isinstance(doc, dict):
        return False
    if "refs" in doc and isinstance(doc.get("refs"), dict) and "version" in doc:
        return True
    if "version" in doc:
        return False
    names = [k for k in doc if isinstance(k, str) and k.rsplit("/", 1)[-1] in METADATA_NAMES]
    return bool(names) and all(isinstance(doc[k], (str, list, dict)) for k in names)


def parse_references(doc, base: str | None = None, *, local_targets: bool = True,
                     limits: Limits = Limits(), resolve=None) -> dict[str, bytes | Ref]:
    """The mapping of a reference document (decoded JSON). Relative target URLs resolve against `base`
    (the reference file's URL or path; None: the current directory). `local_targets=False` refuses
    targets on the local file system (a reference file read from a URL may point only at URLs).
    `resolve(url) -> target` replaces that resolution (references among dropped files resolve their
    targets against the files, refs_dropped.py)."""
    if not is_reference_set(doc):
        raise MetadataError("not a kerchunk reference set: expected {'version': 1, 'refs': {...}} or an "
                            "object of Zarr keys (version 0)")
    version = doc.get("version", 0)
    if version not in (0, 1):
        raise MetadataError(f"reference set version {version!r} is not supported (0 and 1 are)")
    refs = doc["refs"] if version == 1 else doc
    templates = _templates(doc.get("templates") or {}) if version == 1 else {}
    gens = doc.get("gen") or [] if version == 1 else []
    if not isinstance(gens, list):
        raise MetadataError("reference set 'gen' must be a list")
    if len(refs) + sum(_gen_count(g, i, limits) for i, g in enumerate(gens)) > limits.max_refs:
        raise MetadataError(f"reference set has more than {limits.max_refs:,} references (limit max_refs)")
    resolve = _Resolver(base, local_targets, resolve)
    urls: dict[str, str] = {}  # a URL's text -> its target: refs' URLs name templates only, so render once
    out: dict[str, bytes | Ref] = {}
    for key, value in refs.items():
        out[_key(key, limits)] = _value(key, value, templates, resolve, limits, urls)
    for i, gen in enumerate(gens):
        out.update(_generate(gen, i, templates, resolve, limits))
    return out


def _key(key, limits: Limits) -> str:
    if not isinstance(key, str) or len(key) > limits.max_key:
        raise KeyRejectedError(f"reference key {str(key)[:80]!r} is not a string of at most {limits.max_key} "
                               "characters")
    return check_key(key)


def _templates(templates) -> dict[str, str]:
    if not isinstance(templates, dict):
        raise MetadataError("reference set 'templates' must be an object of name -> text")
    for name, value in templates.items():
        if not isinstance(name, str) or not name.isidentifier() or not isinstance(value, str):
            raise MetadataError(f"reference template {name!r}: a name and a text are expected")
        if "{{" in value:
            raise MetadataError(f"reference template {name!r} refers to another template ({value[:80]!r}): "
                                "templates are substituted once, never into each other")
    return dict(templates)


def _value(key, value, templates, resolve, limits: Limits, urls: dict) -> bytes | Ref:
    if isinstance(value, str):
        if value.startswith("base64:"):
            try:
                return base64.b64decode(value[7:], validate=True)
            except (binascii.Error, ValueError) as e:
                raise MetadataError(f"reference {key!r}: bad base64 value ({e})") from None
        return value.encode("utf-8")
    if isinstance(value, dict):  # inline JSON metadata, as fsspec accepts
        return json.dumps(value).encode()
    if isinstance(value, list) and len(value) in (1, 3) and isinstance(value[0], str):
        target = urls.get(value[0])
        if target is None:
            target = urls[value[0]] = resolve(render(value[0], templates, limits, f"reference {key!r} url"), key)
        if len(value) == 1:
            return Ref(target)
        return Ref(target, _bounded(key, "offset", value[1], limits.max_offset),
                   _bounded(key, "length", value[2], limits.max_length))
    raise MetadataError(f"reference {key!r}: expected a string, [url] or [url, offset, length], got "
                        f"{json.dumps(value)[:80]}")


def _bounded(key, what, n, limit) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= limit:
        raise MetadataError(f"reference {key!r}: {what} {n!r} is not an integer in 0..{limit}")
    return n


def _dimension(gen_index, name, spec) -> range | list:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, dict) and all(isinstance(spec.get(k, 0), int) for k in ("start", "stop", "step")) \
            and "stop" in spec and spec.get("step", 1) != 0:
        return range(spec.get("start", 0), spec["stop"], spec.get("step", 1))
    raise MetadataError(f"reference gen {gen_index}: dimension {name!r} must be a list or "
                        "{start, stop, step} of integers")


def _dimensions(gen, gen_index) -> dict:
    if not isinstance(gen, dict) or not isinstance(gen.get("key"), str) or not isinstance(gen.get("url"), str) \
            or not isinstance(gen.get("dimensions"), dict):
        raise MetadataError(f"reference gen {gen_index}: expected an object with 'key', 'url' and 'dimensions'")
    if ("offset" in gen) != ("length" in gen):
        raise MetadataError(f"reference gen {gen_index}: 'offset' and 'length' go together")
    return {name: _dimension(gen_index, name, spec) for name, spec in gen["dimensions"].items()}


def _gen_count(gen, gen_index, limits: Limits) -> int:
    try:
        return math.prod(len(d) for d in _dimensions(gen, gen_index).values())
    except OverflowError:  # a range longer than sys.maxsize
        raise MetadataError(f"reference gen {gen_index}: more than {limits.max_refs:,} references") from None


def _generate(gen, gen_index, templates, resolve, limits: Limits) -> dict[str, Ref]:
    import itertools

    dims = _dimensions(gen, gen_index)
    where = f"reference gen {gen_index}"
    key_t, url_t = (compile_template(gen[f], limits, f"{where} {f}") for f in ("key", "url"))
    span = [compile_number(gen[f], limits, f"{where} {f}") for f in ("offset", "length") if f in gen]
    out = {}
    for values in itertools.product(*dims.values()):
        names = {**templates, **dict(zip(dims, values))}
        key = _key(key_t(names), limits)
        target = resolve(url_t(names), key)
        if span:
            offset, length = (t(names, key) for t in span)
            out[key] = Ref(target, _bounded(key, "offset", offset, limits.max_offset),
                           _bounded(key, "length", length, limits.max_length))
        else:
            out[key] = Ref(target)
    return out


def compile_number(spec, limits: Limits, where: str):
    """A function (names, key) -> the integer of an offset or length: a number, a lone `{{ expression }}`
    (evaluated straight to its value), or a template whose text is an integer."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        return lambda names, key: spec
    text = str(spec).strip()
    lone = _PLACEHOLDER.fullmatch(text)
    if lone and "{{" not in lone.group(1):
        value = _expression(lone.group(1), limits, where)
    else:
        value = compile_template(text, limits, where)

    def number(names, key):
        result = value(names)
        if isinstance(result, int) and not isinstance(result, bool):
            return result
        try:
            return int(result)
        except (TypeError, ValueError):
            raise MetadataError(f"{where}, key {key!r}: {str(result)[:40]!r} is not an integer") from None
    return number


# -- {{ }} templates ----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}
_MAX_INT = 1 << 63


def render(text: str, names: dict, limits: Limits = Limits(), where: str = "reference") -> str:
    """`text` with each `{{ expression }}` replaced by its value (see the module's doc)."""
    return compile_template(text, limits, where)(names) if "{{" in text else text


def compile_template(text: str, limits: Limits, where: str):
    """A function names -> the rendered text, with each expression parsed once."""
    pieces = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        pieces.append(text[last:m.start()])
        pieces.append(_expression(m.group(1), limits, where))
        last = m.end()
    pieces.append(text[last:])
    if "{{" in pieces[-1] or "}}" in "".join(p for p in pieces if isinstance(p, str)):
        raise MetadataError(f"{where}: unbalanced '{{{{' / '}}}}' in {text[:80]!r}")
    if len(pieces) == 1:
        return lambda names: text

    def rendered(names):
        return "".join(p if isinstance(p, str) else str(p(names)) for p in pieces)
    return rendered


def _expression(source: str, limits: Limits, where: str):
    source = source.strip()
    if len(source) > limits.max_expression:
        raise MetadataError(f"{where}: expression longer than {limits.max_expression} characters")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        tree = None
    if tree is None or not _allowed(tree):
        raise MetadataError(f"{where}: {{{{ {source[:80]} }}}} is not a name or integer arithmetic "
                            "(+ - * // % and parentheses); nothing else is evaluated")

    def evaluate(node, names):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise MetadataError(f"{where}: {{{{ {source} }}}} names {node.id!r}, which is neither a "
                                    "template nor a dimension")
            return names[node.id]
        if isinstance(node, ast.UnaryOp):
            return _checked(-_number(evaluate(node.operand, names)) if isinstance(node.op, ast.USub)
                            else _number(evaluate(node.operand, names)))
        a, b = _number(evaluate(node.left, names)), _number(evaluate(node.right, names))
        if b == 0 and isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            raise MetadataError(f"{where}: {{{{ {source} }}}} divides by zero")
        return _checked(_OPS[type(node.op)](a, b))

    def _number(v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise MetadataError(f"{where}: {{{{ {source} }}}} does arithmetic on {v!r}, not an integer")
        return v

    def _checked(v):
        if abs(v) > _MAX_INT:
            raise MetadataError(f"{where}: {{{{ {source} }}}} is out of range")
        return v

    if isinstance(tree, ast.Name):  # the common case, a template or dimension by name
        name = tree.id
        return lambda names: names[name] if name in names else evaluate(tree, names)
    return lambda names: evaluate(tree, names)


def _allowed(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and _allowed(node.operand)
    if isinstance(node, ast.BinOp):
        return type(node.op) in _OPS and _allowed(node.left) and _allowed(node.right)
    return False


# -- target URLs --------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(text: str) -> bool:
    return bool(_SCHEME.match(text))


class _Resolver:
    """Target URL -> absolute URL or local path, relative ones against the reference file's location."""

    def __init__(self, base: str | None, local_targets: bool, resolve=None):
        self.resolve = resolve or (lambda url: resolve_target(url, base))
        self.local_targets = local_targets
        self.cache: dict[str, str] = {}

    def __call__(self, url: str, key: str) -> str:
        target = self.cache.get(url)
        if target is None:
            if not url:
                raise MetadataError("a reference has an empty target URL")
            target = self.cache[url] = self.resolve(url)
        if not self.local_targets and not is_url(target):
            raise KeyRejectedError(f"reference {key!r} points at the local file {target!r}, but the reference "
                                   "file came from a URL: its targets must be URLs")
        return target


def resolve_target(url: str, base: str | None) -> str:
    """An absolute URL (a `file://` URL becomes its path) or an absolute local path for a target `url`."""
    if not url:
        raise MetadataError("a reference has an empty target URL")
    if url.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    if is_url(url):
        return url
    if base is not None and is_url(base):
        return urllib.parse.urljoin(base, url)
    if os.path.isabs(url):
        return url
    folder = os.path.dirname(os.path.abspath(base)) if base is not None else os.getcwd()
    return posixpath.normpath(os.path.join(folder, url))
