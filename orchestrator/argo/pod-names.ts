/**
 * How Argo names nodes and pods (controller `NodeID` and `GeneratePodName`, pod-name format v2, the
 * default since Argo 3.4): node status does not carry the pod name, so readers of logs compute it.
 */

const MAX_POD_PREFIX = 253 - 11;

/** FNV-1a, 32 bits, over the UTF-8 bytes: Go's `hash/fnv` New32a. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A node's id from its name (`wf.task`, `wf.outer.inner`); the root node's id is the Workflow's name. */
export function argoNodeId(workflowName: string, nodeName: string): string {
  return nodeName === workflowName ? workflowName : `${workflowName}-${fnv32a(nodeName)}`;
}

/** The pod that runs a node: `<workflow>-<template>-<hash of the node name>`. */
export function argoPodName(workflowName: string, nodeName: string, templateName: string): string {
  if (nodeName === workflowName) return workflowName;
  let prefix = templateName.includes('{{') ? workflowName : `${workflowName}-${templateName}`;
  if (prefix.length > MAX_POD_PREFIX) prefix = prefix.slice(0, MAX_POD_PREFIX);
  return `${prefix}-${fnv32a(nodeName)}`;
}
