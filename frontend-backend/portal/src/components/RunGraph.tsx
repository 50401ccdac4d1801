import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps, type ReactFlowInstance } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { RunStep } from '../api/client';
import { layoutRun } from './run-layout';

type StepNodeData = { step: RunStep; clusterName: string; expanded: boolean; onToggle?: () => void; onSelect: () => void; selected: boolean };

function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const { step, clusterName, expanded, onToggle, onSelect, selected } = data;
  const name = step.step.split('/').at(-1)!;
  const items = step.items.total > 1 || step.scatter ? ` · ${step.items.succeeded}/${step.items.total} items` : '';
  return (
    <div className={`step-node phase-${step.phase.toLowerCase()}${selected ? ' selected' : ''}`} data-step={step.step} data-phase={step.phase}>
      <Handle type="target" position={Position.Left} />
      <button type="button" className="step-name nodrag" onClick={onSelect} aria-pressed={selected} aria-label={`${step.step}: ${step.phase} on ${clusterName}${items}`}>
        {name}
      </button>
      <span className="step-meta">
        {step.phase}
        {items}
      </span>
      <span className="step-cluster" title={step.cluster}>
        {clusterName}
      </span>
      {onToggle && (
        <button type="button" className="toggle" onClick={onToggle} aria-expanded={expanded} aria-label={`${expanded ? 'collapse' : 'expand'} subworkflow ${step.step}`}>
          {expanded ? '−' : '+'}
        </button>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

/** The run's workflow as a DAG: a node per step, coloured by phase and labelled with the cluster that runs it. */
export function RunGraph({ steps, clusterName, selected, onSelect }: { steps: RunStep[]; clusterName(id: string): string; selected?: string | undefined; onSelect(step: string): void }) {
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const structure = steps.map((s) => `${s.step}<${(s.needs ?? []).join(',')}`).join(';');
  // Laid out again only when the shape changes, not on every phase change.
  const layout = useMemo(() => layoutRun(steps, expanded), [structure, expanded]);
  const byStep = new Map(steps.map((s) => [s.step, s]));
  // The whole DAG stays in view when the window changes size or a subworkflow opens.
  const [instance, setInstance] = useState<ReactFlowInstance<Node<StepNodeData>>>();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!instance || !box.current) return;
    const fit = () => void instance.fitView({ maxZoom: 1 });
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(box.current);
    return () => observer.disconnect();
  }, [instance, layout]);
  const nodes: Node<StepNodeData>[] = layout.placed.map(({ step: { step: path }, x, y }) => {
    const step = byStep.get(path)!;
    const toggle = () =>
      setExpanded((old) => {
        const next = new Set(old);
        if (next.has(path)) next.delete(path);
        else next.add(path);
        return next;
      });
    return {
      id: path,
      type: 'step',
      position: { x, y },
      draggable: false,
      data: { step, clusterName: clusterName(step.cluster), expanded: expanded.has(path), ...(step.kind === 'Workflow' ? { onToggle: toggle } : {}), onSelect: () => onSelect(path), selected: selected === path },
    };
  });
  const edges: Edge[] = layout.edges.map((e) => ({ id: `${e.from}->${e.to}`, source: e.from, target: e.to, animated: byStep.get(e.to)?.phase === 'Running' }));
  return (
    <div className="run-graph" role="group" aria-label="Workflow steps" ref={box}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        nodesConnectable={false}
        nodesDraggable={false}
        elementsSelectable={false}
        onNodeClick={(_, node) => onSelect(node.id)}
        onInit={setInstance}
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
