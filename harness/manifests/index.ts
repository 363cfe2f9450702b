/** Public surface of harness/manifests: the bed's manifests (manifests/) and the agent's ConfigMaps, as KubeDocuments. */
export { baselineDocuments, extraDocuments, extraPath, parseDocuments, withoutAgentStamp, agentConfigMaps, agentFiles, agentHash, agentSourcePath, AGENT_PATH, AGENT_HASH_ANNOTATION, MANIFESTS_DIR } from './manifests.ts';
export { manifestFilesUnder } from './files.ts';
// The documents are the kube layer's type; re-exported so a loader user needs one import.
export type { KubeDocument } from '../kube/index.ts';
