/**
 * Kubernetes label and field selectors, as the API server evaluates them: `a=b`, `a==b`, `a!=b`, `a`,
 * `!a`, `a in (x,y)`, `a notin (x,y)`, joined by commas (all must hold). Field selectors allow only the
 * equality forms, on `metadata.name` and `metadata.namespace` as for custom resources.
 */

export type Labels = Readonly<Record<string, string>> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`);

export class SelectorError extends Error {}

export function parseLabelSelector(selector: string): LabelMatcher {
  const requirements = split(selector).map((part): LabelMatcher => {
    let m = EQUALITY.exec(part);
    if (m) {
      const [, key = '', , op, value = ''] = m;
      return op === '!=' ? (l) => l?.[key] !== value : (l) => l?.[key] === value;
    }
    m = EXISTS.exec(part);
    if (m) {
      const [, not, key = ''] = m;
      return not ? (l) => l?.[key] === undefined : (l) => l?.[key] !== undefined;
    }
    m = SET.exec(part);
    if (m) {
      const [, key = '', , op, list = ''] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (l) => values.has(l?.[key] ?? '\0') : (l) => !values.has(l?.[key] ?? '\0');
    }
    throw new SelectorError(`unable to parse requirement: ${JSON.stringify(part)}`);
  });
  return (labels) => requirements.every((matches) => matches(labels));
}

export type FieldMatcher = (fields: { name: string; namespace: string }) => boolean;

export function parseFieldSelector(selector: string): FieldMatcher {
  const requirements = split(selector).map((part): FieldMatcher => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${part}'; can't understand '${part}'`);
    const [, field, op, value] = m;
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new SelectorError(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    const read = (f: { name: string; namespace: string }) => (field === 'metadata.name' ? f.name : f.namespace);
    return op === '!=' ? (f) => read(f) !== value : (f) => read(f) === value;
  });
  return (fields) => requirements.every((matches) => matches(fields));
}

/** Splits on the commas outside `( )`; an empty selector selects everything. */
function split(selector: string): string[] {
  if (selector.trim() === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  return parts;
}
