import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';

/** One step down a document: a mapping key (or the id of a list item), or an index. */
export type PathSegment = string | number;

/** 1-based line and column in a YAML or JSON text. */
export interface Position {
  line: number;
  column: number;
}

interface Located {
  document: Document;
  lines: LineCounter;
}

// Positions are needed only when an error is reported: the text is parsed again then (with the `yaml`
// library, which keeps every node's range), and the last few parses are kept for the other issues.
const RECENT = 8;
const recent = new Map<string, Located>();

function located(text: string): Located {
  let found = recent.get(text);
  if (!found) {
    const lines = new LineCounter();
    found = { document: parseDocument(text, { lineCounter: lines, uniqueKeys: false }), lines };
    if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
    recent.set(text, found);
  }
  return found;
}

/** `steps[0].run.inputs.x` → ['steps', 0, 'run', 'inputs', 'x']; `(document)` → []. */
export function parsePath(field: string): PathSegment[] {
  if (field === '(document)') return [];
  const segments: PathSegment[] = [];
  for (const match of field.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] && !/^\s*\(id: /.test(match[2])) segments.push(match[2].replace(/ \(id: .*\)$/, ''));
  }
  return segments;
}

const short = (id: string) => id.replace(/^.*[#/]/, '');

/** The item of a list that a key names: the one whose id (or name, or class) is `key`. */
function itemNamed(seq: Node & { items: unknown[] }, key: string, document: Document): Node | undefined {
  for (const item of seq.items) {
    const node = isAlias(item) ? item.resolve(document) : item;
    if (isScalar(node) && String(node.value) === key) return node;
    if (!isMap(node)) continue;
    for (const field of ['id', 'name', 'class']) {
      const value = node.get(field);
      if (typeof value === 'string' && (value === key || short(value) === key)) return node;
    }
  }
  return undefined;
}

/**
 * Where the node at `path` is in `text`: its key (`what: 'key'`, for an unknown field) or its value (for a
 * wrong value; the key when the value is empty). A path that leaves the text (through an `$import`, or to a
 * field that is not there) gives the deepest node found on the way; undefined when the text cannot be parsed.
 */
export function positionOf(text: string, path: readonly PathSegment[], what: 'key' | 'value' = 'value'): Position | undefined {
  const { document, lines } = located(text);
  if (document.errors.length) return undefined;
  const at = (n: unknown): Position | undefined => {
    const offset = n && typeof n === 'object' && 'range' in n ? (n as Node).range?.[0] : undefined;
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  let node: Node | null | undefined = document.contents;
  let key: unknown; // The key of the pair `node` is the value of, if it is one.
  let complete = true;
  let depth = 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(document);
    let next: Pair | Node | undefined;
    if (isMap(node) && !node.has('$import')) {
      next = typeof segment === 'number' ? node.items[segment] : node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
    } else if (isSeq(node)) {
      const item = typeof segment === 'number' ? node.items[segment] : itemNamed(node, segment, document);
      next = (item ?? undefined) as Pair | Node | undefined;
    }
    if (!next) {
      complete = false;
      break;
    }
    depth++;
    if (isPair(next)) {
      key = next.key;
      node = next.value as Node | null;
    } else {
      key = undefined;
      node = next;
    }
  }
  // A scalar where the path goes on is a shorthand (`reads: File` for its type): the scalar is what is meant.
  if (!complete) return depth ? (isScalar(node) ? at(node) : (at(key) ?? at(node))) : undefined;
  if (what === 'key') return at(key) ?? at(node);
  return at(node) ?? at(key);
}
