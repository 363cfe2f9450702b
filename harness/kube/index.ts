/** Public surface of harness/kube: the KubeClient (client-node) and what it applies. The bed's manifests are harness/manifests. */
export { KubeClient, rolloutState, FIELD_MANAGER, CONFIG_DUMP_COMMAND, CLUSTERS_COMMAND, LEASE_NAMESPACE, type PodRef, type ExecTransport, type KubeClientOptions, type BackoffClock, type RolloutState, type HeldLease } from './client.ts';
export type { KubeApi, ConfigPredicate } from './api.ts';
export { KubeError, toKubeError } from './errors.ts';
export { DEFAULT_BACKOFF, delayFor, pause, type BackoffSchedule } from './backoff.ts';
export { objectPath, collectionPath, describe as describeDocument, type KubeDocument } from './resources.ts';
