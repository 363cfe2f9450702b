/** Public surface of harness/kube: the manifests loader and the KubeClient (client-node). */
export { baselineDocuments, extraDocuments, parseDocuments, agentConfigMaps, AGENT_HASH_ANNOTATION, type KubeDocument } from './manifests.ts';
