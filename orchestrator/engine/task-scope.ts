import type { Scope } from './substitute.ts';
import type { NodeState } from '../../core/index.ts';

/**
 * What a DAG task may reference of the tasks that finished before it: `tasks.T.outputs.parameters.P`,
 * `tasks.T.outputs.result`, `tasks.T.exitCode`, `tasks.T.status`, `tasks.T.id`, and for an expanded task
 * (withParam/withItems) the aggregates Argo builds: JSON lists of its items' parameters and results.
 */
export function taskScope(done: ReadonlyMap<string, NodeState>, nodes: Readonly<Record<string, NodeState>>): Scope {
  const scope: Scope = {};
  for (const [task, node] of done) {
    const prefix = `tasks.${task}`;
    scope[`${prefix}.id`] = node.id;
    scope[`${prefix}.status`] = node.phase;
    scope[`${prefix}.startedAt`] = node.startedAt;
    if (node.finishedAt) scope[`${prefix}.finishedAt`] = node.finishedAt;
    if (node.type === 'TaskGroup') {
      Object.assign(scope, aggregate(prefix, (node.children ?? []).map((id) => nodes[id]).filter((n) => n !== undefined)));
      continue;
    }
    const outputs = node.outputs;
    for (const p of outputs?.parameters ?? []) scope[`${prefix}.outputs.parameters.${p.name}`] = p.value;
    if (outputs?.result !== undefined) scope[`${prefix}.outputs.result`] = outputs.result;
    if (outputs?.exitCode !== undefined) scope[`${prefix}.exitCode`] = outputs.exitCode;
  }
  return scope;
}

/** A value inside an aggregate: JSON stays JSON (`[1,2]`, `{"a":1}`), anything else is a string. */
function parsed(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function aggregate(prefix: string, items: NodeState[]): Scope {
  const parameterMaps: Record<string, string>[] = [];
  const byName = new Map<string, unknown[]>();
  const results: unknown[] = [];
  for (const item of items) {
    const params = item.outputs?.parameters ?? [];
    if (params.length) parameterMaps.push(Object.fromEntries(params.map((p) => [p.name, p.value])));
    for (const p of params) byName.set(p.name, [...(byName.get(p.name) ?? []), parsed(p.value)]);
    if (item.outputs?.result !== undefined) results.push(parsed(item.outputs.result));
  }
  const scope: Scope = {
    [`${prefix}.outputs.parameters`]: JSON.stringify(parameterMaps),
    [`${prefix}.outputs.result`]: JSON.stringify(results),
  };
  for (const [name, values] of byName) scope[`${prefix}.outputs.parameters.${name}`] = JSON.stringify(values);
  return scope;
}
