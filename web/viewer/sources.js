// Getting local data into zl.open() without reading it: a dropped folder (a directory handle where the
// browser gives one, else the entries walked into File objects), a dropped .zip, several dropped or
// picked files (a kerchunk reference file and its targets), the directory picker.

/**
 * What a drop holds, as something zl.open() takes: one folder (a directory handle where the browser gives
 * one, else its entries walked into File objects), one .zip, or several files and folders together (a
 * kerchunk reference file with the files it names: Python finds the reference file among them).
 * @param {DataTransfer} dt
 * @returns {Promise<{source: any, label: string} | null>}
 */
export async function fromDrop(dt) {
  const items = [...(dt.items ?? [])].filter(i => i.kind === "file");
  if (items.length === 1) {
    const item = items[0];
    // Chromium: a real directory handle (lazy, no walking of a 20 GB tree).
    const withHandle = /** @type {any} */ (item);     // getAsFileSystemHandle: Chromium only, not in the DOM types
    const handle = withHandle.getAsFileSystemHandle ? await withHandle.getAsFileSystemHandle().catch(() => null) : null;
    if (handle && handle.kind === "directory") return { source: handle, label: handle.name };
    const entry = item.webkitGetAsEntry?.();
    if (entry && entry.isDirectory) {
      const files = await walk(entry, "");
      return { source: files, label: entry.name };
    }
    const file = item.getAsFile();
    if (file && /\.zip$/i.test(file.name)) return { source: file, label: file.name };
    if (file && /\.json$/i.test(file.name)) return { source: [file], label: file.name };
    if (file) throw new Error(`'${file.name}' is a file: drop a Zarr/N5 folder, a .zip of one, or a reference .json with the files it names`);
  }
  if (items.length > 1) {
    // entries first, all of them: a DataTransfer's items are gone after the first await
    const entries = items.map(i => i.webkitGetAsEntry?.() ?? null);
    const loose = items.map(i => i.getAsFile());
    const files = [];
    for (const [k, entry] of entries.entries()) {
      if (entry && entry.isDirectory) files.push(...await walk(entry, entry.name));
      else if (loose[k]) files.push(loose[k]);
    }
    return { source: files, label: labelOf(files) };
  }
  const files = [...(dt.files ?? [])];
  if (files.length === 1 && /\.zip$/i.test(files[0].name)) return { source: files[0], label: files[0].name };
  return null;
}

/** A short label for several files: the reference file's name where there is one. */
function labelOf(files) {
  const json = files.find(f => /\.json$/i.test(f.name));
  return json ? json.name : `${files.length} files`;
}

/**
 * What the files input gives: one .zip, or several files (a reference .json with its targets).
 * @param {FileList} list
 * @returns {{source: any, label: string}}
 */
export function fromPickedFiles(list) {
  const files = [...list];
  if (files.length === 1 && /\.zip$/i.test(files[0].name)) return { source: files[0], label: files[0].name };
  return { source: files, label: files.length === 1 ? files[0].name : labelOf(files) };
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
 * `<input webkitdirectory>` instead); undefined when the person cancelled.
 * @returns {Promise<FileSystemDirectoryHandle | null | undefined>}
 */
export async function pickDirectory() {
  const w = /** @type {any} */ (window);        // showDirectoryPicker: Chromium only, not in the DOM types
  if (typeof w.showDirectoryPicker !== "function") return null;
  try {
    return await w.showDirectoryPicker({ id: "zarrlite", mode: "read" });
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

/**
 * The page's ways to open local data: "Pick folder" (a directory handle, else the folder input), the
 * folder and .zip inputs, and a drop anywhere on the page.
 * @param {(source: any, label: string) => void} open
 * @param {(err: any) => void} onError
 */
export function bindLocalOpeners(open, onError) {
  const $ = id => /** @type {any} */ (document.getElementById(id));
  $("pick-folder").addEventListener("click", async () => {
    const handle = await pickDirectory();
    if (handle === undefined) return;
    if (handle) open(handle, handle.name);
    else $("folder").click();
  });
  $("pick-zip").addEventListener("click", () => $("zip").click());
  $("folder").addEventListener("change", e => { const f = e.target.files; if (f?.length) open(f, folderLabel(f)); e.target.value = ""; });
  $("zip").addEventListener("change", e => {
    const list = e.target.files;
    if (list?.length) { const got = fromPickedFiles(list); open(got.source, got.label); }
    e.target.value = "";
  });
  let depth = 0;     // dragenter/dragleave pairs: the hint stays while the drag is over the page
  document.addEventListener("dragenter", e => { if (e.dataTransfer?.types?.includes("Files")) { depth++; $("drop-hint").hidden = false; e.preventDefault(); } });
  document.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) $("drop-hint").hidden = true; });
  document.addEventListener("dragover", e => e.preventDefault());
  document.addEventListener("drop", async e => {
    e.preventDefault();
    depth = 0; $("drop-hint").hidden = true;
    try {
      const got = e.dataTransfer && await fromDrop(e.dataTransfer);
      if (!got) throw new Error("Drop one Zarr/N5 folder, one .zip, or a reference .json with the files it names");
      open(got.source, got.label);
    } catch (err) { onError(err); }
  });
}

const LINK_OPTIONS = ["region", "endpoint_url", "addressing_style", "account_name"];

/**
 * The object-store options a link carries beside its `source` (`?source=s3://bucket/x.zarr&region=…`,
 * `&endpoint_url=…` for an S3-compatible store, `&addressing_style=virtual`, `&account_name=…` for `az://`),
 * for `zl.open` (protocol.js HttpOptions); none for local sources.
 * @param {any} source
 * @param {string} [search] the page URL's query
 * @returns {{region?: string, endpoint_url?: string, addressing_style?: "virtual" | "path", account_name?: string}}
 */
export function linkOptions(source, search = location.search) {
  if (typeof source !== "string") return {};
  const params = new URLSearchParams(search);
  return Object.fromEntries(LINK_OPTIONS.filter(k => params.get(k)).map(k => [k, params.get(k)]));
}
