/** Argo's node id: the workflow's name for its root node, else `<workflow>-<fnv32a(node name)>`. */
export function nodeId(workflowName: string, nodeName: string): string {
  if (nodeName === workflowName) return workflowName;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(nodeName, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${workflowName}-${hash}`;
}
