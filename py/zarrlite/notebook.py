"""Rich display in Jupyter (CPython) and JupyterLite (Pyodide): HTML summaries of arrays and groups with a
thumbnail (zarrlite.summaries), and `show()`, a plane as an inline image with the viewer's window/level
and colormaps (zarrlite.inline); what to show comes from the image model (zarrlite.model).

    arr                                    # last expression of a cell: summary table + thumbnail
    zarrlite.show(arr, "0,:,:", window=(0, 4000), colormap="viridis")
    await zarrlite.show(arr)               # the same, where synchronous reads are impossible (JupyterLite)
"""

from __future__ import annotations

from .inline import SHOW_SIZE, Shown, default_selection, show
from .png import png_bytes
from .runtime import IN_PYODIDE
from .summaries import (THUMBNAIL_BUDGET, THUMBNAIL_SIZE, Summary, array_html, group_html, summary,
                        thumbnail_async)

__all__ = ["show", "Shown", "summary", "Summary", "array_html", "group_html", "thumbnail_async", "png_bytes",
           "default_selection", "site_url", "SHOW_SIZE", "THUMBNAIL_SIZE", "THUMBNAIL_BUDGET"]


def site_url(path: str = "") -> str:
    """The absolute URL of `path` relative to the JupyterLite site root (where `lab/` and `files/` are),
    e.g. `site_url("files/data/sample.zarr")`. In CPython the path is returned unchanged."""
    if not IN_PYODIDE:
        return path
    import js  # Pyodide only
    from urllib.parse import urljoin

    here = str(js.location.href)
    # The kernel runs in a worker under <root>/extensions/@jupyterlite/pyodide-kernel-extension/static/
    root = here.split("/extensions/", 1)[0] + "/" if "/extensions/" in here else urljoin(here, ".")
    return urljoin(root, path)
