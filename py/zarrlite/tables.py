"""A page of a 1-D or 2-D array of strings, bytes, JSON values, datetimes or structured values as a table
of text cells: what the viewer shows for arrays that are not images (web/viewer/table.js). The text
follows numpy's conventions (ISO 8601 datetimes, NaT, timedelta units, bytes literals); the page treats
every cell as text.
"""

from __future__ import annotations

import json

import numpy as np

from .errors import ZarrliteError

PAGE_ROWS = 100        # rows per page unless asked for fewer
MAX_COLUMNS = 64       # of a 2-D array's second axis
MAX_CELL_CHARS = 200   # longer values end in an ellipsis
TABLE_KINDS = ("str", "bytes", "json", "struct", "datetime64", "timedelta64")


def is_table(dtype: np.dtype) -> bool:
    """Whether arrays of `dtype` show as a table of values rather than an image."""
    from .packed import value_kind

    return value_kind(np.dtype(dtype)) in TABLE_KINDS


def cell(value, dtype: np.dtype) -> str:
    """The text of one element of an array of `dtype`."""
    if dtype.names:
        return ", ".join(f"{name}={cell(value[name], dtype[name])}" for name in dtype.names)
    if dtype.subdtype is not None or isinstance(value, np.ndarray):
        return "[" + ", ".join(cell(v, np.asarray(value).dtype) for v in np.asarray(value).ravel()) + "]"
    if dtype.kind == "M":
        text = str(np.datetime_as_string(value))
    elif dtype.kind == "m":
        text = "NaT" if np.isnat(value) else str(value)
    elif dtype.kind == "V":
        text = bytes(value).hex(" ")
    elif isinstance(value, (bytes, np.bytes_)):
        text = repr(bytes(value))
    elif dtype == np.dtype(object):
        text = json.dumps(value, ensure_ascii=False, default=repr)
    else:
        text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS - 1] + "…"


def table_of(values: np.ndarray, dtype: np.dtype, start: int, total_rows: int, total_columns: int) -> dict:
    """{"columns", "rows", "start", "total", "totalColumns"}: `values` (1-D: rows; 2-D: rows x columns)
    as text. Columns are the field names of a 1-D structured array, else "value" (1-D) or the column
    index (2-D)."""
    if values.ndim == 1 and dtype.names:
        columns = list(dtype.names)
        rows = [[cell(v[name], dtype[name]) for name in dtype.names] for v in values]
    elif values.ndim == 1:
        columns, rows = ["value"], [[cell(v, dtype)] for v in values]
    else:
        columns = [str(i) for i in range(values.shape[1])]
        rows = [[cell(v, dtype) for v in row] for row in values]
    return {"columns": columns, "rows": rows, "start": start, "total": total_rows, "totalColumns": total_columns}


async def table_page(arr, start: int = 0, count: int = PAGE_ROWS) -> dict:
    """The rows `start` .. `start + count` of a 0-, 1- or 2-D array (its first MAX_COLUMNS columns)."""
    if arr.ndim > 2:
        raise ZarrliteError(f"array '{arr.path}': a table shows 1-D and 2-D arrays, this one has {arr.ndim} dimensions")
    if not is_table(arr.dtype):
        raise ZarrliteError(f"array '{arr.path}': {arr.dtype} values show as an image, not a table")
    shape = arr.shape or (1,)
    total = shape[0]
    start = max(0, min(int(start), total))
    count = max(0, min(int(count), PAGE_ROWS))
    rows = slice(start, min(start + count, total))
    if arr.ndim == 0:
        values = np.asarray(await arr.get(())).reshape(1)[rows]
    elif arr.ndim == 1:
        values = await arr.get((rows,))
    else:
        values = await arr.get((rows, slice(0, MAX_COLUMNS)))
    return table_of(values, np.dtype(arr.dtype), start, total, shape[1] if arr.ndim == 2 else 1)


def viewer_calls(node) -> dict:
    """The viewer_api functions of this module; `node(path)` opens a node of the session's source."""
    from .webworker import json_text

    async def table(path: str, start: int = 0, count: int = PAGE_ROWS) -> str:
        """JSON: a page of the array at `path` as text cells (see `table_page`)."""
        return json_text(await table_page(await node(path), start, count))

    return {"table": table}
