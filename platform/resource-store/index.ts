// The resource-store adapters: rows in the SQL database (embedded) and Kubernetes custom resources. Tests
// use `kubernetes-api-double.ts` and `resource-store.contract.ts` directly.
export { createSqlResourceStore, type SqlResourceStoreOptions } from './sql-resource-store.ts';
export { createKubernetesResourceStore, type KubernetesResourceStoreOptions } from './kubernetes-resource-store.ts';
export type { KubeconfigData } from '../kubernetes/index.ts';
export { DEFAULT_CRD_DIR } from './crd-schemas.ts';
