"""zarrlite info | get | check | view"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from . import open as open_node
from .array import Array
from .errors import ZarrliteError
from .group import describe_array
from .indexing import parse_selection
from .model import ImageModel, image_model


def image_lines(img: ImageModel) -> list[str]:
    """What `info` says of an image: its kind, levels, axes with pixel sizes and units, channels."""
    lines = [f"  image      {img.description or img.kind}" + ("  (labels)" if img.is_labels else "")]
    for k, lv in enumerate(img.levels):
        lines.append(f"  {'levels' if k == 0 else '':<10} {lv.path or '/'}  {lv.shape}")
    axes = [a.name + (f":{a.type}" if a.type else "") + (f" {a.scale:g} {a.unit}" if a.unit else "")
            for a in img.axes]
    lines.append(f"  axes       {', '.join(axes)}  (rows {img.axes[img.y_dim].name}, "
                 f"columns {img.axes[img.x_dim].name})")
    if img.c_dim >= 0:
        lines.append("  channels   " + ", ".join(
            c.label + f" {c.color}" + (f" {c.window[0]:g}..{c.window[1]:g}" if c.window else "")
            + ("" if c.visible else " (off)") for c in img.channels))
    if img.labels:
        lines.append(f"  labels     {', '.join(img.labels)}")
    return lines


def _image_lines(node) -> list[str]:
    try:
        return image_lines(image_model(node))
    except ZarrliteError:   # not an image (a plain group, a 1-D array): nothing to add
        return []


def _info(args) -> int:
    node = open_node(args.source, args.path or "")
    if isinstance(node, Array):
        print(f"/{node.path}  ({node.format} array)")
        print(f"  shape      {node.shape}")
        print(f"  dtype      {node.dtype}")
        print(f"  chunks     {node.chunks}" + (f"  shards {node.shards}" if node.shards else ""))
        print(f"  codecs     {', '.join(node.codecs)}")
        print(f"  fill_value {node.fill_value!r}")
        if node.dimension_names:
            print(f"  dimensions {list(node.dimension_names)}")
        if node.attrs:
            print("  attrs      " + json.dumps(node.attrs, default=str)[:400])
        print("\n".join(_image_lines(node)))
    else:
        print(node.tree())
        print("\n".join(_image_lines(node)))
    return 0


def _get(args) -> int:
    node = open_node(args.source, args.path)
    if not isinstance(node, Array):
        print(f"zarrlite: '{args.path}' is a group, not an array", file=sys.stderr)
        return 2
    data = node[parse_selection(args.select) if args.select else ...]
    if isinstance(data.dtype, np.dtypes.StringDType):
        # .npy holds fixed-length text; StringDType it saves only by pickle
        data = data.astype(f"U{max(int(np.strings.str_len(data).max(initial=0)), 1)}")
    elif data.dtype.hasobject:
        print(f"zarrlite: '{args.path}' holds bytes or JSON values, which .npy holds only by pickle", file=sys.stderr)
        return 2
    np.save(args.output, data, allow_pickle=False)
    print(f"wrote {args.output}: {describe_array(node).split(' chunks')[0]} -> {data.shape} {data.dtype}")
    return 0


def _check(args) -> int:
    from . import check

    report = check(args.source, args.path or "")
    print(json.dumps(report.as_dict(), indent=1) if args.json else report.text())
    return 0 if report.readable_in(*(args.runtime or ("python", "browser"))) else 1


def _view(args) -> int:
    from .serve import serve_viewer
    return serve_viewer(args.source, port=args.port, open_browser=not args.no_browser, allow=args.allow)


def _join_select(argv: list[str]) -> list[str]:
    """`--select -1,:` would look like an option to argparse: bind the value to the flag."""
    out = []
    it = iter(argv)
    for arg in it:
        if arg == "--select":
            value = next(it, None)
            out.append(arg if value is None else f"--select={value}")
        else:
            out.append(arg)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="zarrlite", description="Read Zarr v2, Zarr v3 and N5 arrays.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="tree, shapes, dtypes, chunking, codecs, attributes")
    p.add_argument("source", help="directory, .zip or http(s) URL")
    p.add_argument("path", nargs="?", default="")
    p.set_defaults(func=_info)
    p = sub.add_parser("get", help="read a selection into a .npy file")
    p.add_argument("source")
    p.add_argument("path")
    p.add_argument("--select", default=None, help='numpy-style selection, e.g. "0,:,100:200:2"')
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=_get)
    p = sub.add_parser("check", help="whether each array is readable here and in the browser, and if not why "
                                     "(exit status 1 when something is not)")
    p.add_argument("source")
    p.add_argument("path", nargs="?", default="")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--runtime", action="append", choices=("python", "browser"),
                   help="exit status 1 only for what is unreadable there (repeatable; default: both)")
    p.set_defaults(func=_check)
    p = sub.add_parser("view", help="serve the viewer on 127.0.0.1 (and SOURCE, if a local path: a folder, a "
                                    ".zip, or a kerchunk reference file with the local files it names)")
    p.add_argument("source", nargs="?", default=None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--allow", action="append", default=[], metavar="FOLDER",
                   help="a SOURCE reference file's local targets under FOLDER are served too (repeatable; by "
                        "default only those in the reference file's folder)")
    p.set_defaults(func=_view)
    args = parser.parse_args(_join_select(sys.argv[1:] if argv is None else list(argv)))
    try:
        return args.func(args)
    except ZarrliteError as e:
        print(f"zarrlite: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
