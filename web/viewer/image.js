// The image model's types (it is computed in Python: zarrlite.model, asked for with
// zl.viewer("image", [path])) and the display maths of its units.

/**
 * @typedef {{path: string, shape: number[], chunks: number[], shards: number[] | null, dtype: string,
 *   outDtype: string, codecs: string[], fillValue: any, scale: number[], translation: number[] | null,
 *   factor: number[], bounds?: (number[] | null)[] | null}} Level (`bounds`: a rectilinear grid's
 *   chunk starts and end per dimension whose edges vary)
 * @typedef {{name: string, type: string | null, unit: string | null, scale: number}} Axis
 * @typedef {{index: number, label: string, color: string, window: [number, number] | null,
 *   visible: boolean, sourceColor?: string | null}} Channel
 * @typedef {{path: string, name: string, kind: string, format: string, levels: Level[], axes: Axis[],
 *   ndim: number, yDim: number, xDim: number, cDim: number, channels: Channel[], defaultIndex: number[],
 *   isLabels: boolean, labels: string[], description: string | null, coordinates: object | null,
 *   cf?: CF | null, dtype: string}} ImageModel (`coordinates`: zarrlite.coords; `cf`: zarrlite.cf_values)
 * @typedef {{scale: number | null, offset: number | null, missing: number[], validMin: number | null,
 *   validMax: number | null, decodes: boolean, longName: string | null, units: string | null,
 *   standardName: string | null}} CF how stored numbers become the values shown (reads of `decodes`
 *   data go through Python: NaN where missing)
 */

/** "micrometer" -> "µm" etc.; null when unknown. */
export function unitSymbol(unit) {
  if (!unit) return null;
  const map = { micrometer: "µm", micron: "µm", um: "µm", "µm": "µm", nanometer: "nm", nm: "nm",
    millimeter: "mm", mm: "mm", centimeter: "cm", cm: "cm", meter: "m", m: "m", kilometer: "km", km: "km",
    angstrom: "Å", picometer: "pm", second: "s", millisecond: "ms", degree: "°" };
  return map[String(unit).toLowerCase()] ?? String(unit);
}

const TO_METERS = { "pm": 1e-12, "Å": 1e-10, "nm": 1e-9, "µm": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1, "km": 1e3 };

/** @type {[string, number][]} */
const PREFIXES = [["km", 1e3], ["m", 1], ["mm", 1e-3], ["µm", 1e-6], ["nm", 1e-9], ["pm", 1e-12]];

/** A length in `unit` -> a readable string, switching prefixes when the unit is a length. */
export function formatLength(value, unit) {
  const sym = unitSymbol(unit);
  const m = TO_METERS[sym];
  if (m === undefined) return `${trim(value)} ${sym ?? ""}`.trim();
  const meters = value * m;
  for (const [u, f] of PREFIXES) {
    if (Math.abs(meters) >= f * 0.999) return `${trim(meters / f)} ${u}`;
  }
  return `${trim(value)} ${sym}`;
}

const trim = v => String(Number(v.toPrecision(4)));

/** Whether the unit is a length (a scale bar makes sense). */
export const isLength = unit => TO_METERS[unitSymbol(unit)] !== undefined;
