// What the adapters on the Kubernetes API share: loading a kubeconfig, per-request options for the client
// library, translating its failures into core errors, and checking names and label selectors. The client library's
// types stay inside these adapters.
export { loadKubeConfig, type KubeconfigData, type KubeconfigSource } from './kube-config.ts';
export { requestOptions } from './request-options.ts';
export { translateKubernetesError, translateStatus } from './kubernetes-errors.ts';
export { isQualifiedName, labelSelectorProblem } from './kubernetes-syntax.ts';
