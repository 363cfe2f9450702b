/** Public surface of the cluster concern: versions, tools, and the live bed (kind + Istio). */
export { resolveIstio, pickNodeImage, preloadImages, knownIstioVersions, ISTIO_MINORS, NODE_IMAGES, DEFAULT_KIND_VERSION, KIND_VERSIONS } from './versions.ts';
export type { IstioRelease, IstioMinor, KindNodeImage } from './versions.ts';
export { up, down, status, upgradeIstio, readMarker, defaultDeps, STATUS_NAMESPACES } from './bed.ts';
export type { Bed, BedLease, BedOptions, BedDeps, DepsOptions, DownOptions, ClusterStatus, WorkloadStatus } from './bed.ts';
export { ensureKind, ensureIstioctl } from './tools.ts';
export type { ToolOptions, ResolvedTool } from './tools.ts';
export { preflight } from './preflight.ts';
export type { PreflightOptions, PreflightResult } from './preflight.ts';
export { cacheRoot, clusterKubeconfig, platformTarget, kindAsset, istioctlAsset, GITHUB_SOURCES } from './assets.ts';
export type { Target, Asset, ReleaseSources } from './assets.ts';
export { DEFAULT_CONNECT_TIMEOUT, ISTIO_DEFAULT_CONNECT_TIMEOUT, contextFor, parsePilotEnv, checkDuration, kindClusterConfig, istioOperator, istioOperatorYaml, markerConfigMap, parseMarkerData, MARKER_NAME, MARKER_NAMESPACE, MARKER_LABEL } from './config.ts';
export type { ClusterMarker, MeshSettings } from './config.ts';
export type { FetchLike } from './download.ts';
