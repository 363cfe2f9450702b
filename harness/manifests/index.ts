/** Public surface of harness/manifests: the bed's manifests (manifests/) and the agent's ConfigMaps, as KubeDocuments. */
export { baselineDocuments, extraDocuments, extraPath, parseDocuments, agentConfigMaps, agentFiles, agentHash, agentSourcePath, AGENT_PATH, AGENT_HASH_ANNOTATION, MANIFESTS_DIR } from './manifests.ts';
