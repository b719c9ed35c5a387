// Getting local data into zl.open() without reading it: a dropped folder (a directory handle where the
// browser gives one, else the entries walked into File objects), a dropped .zip, the directory picker.

/**
 * What a drop holds, as something zl.open() takes.
 * @param {DataTransfer} dt
 * @returns {Promise<{source: any, label: string} | null>}
 */
export async function fromDrop(dt) {
  const items = [...(dt.items ?? [])].filter(i => i.kind === "file");
  if (items.length === 1) {
    const item = items[0];
    // Chromium: a real directory handle (lazy, no walking of a 20 GB tree).
    const handle = item.getAsFileSystemHandle ? await item.getAsFileSystemHandle().catch(() => null) : null;
    if (handle && handle.kind === "directory") return { source: handle, label: handle.name };
    const entry = item.webkitGetAsEntry?.();
    if (entry && entry.isDirectory) {
      const files = await walk(entry, "");
      return { source: files, label: entry.name };
    }
    const file = item.getAsFile();
    if (file && /\.zip$/i.test(file.name)) return { source: file, label: file.name };
    if (file) throw new Error(`'${file.name}' is a file: drop a Zarr/N5 folder or a .zip of one`);
  }
  const files = [...(dt.files ?? [])];
  if (files.length === 1 && /\.zip$/i.test(files[0].name)) return { source: files[0], label: files[0].name };
  return null;
}

/** Walk a dropped directory entry into File objects carrying `relativePath` (names only; nothing read). */
async function walk(dir, prefix) {
  const out = [];
  const reader = dir.createReader();
  for (;;) {
    const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) break;
    for (const e of batch) {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) out.push(...await walk(e, path));
      else {
        const f = await new Promise((res, rej) => e.file(res, rej));
        Object.defineProperty(f, "relativePath", { value: path });
        out.push(f);
      }
    }
  }
  return out;
}

/**
 * The directory picker where the browser has one; else null (the caller clicks an
 * `<input webkitdirectory>` instead).
 * @returns {Promise<FileSystemDirectoryHandle | null>}
 */
export async function pickDirectory() {
  if (typeof window.showDirectoryPicker !== "function") return null;
  try {
    return await window.showDirectoryPicker({ id: "zarrlite", mode: "read" });
  } catch (err) {
    if (err.name === "AbortError") return undefined;   // the user cancelled
    return null;
  }
}

/** A short label for a FileList from <input webkitdirectory>: the folder's name. */
export function folderLabel(files) {
  const first = files[0];
  const p = first?.webkitRelativePath || first?.name || "folder";
  return p.split("/")[0];
}
