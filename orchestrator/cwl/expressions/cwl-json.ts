/**
 * JSON text as CWL runners print values into strings: object keys sorted (the spec's rule) and, to
 * match the reference runner byte for byte, the layout of Python's `json.dumps(sort_keys=True)` —
 * `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`, floats as Python's `repr`. Used for
 * expression values inside interpolated strings; InitialWorkDir files holding JSON need the same.
 */
export function toCwlJsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item) => toCwlJsonText(item)).join(', ')}]`;
      return `{${Object.keys(value)
        .filter((key) => isJsonValue((value as Record<string, unknown>)[key]))
        .sort()
        .map((key) => `${quote(key)}: ${toCwlJsonText((value as Record<string, unknown>)[key])}`)
        .join(', ')}}`;
    default:
      return 'null';
  }
}

/** Object members that JSON drops. */
function isJsonValue(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

function quote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Python prints a float in exponent form when its decimal exponent is below -4 or above 15. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (Number.isInteger(value)) return JSON.stringify(value);
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent <= 15) return String(value);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}
