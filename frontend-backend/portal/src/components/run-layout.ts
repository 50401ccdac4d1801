import dagre from '@dagrejs/dagre';
import type { RunStep } from '../api/client';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

export interface PlacedStep {
  step: RunStep;
  x: number;
  y: number;
}

const parentOf = (step: string) => (step.includes('/') ? step.slice(0, step.lastIndexOf('/')) : undefined);

/**
 * The steps to draw and their edges: a subworkflow step's own steps only while it is expanded (then
 * linked from it), each step's `needs` as edges; laid out left to right by dagre.
 */
export function layoutRun(steps: RunStep[], expanded: ReadonlySet<string>): { placed: PlacedStep[]; edges: { from: string; to: string }[] } {
  const visible = steps.filter((s) => {
    for (let p = parentOf(s.step); p !== undefined; p = parentOf(p)) if (!expanded.has(p)) return false;
    return true;
  });
  const shown = new Set(visible.map((s) => s.step));
  const edges: { from: string; to: string }[] = [];
  for (const s of visible) {
    for (const need of s.needs ?? []) if (shown.has(need)) edges.push({ from: need, to: s.step });
    const parent = parentOf(s.step);
    if (parent !== undefined && !(s.needs ?? []).length) edges.push({ from: parent, to: s.step });
  }
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const s of visible) graph.setNode(s.step, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of edges) graph.setEdge(e.from, e.to);
  dagre.layout(graph);
  const placed = visible.map((step) => {
    const node = graph.node(step.step);
    return { step, x: node.x - NODE_WIDTH / 2, y: node.y - NODE_HEIGHT / 2 };
  });
  return { placed, edges };
}
