import { parse as parseYaml } from 'yaml';
import type { ToolParameter } from '../api/client';

/**
 * The inputs of a pasted CWL document, as the run form reads them; `problem` when the text is not a CWL
 * process (the node checks it whole at submission and names the line).
 */
export function documentInputs(text: string): { inputs: ToolParameter[] } | { problem: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    return { problem: `not YAML or JSON: ${(error as Error).message.split('\n')[0]}` };
  }
  const graph = (doc as { $graph?: unknown })?.$graph;
  if (Array.isArray(graph)) doc = graph.find((p: { id?: unknown }) => p?.id === 'main' || p?.id === '#main') ?? graph[0];
  if (!doc || typeof doc !== 'object' || !('class' in doc)) return { problem: 'not a CWL process: it has no "class"' };
  const raw = (doc as { inputs?: unknown }).inputs ?? [];
  const list: Record<string, unknown>[] = Array.isArray(raw)
    ? (raw as Record<string, unknown>[])
    : Object.entries(raw as Record<string, unknown>).map(([id, v]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { id, ...(v as Record<string, unknown>) } : { id, type: v }));
  const inputs = list.map((p) => {
    const type = p.type;
    const optional = (typeof type === 'string' && type.endsWith('?')) || (Array.isArray(type) && type.includes('null'));
    return {
      id: String(p.id ?? ''),
      type,
      required: !optional && p.default === undefined,
      ...(typeof p.label === 'string' ? { label: p.label } : {}),
      ...(typeof p.doc === 'string' ? { doc: p.doc } : Array.isArray(p.doc) ? { doc: p.doc.join('\n') } : {}),
      ...(p.default !== undefined ? { default: p.default } : {}),
    };
  });
  return { inputs };
}
