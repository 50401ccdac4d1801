import type { Template } from './manifest.ts';
import type { PodResult } from './run-pod.ts';

/** The annotation naming the cluster a pod is placed on (the translation writes it with Admiralty's). */
export const TARGET_CLUSTER_ANNOTATION = 'archipel.io/target-cluster';

export interface PlacedPod {
  runName: string;
  nodeId: string;
  /** The cluster the pod is placed on. */
  cluster: string;
  /** The template, parameters already substituted. */
  template: Template;
  /** The pod's directory here: its logs are written to `logs/<container>.log` as they arrive. */
  podDir: string;
  signal: AbortSignal;
  /** Tells what the pod waits for (shown as the node's message while it runs). */
  progress(message: string | undefined): void;
}

/**
 * Runs pods on the clusters they are placed on. The other cluster admits them within what it reserved
 * for the run, so this engine's own scheduler does not count them.
 */
export interface PlacedPods {
  clusterId(): string;
  /** The pod's result, or `here`: it was placed again on this cluster, and runs here now. */
  run(pod: PlacedPod): Promise<PodResult | 'here'>;
}

/** The other cluster a template is placed on, if any. */
export function placedElsewhere(template: Template, placed: PlacedPods | undefined): string | undefined {
  const cluster = template.metadata?.annotations?.[TARGET_CLUSTER_ANNOTATION];
  return placed && cluster && cluster !== placed.clusterId() ? cluster : undefined;
}
