/** Kubernetes resource quantities and Go durations, as found in Argo manifests. */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

function parseQuantity(value: string | number, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*(Ki|Mi|Gi|Ti|Pi|Ei|m|k|K|M|G|T|P|E)?\s*$/.exec(String(value));
  if (!match) throw new Error(`invalid ${what} quantity '${value}'`);
  const base = Number(match[1]) * 10 ** Number(match[2] ?? 0);
  const suffix = match[3] ?? '';
  return base * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

/** A CPU quantity in cores: `2`, `0.5`, `500m`. */
export function parseCpu(value: string | number): number {
  return parseQuantity(value, 'cpu');
}

/** A memory quantity in MiB: `256Mi`, `1Gi`, `500M`, `1073741824`. */
export function parseMemoryMiB(value: string | number): number {
  return parseQuantity(value, 'memory') / 2 ** 20;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: a number of seconds (`5`, `"5"`) or a Go duration (`1m30s`, `500ms`). */
export function parseDurationMs(value: string | number): number {
  if (typeof value === 'number' || /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  } else {
    const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
    if (parts.length && parts.map((p) => p[0]).join('') === value.trim()) {
      return parts.reduce((total, p) => total + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
    }
  }
  throw new Error(`invalid duration '${value}'`);
}

export const formatCpu = (cores: number) => `${Math.round(cores * 1000) / 1000}`;
export const formatMiB = (mib: number) => `${Math.round(mib)}Mi`;
