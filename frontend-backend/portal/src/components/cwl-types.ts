/** A CWL input type, as the run form reads it (ToolParameter.type: a name, `T?`, `T[]`, a union list, or an object). */
export type CwlType =
  | { kind: 'null' }
  | { kind: 'boolean' }
  | { kind: 'int' | 'long' | 'float' | 'double' }
  | { kind: 'string' }
  | { kind: 'File' | 'Directory' }
  | { kind: 'enum'; symbols: string[] }
  | { kind: 'array'; items: CwlType }
  | { kind: 'record'; fields: { name: string; type: CwlType; doc?: string }[] }
  | { kind: 'union'; options: CwlType[] }
  | { kind: 'any' };

/** The last part of a CWL identifier (`#main/mode/fast` → `fast`). */
export const shortName = (id: string) => id.split(/[#/]/).filter(Boolean).at(-1) ?? id;

export function parseCwlType(type: unknown): CwlType {
  if (typeof type === 'string') {
    if (type.endsWith('?')) return { kind: 'union', options: [{ kind: 'null' }, parseCwlType(type.slice(0, -1))] };
    if (type.endsWith('[]')) return { kind: 'array', items: parseCwlType(type.slice(0, -2)) };
    switch (type) {
      case 'null':
      case 'boolean':
      case 'int':
      case 'long':
      case 'float':
      case 'double':
      case 'string':
      case 'File':
      case 'Directory':
        return { kind: type };
      default:
        return { kind: 'any' };
    }
  }
  if (Array.isArray(type)) {
    const options = type.map(parseCwlType);
    return options.length === 1 ? options[0]! : { kind: 'union', options };
  }
  if (type && typeof type === 'object') {
    const t = type as { type?: unknown; symbols?: unknown; items?: unknown; fields?: unknown };
    if (t.type === 'enum' && Array.isArray(t.symbols)) return { kind: 'enum', symbols: t.symbols.map((s) => shortName(String(s))) };
    if (t.type === 'array') return { kind: 'array', items: parseCwlType(t.items) };
    if (t.type === 'record') {
      const fields = Array.isArray(t.fields)
        ? t.fields.map((f: { name?: unknown; id?: unknown; type?: unknown; doc?: unknown }) => ({
            name: shortName(String(f.name ?? f.id ?? '')),
            type: parseCwlType(f.type),
            ...(typeof f.doc === 'string' ? { doc: f.doc } : {}),
          }))
        : Object.entries(t.fields ?? {}).map(([name, f]) => ({ name, type: parseCwlType((f as { type?: unknown })?.type ?? f) }));
      return { kind: 'record', fields };
    }
    return parseCwlType(t.type);
  }
  return { kind: 'any' };
}

/** A type without its `null` option, and whether it had one. */
export function unwrapOptional(type: CwlType): { type: CwlType; optional: boolean } {
  if (type.kind !== 'union') return { type, optional: false };
  const rest = type.options.filter((o) => o.kind !== 'null');
  const optional = rest.length < type.options.length;
  return { type: rest.length === 1 ? rest[0]! : { kind: 'union', options: rest }, optional };
}

export function describeType(type: CwlType): string {
  switch (type.kind) {
    case 'array':
      return `${describeType(type.items)}[]`;
    case 'enum':
      return `one of ${type.symbols.join(', ')}`;
    case 'record':
      return 'record';
    case 'union':
      return type.options.map(describeType).join(' or ');
    default:
      return type.kind;
  }
}
