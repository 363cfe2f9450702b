/** Public surface of harness/kube: the manifests loader and the KubeClient (client-node). */
export { baselineDocuments, extraDocuments, parseDocuments, agentConfigMaps, AGENT_HASH_ANNOTATION } from './manifests.ts';
export { KubeClient, rolloutState, FIELD_MANAGER, CONFIG_DUMP_COMMAND, CLUSTERS_COMMAND, LEASE_NAMESPACE, type PodRef, type ExecTransport, type KubeClientOptions, type BackoffClock, type RolloutState, type HeldLease } from './client.ts';
export type { KubeApi, ConfigPredicate } from './api.ts';
export { KubeError, toKubeError } from './errors.ts';
export { DEFAULT_BACKOFF, delayFor, pause, type BackoffSchedule } from './backoff.ts';
export { objectPath, collectionPath, describe as describeDocument, type KubeDocument } from './resources.ts';
