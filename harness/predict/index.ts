/** Public surface of the predict concern: what each Istio version's istiod would do with the user's manifests. */
export { loadManifests, loadMeshConfig, manifestFiles } from './load.ts';
export { ISTIO_DEFAULT_MESH, parseMeshConfig, parsePodIps, parseWorkloadRef, predictModel, resolveDestination, type Destination, type MeshConfigSource, type PredictModel, type WorkloadRef } from './model.ts';
export { selectMinors, type SelectedMinor } from './versions.ts';
export { predict, GO_HINT, type Prediction, type PredictionRow, type PredictRequest, type VersionStatus, type DestinationPrediction } from './predict.ts';
export { evidenceOf, type Evidence } from './evidence.ts';
export { summarizeSidecar, diffSummaries, originOf, type Change, type SidecarSummary } from './changes.ts';
export { destinationsFromLog, type LogDestinations } from './from-logs.ts';
export { renderPrediction, predictionJson, addressLines, renderIncidentPrediction, incidentPredictionJson, type Paint } from './render.ts';
export { predictIncident, type IncidentPrediction } from './incident.ts';
