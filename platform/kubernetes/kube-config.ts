import { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../core/index.ts';

/** A kubeconfig as plain data (what `KubeConfig.loadFromOptions` takes), for configuration files and tests. */
export interface KubeconfigData {
  clusters: { name: string; server: string; skipTLSVerify?: boolean; caData?: string; tlsServerName?: string }[];
  users: { name: string; token?: string; certData?: string; keyData?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

/** Where an adapter on the Kubernetes API finds its cluster and credentials: exactly one of these. */
export interface KubeconfigSource {
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** A kubeconfig as data. */
  kubeconfig?: KubeconfigData;
  /** The pod's service account (`KUBERNETES_SERVICE_HOST` and the mounted token). */
  inCluster?: boolean;
}

/**
 * The client library's `KubeConfig` from one source, or `InvalidInputError` when there is none, more than
 * one, or it cannot be read or names no current cluster. For the adapters on the Kubernetes API only: the
 * `KubeConfig` type does not leave them.
 */
export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const sources = [source.kubeconfigPath, source.kubeconfig, source.inCluster || undefined].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new InvalidInputError('give exactly one of kubeconfigPath, kubeconfig and inCluster', [{ path: 'kubeconfig', message: 'exactly one source' }]);
  }
  const kubeConfig = new KubeConfig();
  try {
    if (source.kubeconfig) {
      const { clusters, users, contexts, currentContext } = source.kubeconfig;
      kubeConfig.loadFromOptions({ clusters: clusters.map((c) => ({ skipTLSVerify: false, ...c })), users, contexts, currentContext });
    } else if (source.kubeconfigPath) {
      kubeConfig.loadFromFile(source.kubeconfigPath);
    } else {
      kubeConfig.loadFromCluster();
    }
  } catch (error) {
    throw new InvalidInputError(`cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`, [{ path: 'kubeconfig', message: 'unreadable' }], { cause: error });
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new InvalidInputError('the kubeconfig has no current cluster', [{ path: 'kubeconfig', message: 'no current context or cluster' }]);
  }
  return kubeConfig;
}
