import type { Json, JsonObject } from './read-document.ts';
import type { PathSegment } from './yaml-positions.ts';

/** One bad field of a document, found in cwl-ts-auto's validation report. */
export interface ReportIssue {
  /** Down the document as written: keys, list indices, and the keys of map-form lists. */
  path: PathSegment[];
  message: string;
  /** Whether the key itself is wrong (an unknown field) or its value. */
  at: 'key' | 'value';
}

interface ReportNode {
  text: string;
  children: ReportNode[];
}

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The report's lines as a tree, by indentation. */
function parseReport(report: string): ReportNode[] {
  const root: ReportNode = { text: '', children: [] };
  const stack: { indent: number; node: ReportNode }[] = [{ indent: -1, node: root }];
  for (const line of report.split('\n')) {
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    while (stack.length > 1 && stack.at(-1)!.indent >= indent) stack.pop();
    const node = { text: line.trim(), children: [] };
    stack.at(-1)!.node.children.push(node);
    stack.push({ indent, node });
  }
  return root.children;
}

const descendants = (nodes: ReportNode[]): ReportNode[] => nodes.flatMap((n) => [n, ...descendants(n.children)]);

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function unknownField(name: string, expected: string[]): string {
  const close = expected.map((e) => [e, distance(name, e)] as const).filter(([e, d]) => d <= (Math.min(name.length, e.length) <= 3 ? 1 : 2));
  close.sort((a, b) => a[1] - b[1]);
  return close.length
    ? `unknown field "${name}" (did you mean "${close[0]![0]}"?)`
    : `unknown field "${name}" (expected one of ${expected.join(', ')})`;
}

const INVALID_FIELD = /^invalid field (\S+?),\s+expected one of: (.*)$/;
const FIELD_NOT_VALID = /^the `([^`]+)` field is not valid/;

/** The entries of a list written as a list or as a map keyed by id (as cwl-ts-auto reads both). */
function entriesOf(value: Json): { segment: PathSegment; item: Json }[] {
  if (Array.isArray(value)) return value.map((item, i) => ({ segment: i, item }));
  if (isObject(value)) return Object.entries(value).map(([key, item]) => ({ segment: key, item }));
  return [];
}

function valueAt(value: Json | undefined, path: readonly PathSegment[]): Json | undefined {
  for (const segment of path) {
    if (typeof segment === 'number') value = Array.isArray(value) ? value[segment] : isObject(value) ? Object.values(value)[segment] : undefined;
    else value = isObject(value) ? value[segment] : undefined;
  }
  return value;
}

/**
 * Could this item be the one a report about one failing item describes? It is when what the report says
 * holds of it: its unknown fields are there, and its wrong values are of the kind the report found.
 */
function fits(nodes: ReportNode[], item: Json): boolean {
  const found: ReportIssue[] = [];
  explainValue(nodes, item, [], found);
  return plausible(found, item);
}

function plausible(found: ReportIssue[], item: Json): boolean {
  return found.every((issue) => {
    const value = valueAt(item, issue.path);
    if (issue.at === 'key') return value !== undefined;
    const got = / but got (\w+)$/.exec(issue.message)?.[1];
    return got === undefined || got === (value === null ? 'null' : typeof value) || (got === 'object' && value === null);
  });
}

/**
 * Turns cwl-ts-auto's validation report (every alternative it tried, each list's failing items one after
 * another, with neither indices nor positions) into one issue per bad field, following the document
 * itself: the alternative of a union that matches the value (the record of its `class`, the list when
 * it is a list), and the items of a list that the report's failures fit, in order.
 */
export function explainValidationReport(report: string, document: JsonObject): ReportIssue[] {
  const issues: ReportIssue[] = [];
  const tree = parseReport(report);
  const topIsList = tree.some((n) => n.text === 'tried _ArrayLoader but' && n.children.some((c) => c.text !== 'Expected a list'));
  if (Array.isArray(document.$graph) && topIsList) explainValue(tree, document.$graph, ['$graph'], issues);
  else explainValue(tree, document, [], issues);
  return issues.length ? issues : [{ path: [], message: 'invalid CWL document', at: 'value' }];
}

/** `nodes` are the errors about one record (the children of its `Trying 'Class'`). */
function explainRecord(nodes: ReportNode[], value: Json, path: PathSegment[], issues: ReportIssue[]) {
  for (const node of nodes) {
    const unknown = INVALID_FIELD.exec(node.text);
    if (unknown) {
      const expected = unknown[2]!.split(',').map((e) => e.replace(/[`'\s]/g, '')).filter(Boolean);
      issues.push({ path: [...path, unknown[1]!], message: unknownField(unknown[1]!, expected), at: 'key' });
      continue;
    }
    const field = FIELD_NOT_VALID.exec(node.text)?.[1];
    if (!field) continue;
    const child = isObject(value) ? value[field] : undefined;
    if (child === undefined) issues.push({ path, message: `missing required field "${field}"`, at: 'value' });
    else explainValue(node.children, child, [...path, field], issues);
  }
}

