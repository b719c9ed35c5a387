"""Give every page of a built JupyterLite site (web/dist/lab/) a Content-Security-Policy: scripts only
from the site, so that nothing from a notebook output, a file or a link runs as page code. The pages'
inline scripts (JupyterLite's start-up and redirects) move into files next to them, which 'self'
allows; JSON data blocks stay where they are (they are not run).

    python web/lab/secure_pages.py web/dist/lab
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

# JupyterLab compiles its settings validators (ajv) and plural rules with `new Function`: without
# 'unsafe-eval' some 25 of its plugins fail to activate and no notebook opens (seen here), so the lab's
# pages allow eval; the viewer does not. Inline scripts, other origins' scripts and plugins stay
# refused. Fonts may be data: URLs; outputs show images from anywhere; the kernel fetches from anywhere.
POLICY = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; object-src 'none'; "
          "base-uri 'self'; form-action 'none'; connect-src * blob: data:; img-src * data: blob:; "
          "font-src 'self' data:; worker-src 'self' blob:; frame-src 'self' blob: data:; "
          "style-src 'self' 'unsafe-inline'")
META = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
NOT_RUN = re.compile(r"""type\s*=\s*["']?application/(ld\+)?json""", re.I)


def secure_page(path: Path) -> None:
    html = path.read_text()
    if META in html:
        return

    def externalise(m: re.Match) -> str:
        attrs, body = m.group(1), m.group(2)
        if re.search(r"\bsrc\s*=", attrs, re.I) or NOT_RUN.search(attrs) or not body.strip():
            return m.group(0)
        name = f"{path.stem}.{hashlib.sha256(body.encode()).hexdigest()[:10]}.js"
        (path.parent / name).write_text(body)
        return f'<script{attrs} src="./{name}"></script>'

    html = SCRIPT.sub(externalise, html)
    head = re.search(r"<head[^>]*>", html, re.I)
    if head is None:
        raise SystemExit(f"{path}: no <head> to put the Content-Security-Policy in")
    html = html[:head.end()] + "\n    " + META + html[head.end():]
    path.write_text(html)


def main(root: str) -> None:
    pages = sorted(Path(root).rglob("*.html"))
    for page in pages:
        secure_page(page)
    print(f"{len(pages)} pages given a Content-Security-Policy")


if __name__ == "__main__":
    main(sys.argv[1])
