/** Public surface of the envoy concern: load a sidecar's config dump and explain a connection. */
export { loadConfigDump, hasListener, hasCluster, type ConfigDump, type Section } from './load.ts';
export { explain, type ExplainQuery, type Explanation, type Verdict } from './explain.ts';
export { readConfigDump, readDumpFile, parseConfigDump, parseDumpJson, DEFAULT_DUMP_LIMITS, DEFAULT_MAX_DUMP_BYTES, DumpTooLargeError, type DumpLimits } from './read.ts';
export { renderExplanation, advise, type Advice } from './render.ts';
export { parseDestination, parseIp } from './ip.ts';
export type { Listener, Cluster, RouteConfig, FilterChain, Endpoint } from './model.ts';
export { convergedOn, type ConfigExpectation } from './converge.ts';