/** `nodes` are the alternatives tried for one value (`tried _XLoader but`), or its expectations. */
function explainValue(nodes: ReportNode[], value: Json, path: PathSegment[], issues: ReportIssue[]) {
  const alternatives = nodes.filter((n) => /^tried \S+ but$/.test(n.text));
  const records = alternatives.flatMap((n) => n.children).filter((c) => /^Trying '/.test(c.text));
  const list = alternatives.find((n) => n.text === 'tried _ArrayLoader but' && n.children.some((c) => c.text !== 'Expected a list'));

  if (list && (Array.isArray(value) || (isObject(value) && !records.length))) return explainItems(list.children, value, path, issues);
  // A list field without alternatives reports its failing items directly (a map-form list is one too).
  if (isItemStart(nodes[0]) && (Array.isArray(value) || (isObject(value) && !fitsAsRecord(records, value)))) return explainItems(nodes, value, path, issues);
  if (isObject(value) && records.length) {
    const chosen = chooseRecord(records, value);
    return explainRecord(chosen.children, value, path, issues);
  }
  // A wrong value: the expectation that names what was found says most.
  const expectations = descendants(nodes)
    .map((n) => n.text)
    .filter((t) => /^Expected/.test(t) && !/Expected a Undefined|Expected a list|Expected a dict/.test(t));
  const best = expectations.find((t) => /but got/.test(t)) ?? expectations[0] ?? nodes.find((n) => n.text)?.text;
  issues.push({ path, message: best ? best.replace(/^Expected/, 'expected') : 'invalid value', at: 'value' });
}

function chooseRecord(records: ReportNode[], value: JsonObject): ReportNode {
  const cls = typeof value.class === 'string' ? value.class.replace(/^.*[#/]/, '') : undefined;
  return (
    records.find((r) => cls !== undefined && r.text === `Trying '${cls}'`) ??
    // Without a class: the alternative that finds least wrong (the class itself is never the problem).
    [...records].sort((a, b) => score(a) - score(b))[0]!
  );
}

function fitsAsRecord(records: ReportNode[], value: JsonObject): boolean {
  if (!records.length) return false;
  const found: ReportIssue[] = [];
  explainRecord(chooseRecord(records, value).children, value, [], found);
  return plausible(found, value);
}

const isItemStart = (node: ReportNode | undefined) =>
  node?.text === 'tried _ArrayLoader but' && node.children.length === 1 && node.children[0]!.text === 'Expected a list';

const score = (record: ReportNode) =>
  record.children.filter((c) => !/^the `class` field/.test(c.text)).length + (record.children.some((c) => /^the `class` field/.test(c.text)) ? 100 : 0);

/**
 * A list's failing items, reported one after another: each begins with the list loader itself tried on
 * the item (`tried _ArrayLoader but / Expected a list`), then the item's own alternatives.
 */
function explainItems(nodes: ReportNode[], value: Json, path: PathSegment[], issues: ReportIssue[]) {
  const groups: ReportNode[][] = [];
  for (const node of nodes) {
    const starts = isItemStart(node);
    if (starts || !groups.length) groups.push([]);
    if (!starts) groups.at(-1)!.push(node);
  }
  const entries = entriesOf(value);
  let next = 0;
  for (const group of groups) {
    if (!group.length) continue;
    let index = entries.findIndex((e, i) => i >= next && fits(group, e.item));
    if (index < 0) index = Math.min(next, entries.length - 1);
    if (index < 0) {
      explainValue(group, value, path, issues);
      continue;
    }
    next = index + 1;
    const entry = entries[index]!;
    explainValue(group, entry.item, [...path, entry.segment], issues);
  }
}

/** A path for messages: `steps[1] (id: align).run.inputs.reads`, naming list items by id where they have one. */
export function describePath(document: Json, path: readonly PathSegment[]): string {
  let out = '';
  let value: Json | undefined = document;
  for (const segment of path) {
    if (typeof segment === 'number') {
      value = Array.isArray(value) ? value[segment] : undefined;
      const id = isObject(value) && typeof value.id === 'string' ? value.id.replace(/^.*[#/]/, '') : undefined;
      out += `[${segment}]${id ? ` (id: ${id})` : ''}`;
    } else {
      value = isObject(value) ? value[segment] : undefined;
      out += out ? `.${segment}` : segment;
    }
  }
  return out || '(document)';
}
