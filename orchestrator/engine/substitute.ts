/**
 * Argo's `{{...}}` parameter substitution. Tags whose key is in the scope are replaced; others are left
 * for a later, narrower scope (a DAG's `{{tasks...}}` and `{{item}}` survive the template's own pass),
 * and `unresolvedTags` finds those that can no longer resolve.
 */
export type Scope = Record<string, string>;

const TAG = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function substitute(text: string, scope: Scope): string {
  return text.replace(TAG, (tag, key: string) => (Object.hasOwn(scope, key) ? scope[key]! : tag));
}

/** Substitutes every string inside a JSON-like value (not the keys). */
export function substituteDeep<T>(value: T, scope: Scope): T {
  if (typeof value === 'string') return substitute(value, scope) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => substituteDeep(v, scope)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, scope)])) as T;
  }
  return value;
}

/** Tags left in a value whose key starts with one of the prefixes (`tasks.`, `inputs.`, `item`, ...). */
export function unresolvedTags(value: unknown, prefixes: readonly string[]): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(TAG)) if (prefixes.some((p) => m[1]!.startsWith(p))) found.add(m[0]);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...found];
}

/** Every tag a leaf template may still hold after its own substitution, and that nothing will resolve. */
export const LEAF_PREFIXES = ['inputs.', 'outputs.', 'workflow.', 'tasks.', 'steps.', 'item', 'pod.', 'node.', 'retries'] as const;

/** Argo's string form of a withItems/withParam item: strings as they are, objects as JSON. */
export function itemValue(item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(item) ?? 'null';
}

/** The scope one item adds: `item`, and `item.<key>` for each key of an object item. */
export function itemScope(item: unknown): Scope {
  const scope: Scope = { item: itemValue(item) };
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    for (const [key, value] of Object.entries(item)) scope[`item.${key}`] = itemValue(value);
  }
  return scope;
}

/** How Argo names an item in node names: `task(0:value)`, objects as `key:value,key:value`. */
export function itemLabel(item: unknown): string {
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    return Object.keys(item)
      .sort()
      .map((key) => `${key}:${itemLabel((item as Record<string, unknown>)[key])}`)
      .join(',');
  }
  return itemValue(item);
}
